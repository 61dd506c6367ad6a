"""The event feed over HTTP: a CloudEvents batch in store order, and the same as Server-Sent Events,
resumed with Last-Event-ID, with heartbeats and a cap on the streams one principal holds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cloudevents.core.formats.json import JSONFormat

from disputes.bootstrap import Container
from disputes.settings import Settings
from support import migrated_container
from support.http import Api, ManualClock

SSE = {"Accept": "text/event-stream"}


@pytest.fixture
def container(database_url: str, clock: ManualClock) -> Iterator[Container]:
    settings = Settings(database_url=database_url, feed_heartbeat_seconds=0.2, feed_max_streams=2)
    with migrated_container(settings, clock) as built:
        yield built


def read_stream(api: Api, who: str, *, headers: dict[str, str] | None = None, **params: Any) -> list[dict[str, str]]:
    """The messages of one SSE stream, until the server ends it: {id, event, data} or {comment}."""
    sent = {**SSE, "Authorization": f"Bearer {api.token(who)}", **(headers or {})}
    messages: list[dict[str, str]] = []
    with api.http.stream("GET", "/events", params=params, headers=sent) as answer:
        assert answer.status_code == 200, answer.read()
        assert answer.headers["content-type"].startswith("text/event-stream")
        message: dict[str, str] = {}
        for line in answer.iter_lines():
            if line == "":
                if message:
                    messages.append(message)
                message = {}
            elif line.startswith(":"):
                messages.append({"comment": line[1:].strip()})
            else:
                name, _, value = line.partition(":")
                message[name] = value.strip()
    return [m for m in messages if "retry" not in m]


def test_the_batch_is_every_event_after_a_position_as_cloudevents_in_store_order(api: Api) -> None:
    claim = api.open_claim("b1")
    api.act("m1", claim["id"], "merchant-response", {"decision": "reject", "message": "No."})
    answer = api.get("aud1", "/events", params={"after": 0, "limit": 10})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/cloudevents-batch+json"
    batch = json.loads(answer.content)
    assert [e["type"] for e in batch] == ["disputes.OrderRecorded", "disputes.ClaimOpened", "disputes.MerchantResponded"]
    assert [int(e["sequence"]) for e in batch] == [1, 2, 3]
    parsed = JSONFormat().read(None, json.dumps(batch[1]).encode())
    assert parsed.get_subject() == claim["id"]
    after = api.get("plat1", "/events", params={"after": 2})
    assert [e["type"] for e in json.loads(after.content)] == ["disputes.MerchantResponded"]
    assert after.headers["X-Disputes-Position"] == "3"


def test_the_feed_is_for_auditors_and_the_platform_only(api: Api) -> None:
    for who in ("b1", "m1", "med1", "reg1", "adm1"):
        Api.problem(api.get(who, "/events"), 403)
    Api.problem(api.get("aud1", "/events", params={"limit": 5000}), 422)


def test_a_stream_resumed_with_last_event_id_goes_on_after_the_last_event_it_got(api: Api) -> None:
    for n in range(3):
        api.open_claim("b1", order_id=f"order-{n}")  # 6 events
    first = read_stream(api, "aud1", limit=4)
    assert [int(m["id"]) for m in first] == [1, 2, 3, 4]
    assert first[1]["event"] == "disputes.ClaimOpened"
    assert json.loads(first[1]["data"])["sequence"] == "2"
    rest = read_stream(api, "aud1", headers={"Last-Event-ID": first[-1]["id"]}, limit=2)
    assert [int(m["id"]) for m in rest] == [5, 6]


def test_an_idle_stream_sends_heartbeats_and_then_the_next_event(api: Api) -> None:
    sent = {**SSE, "Authorization": f"Bearer {api.token('plat1')}"}
    seen: list[str] = []
    with api.http.stream("GET", "/events", params={"limit": 1}, headers=sent) as answer:
        for line in answer.iter_lines():
            seen.append(line)
            if line == ": heartbeat" and seen.count(": heartbeat") == 2:
                api.open_claim("b1")
    assert seen.count(": heartbeat") >= 2
    assert "id: 1" in seen


def test_a_principal_holds_only_so_many_streams_at_once(api: Api) -> None:
    api.open_claim("b1")
    sent = {**SSE, "Authorization": f"Bearer {api.token('aud1')}"}
    with httpx.Client(base_url=str(api.http.base_url), timeout=10) as other:
        with api.http.stream("GET", "/events", headers=sent) as one, other.stream("GET", "/events", headers=sent) as two:
            assert one.status_code == two.status_code == 200
            third = api.get("aud1", "/events", headers=SSE)
            assert Api.problem(third, 429)["type"] == "/problems/too-many-streams"
            assert api.get("plat1", "/events", params={"limit": 1}, headers=SSE).status_code == 200


def test_a_closed_stream_gives_its_slot_back(api: Api) -> None:
    api.open_claim("b1")
    for _ in range(3):  # more streams, one after another, than the cap allows at once
        assert [m["id"] for m in read_stream(api, "aud1", limit=1)] == ["1"]
    sent = {**SSE, "Authorization": f"Bearer {api.token('aud1')}"}
    with httpx.Client(base_url=str(api.http.base_url), timeout=10) as other:
        with api.http.stream("GET", "/events", headers=sent) as one, other.stream("GET", "/events", headers=sent) as two:
            assert one.status_code == two.status_code == 200  # both slots taken, then both cut off
    deadline = time.monotonic() + 5
    while (answer := api.get("aud1", "/events", params={"limit": 1}, headers=SSE)).status_code == 429:
        assert time.monotonic() < deadline, "the cut-off stream kept its slot"
        time.sleep(0.1)
    assert answer.status_code == 200
