"""Webhooks over HTTP, delivered by the real workers to a real receiver that verifies each delivery with
the ``standardwebhooks`` library and parses it with the CloudEvents SDK; on SQLite and PostgreSQL.

The retry schedule is short here (two retries after 0.05 s) and the timeout half a second, so a receiver that never answers is failed within about two seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from disputes.bootstrap import Container, Deliveries, start_deliveries
from disputes.settings import Settings
from support import migrated_container
from support.http import Api, ManualClock
from support.receiver import FAST_DELIVERIES, Receiver, receiver_fixture  # noqa: F401

ATTEMPTS = 3
"""The first, and the two retries of FAST_DELIVERIES' schedule."""


@pytest.fixture
def container(database_url: str, clock: ManualClock) -> Iterator[Container]:
    settings = Settings(database_url=database_url, **FAST_DELIVERIES)
    with migrated_container(settings, clock) as built:
        yield built


@pytest.fixture
def deliveries(api: Api) -> Iterator[Deliveries]:
    started = start_deliveries(api.container, run=True)
    try:
        yield started
    finally:
        started.stop()


def subscribe(api: Api, receiver: Receiver, path: str, event_types: list[str] | None = None) -> dict[str, Any]:
    answer = api.post("adm1", "/webhooks", json={"url": receiver.url(path), "event_types": event_types or ["*"]})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    receiver.secrets[path] = created["secret"]
    return created


def deliveries_of(api: Api, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    answer = api.get("adm1", f"/webhooks/{webhook_id}/deliveries", params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_subscriber_receives_claim_opened_signed_as_the_standard_library_verifies(
    api: Api, receiver: Receiver, deliveries: Deliveries
) -> None:
    created = subscribe(api, receiver, "ok", ["ClaimOpened"])
    assert created["secret"].startswith("whsec_")
    claim = api.open_claim("b1")
    (got,) = receiver.wait_for("ok", 1)
    assert receiver.refused == []
    event = got.event
    assert event.get_specversion() == "1.0"
    assert event.get_type() == "disputes.ClaimOpened"
    assert event.get_source() == "/disputes"
    assert event.get_subject() == claim["id"]
    assert event.get_id() == got.headers["webhook-id"]
    assert got.headers["content-type"] == "application/cloudevents+json"
    assert got.data["claim_id"] == claim["id"]
    assert got.data["version"] == 1
    assert got.data["actor"] == {"role": "buyer", "id": "b1"}
    assert str(got.data["position"]) == event.get_extension("sequence")
    assert got.data["data"]["claimed_amount"] == {"amount": "80.00", "currency": "USD"}
    # Only the event types it asked for: the order the platform recorded first is not sent.
    time.sleep(0.2)
    assert [r.type for r in receiver.on("ok")] == ["disputes.ClaimOpened"]


def test_the_secret_is_shown_once_and_never_listed(api: Api, receiver: Receiver) -> None:
    created = subscribe(api, receiver, "ok")
    listed = api.get("adm1", "/webhooks").json()
    one = api.get("adm1", f"/webhooks/{created['id']}").json()
    assert [w["id"] for w in listed] == [created["id"]]
    assert created["secret"] not in str(listed) + str(one)
    assert "secret" not in listed[0] and "secret" not in one


def test_a_receiver_failing_twice_gets_every_event_once_and_in_order(
    api: Api, receiver: Receiver, deliveries: Deliveries
) -> None:
    created = subscribe(api, receiver, "flaky")
    claim = api.open_claim("b1")
    api.act("m1", claim["id"], "merchant-response", {"decision": "reject", "message": "Packed well."})
    api.act("b1", claim["id"], "messages", {"body": "It was not."})
    head = api.container.app.recorder.max_notification_id()
    got = receiver.wait_for("flaky", 4)  # OrderRecorded, ClaimOpened, MerchantResponded, MessagePosted
    time.sleep(0.3)
    got = receiver.on("flaky")
    # In order within the claim; the order's own event is another subject and may come before or after.
    of_claim = [r for r in got if r.data["claim_id"] == claim["id"]]
    assert [r.type for r in of_claim] == ["disputes.ClaimOpened", "disputes.MerchantResponded", "disputes.MessagePosted"]
    assert [r.position for r in of_claim] == sorted(r.position for r in of_claim)
    assert of_claim[-1].position == head
    assert sorted(r.type for r in got) == sorted(["disputes.OrderRecorded", *(r.type for r in of_claim)])
    assert len({r.webhook_id for r in got}) == 4
    assert all(receiver.attempts["flaky", r.webhook_id] == 3 for r in got)
    shown = deliveries_of(api, created["id"])
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in shown] == [("delivered", 3, 204)] * 4


def test_a_receiver_that_never_answers_is_failed_after_the_schedule_and_delays_no_other(
    api: Api, receiver: Receiver, deliveries: Deliveries
) -> None:
    silent = subscribe(api, receiver, "silent", ["ClaimOpened"])
    subscribe(api, receiver, "ok", ["ClaimOpened"])
    started = time.monotonic()
    for n in range(3):
        api.open_claim("b1", order_id=f"order-{n}")
    receiver.wait_for("ok", 3, timeout=2.0)
    assert time.monotonic() - started < 2.0  # not held behind the silent one's half-second timeouts

    def all_failed() -> bool:
        return len(deliveries_of(api, silent["id"], status="failed")) == 3

    wait_until(all_failed, timeout=15)
    failed = deliveries_of(api, silent["id"], status="failed")
    assert all(d["attempts"] == ATTEMPTS and d["last_error"] == "timed out" for d in failed)
    assert deliveries_of(api, silent["id"], status="pending") == []


def test_a_redelivery_sends_the_events_again_from_a_position_with_the_same_ids(
    api: Api, receiver: Receiver, deliveries: Deliveries
) -> None:
    created = subscribe(api, receiver, "ok")
    claim = api.open_claim("b1")
    first = receiver.wait_for("ok", 2)
    answer = api.post("adm1", f"/webhooks/{created['id']}/redelivery", json={"from_position": first[1].position})
    assert answer.status_code == 202, answer.text
    again = receiver.wait_for("ok", 3)
    assert again[2].webhook_id == first[1].webhook_id
    assert again[2].event.get_subject() == claim["id"]


def test_a_deleted_subscription_gets_nothing_more(api: Api, receiver: Receiver, deliveries: Deliveries) -> None:
    created = subscribe(api, receiver, "ok", ["ClaimOpened"])
    api.open_claim("b1", order_id="order-1")
    receiver.wait_for("ok", 1)
    answer = api.send("adm1", "DELETE", f"/webhooks/{created['id']}")
    assert answer.status_code == 200 and answer.json()["status"] == "deleted"
    time.sleep(0.2)
    api.open_claim("b1", order_id="order-2")
    time.sleep(0.5)
    assert len(receiver.on("ok")) == 1


def test_only_admins_manage_webhooks_and_an_unknown_one_is_not_found(api: Api, receiver: Receiver) -> None:
    Api.problem(api.post("plat1", "/webhooks", json={"url": receiver.url("ok")}), 403)
    missing = api.get("adm1", "/webhooks/wh_" + "0" * 32)
    assert Api.problem(missing, 404)["type"] == "/problems/webhook-not-found"
    bad = api.post("adm1", "/webhooks", json={"url": "ftp://example.com/x"})
    Api.problem(bad, 422)


def test_readiness_and_metrics_show_the_deliveries_by_status(
    api: Api, receiver: Receiver, deliveries: Deliveries
) -> None:
    created = subscribe(api, receiver, "ok", ["ClaimOpened"])
    api.open_claim("b1")
    receiver.wait_for("ok", 1)
    wait_until(lambda: deliveries_of(api, created["id"], status="delivered") != [])
    # /readyz and /metrics answer from samples at most DISPUTES_HEALTH_SAMPLE_SECONDS (1 s) old.
    wait_until(lambda: api.get(None, "/readyz").json()["events_out"]["webhook_deliveries"]["delivered"] == 1)
    ready = api.get(None, "/readyz").json()
    assert ready["events_out"] == {"webhook_deliveries": {"pending": 0, "delivered": 1, "failed": 0}, "nats": None}
    families = {f.name: f for f in text_string_to_metric_families(api.get(None, "/metrics").text)}
    delivered = [s.value for s in families["disputes_webhook_deliveries"].samples if s.labels == {"status": "delivered"}]
    assert delivered == [1]
    assert not any(name.startswith("disputes_nats_") for name in families)
