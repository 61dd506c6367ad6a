"""``Idempotency-Key`` over real HTTP: a retry gets the first answer again, and nothing is recorded twice.

A key belongs to the principal that sends it; the request it was first used for is its method, path,
If-Match and body. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.responses import JSONResponse

from disputes.adapters.idempotency import Answer, fingerprint
from disputes.adapters.keyed_runs import Attempt
from disputes.api.app import create_app
from disputes.api.auth import permissions
from disputes.api.auth.permissions import BUYER, Rule
from disputes.api.middleware import idempotency as middleware
from disputes.bootstrap import Container
from disputes.domain.parties import Actor, Role
from support.http import Api, AppSwitch, ManualClock, race

KEPT = ("content-type", "etag", "x-disputes-position")


def keyed(key: str, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


def assert_replayed(first: httpx.Response, retry: httpx.Response, *headers: str) -> None:
    """The retry is the first answer again, byte for byte, and says it is a replay."""
    assert retry.status_code == first.status_code
    assert retry.content == first.content
    for name in headers:
        assert retry.headers[name] == first.headers[name], name
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_a_retry_gets_the_first_answer_byte_for_byte_and_the_history_is_unchanged(api: Api) -> None:
    claim = api.open_claim()
    messages = f"/claims/{claim['id']}/messages"
    first = api.post("b1", messages, json={"body": "Where is my refund?"}, headers=keyed("msg-1"))
    assert first.status_code == 200, first.text
    history = api.history(claim["id"])

    for _ in range(3):
        retry = api.post("b1", messages, json={"body": "Where is my refund?"}, headers=keyed("msg-1"))
        assert_replayed(first, retry, *KEPT)
    assert api.history(claim["id"]) == history
    assert [entry["type"] for entry in history] == ["ClaimOpened", "MessagePosted"]


def test_opening_a_claim_twice_with_one_key_opens_one_claim(api: Api) -> None:
    body = {
        "order_id": "order-9",
        "merchant_id": "m1",
        "kind": "refund_only",
        "reason": "damaged",
        "order_amount": "30.00",
        "claimed_amount": "30.00",
        "currency": "EUR",
        "delivered_at": None,
        "description": "Broken on arrival.",
    }
    api.record_order_of("b1", body)
    first = api.post("b1", "/claims", json=body, headers=keyed("open-order-9"))
    retry = api.post("b1", "/claims", json=body, headers=keyed("open-order-9"))

    assert first.status_code == 201, first.text
    assert_replayed(first, retry, "location", *KEPT)
    assert api.container.app.recorder.max_notification_id() == 2  # the platform's order, and one claim
    assert api.event_types(first.json()["id"]) == ["ClaimOpened"]


def test_the_same_key_for_another_request_is_refused_with_422_and_records_nothing(api: Api) -> None:
    claim = api.open_claim()
    on = f"/claims/{claim['id']}"
    assert api.post("b1", f"{on}/messages", json={"body": "One."}, headers=keyed("k-1")).status_code == 200

    others: list[tuple[str, dict[str, Any]]] = [
        (f"{on}/messages", {"json": {"body": "Two."}}),  # another body
        (f"{on}/messages", {"json": {"body": "One."}, "headers": {"If-Match": '"2"'}}),  # a condition
        (f"{on}/withdrawal", {"json": {"body": "One."}}),  # another path
    ]
    for path, kwargs in others:
        headers = keyed("k-1", **kwargs.pop("headers", {}))
        problem = Api.problem(api.post("b1", path, headers=headers, **kwargs), 422)
        assert problem["type"] == "/problems/idempotency-key-reused", path
    assert api.event_types(claim["id"]) == ["ClaimOpened", "MessagePosted"]


def test_two_principals_may_use_the_same_key(api: Api) -> None:
    claim = api.open_claim()
    messages = f"/claims/{claim['id']}/messages"
    buyer = api.post("b1", messages, json={"body": "Hello."}, headers=keyed("shared"))
    merchant = api.post("m1", messages, json={"body": "Hello."}, headers=keyed("shared"))

    assert (buyer.status_code, merchant.status_code) == (200, 200)
    assert "Idempotent-Replayed" not in merchant.headers
    history = api.history(claim["id"])
    assert [(e["type"], e["actor"]["id"]) for e in history[1:]] == [
        ("MessagePosted", "b1"),
        ("MessagePosted", "m1"),
    ]


def test_two_concurrent_requests_with_one_key_run_once(api: Api) -> None:
    claim = api.open_claim()
    for round_ in range(1, 4):
        body = {"body": f"Sent twice by a nervous client ({round_})."}
        same = ("b1", claim["id"], "messages", body, keyed(f"race-{round_}"))
        answers = race(api, [same, same])

        assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
        assert answers[0].content == answers[1].content
        assert sorted("Idempotent-Replayed" in answer.headers for answer in answers) == [False, True]
        assert api.event_types(claim["id"]) == ["ClaimOpened"] + ["MessagePosted"] * round_


def test_a_duplicate_that_arrives_while_the_first_runs_waits_for_its_answer(api: Api) -> None:
    claim = api.open_claim()
    path = f"/claims/{claim['id']}/messages"
    content = b'{"body": "Slow."}'
    buyer = Actor(Role.BUYER, "b1")
    running = api.container.idempotency.begin(
        buyer, "slow-1", fingerprint("POST", path, None, content), api.clock()
    )
    assert isinstance(running, Attempt)
    answers: list[httpx.Response] = []
    duplicate = threading.Thread(
        target=lambda: answers.append(
            api.post(
                "b1", path, content=content, headers=keyed("slow-1", **{"Content-Type": "application/json"})
            )
        )
    )
    duplicate.start()
    time.sleep(0.3)  # the duplicate is waiting now
    first = Answer(200, (("content-type", "application/json"), ("etag", '"9"')), b'{"first": "answer"}')
    api.container.idempotency.finish(running, first, api.clock())
    duplicate.join(timeout=10)

    assert [(a.status_code, a.content, a.headers["ETag"]) for a in answers] == [(200, first.body, '"9"')]
    assert answers[0].headers["Idempotent-Replayed"] == "true"
    assert api.event_types(claim["id"]) == ["ClaimOpened"]


def test_a_refusal_is_replayed_too_even_once_the_command_would_pass(api: Api) -> None:
    claim = api.open_claim()
    refunds = f"/claims/{claim['id']}/refunds"
    refund = {"amount": "80.00", "payment_reference": "PAY-1"}
    first = api.post("m1", refunds, json=refund, headers=keyed("refund-1"))
    Api.problem(first, 409, claim_id=claim["id"])  # nothing is agreed yet

    api.act("m1", claim["id"], "merchant-response", {"decision": "accept"})
    retry = api.post("m1", refunds, json=refund, headers=keyed("refund-1"))
    assert_replayed(first, retry, "content-type")
    assert api.event_types(claim["id"]) == ["ClaimOpened", "MerchantResponded"]
    fresh = api.post("m1", refunds, json=refund, headers=keyed("refund-2"))
    assert fresh.status_code == 200, fresh.text


@pytest.mark.parametrize(
    "key",
    [b"", b"two words", b"tab\tinside", "cl\u00e9".encode(), b"x" * 201],
    ids=["empty", "space", "tab", "non-ascii", "too-long"],
)
def test_a_malformed_key_gets_422_and_records_nothing(api: Api, key: bytes) -> None:
    claim = api.open_claim()
    answer = api.post(
        "b1", f"/claims/{claim['id']}/messages", json={"body": "Hi."}, headers={"Idempotency-Key": key}
    )
    problem = Api.problem(answer, 422)
    assert problem["type"] == "/problems/invalid-idempotency-key"
    assert api.event_types(claim["id"]) == ["ClaimOpened"]


def test_a_key_of_200_visible_characters_is_fine_but_two_keys_are_not(api: Api) -> None:
    claim = api.open_claim()
    messages = f"/claims/{claim['id']}/messages"
    longest = "".join(chr(c) for c in range(0x21, 0x7F)) * 3
    assert api.post("b1", messages, json={"body": "Hi."}, headers=keyed(longest[:200])).status_code == 200
    two = httpx.Headers([("Idempotency-Key", "a"), ("Idempotency-Key", "b")])
    problem = Api.problem(api.post("b1", messages, json={"body": "Hi again."}, headers=two), 422)
    assert problem["type"] == "/problems/invalid-idempotency-key"
    assert api.event_types(claim["id"]) == ["ClaimOpened", "MessagePosted"]


def test_authentication_comes_before_the_key(api: Api) -> None:
    claim = api.open_claim()
    for key in ("fine", ""):
        answer = api.post(None, f"/claims/{claim['id']}/messages", json={"body": "Hi."}, headers=keyed(key))
        Api.problem(answer, 401)
    assert api.event_types(claim["id"]) == ["ClaimOpened"]


def test_a_kept_answer_expires_after_the_ttl_and_the_key_runs_again(api: Api) -> None:
    claim = api.open_claim()
    messages = f"/claims/{claim['id']}/messages"
    ttl_hours = api.container.settings.idempotency_ttl_hours
    assert api.post("b1", messages, json={"body": "Ping."}, headers=keyed("ping")).status_code == 200
    api.clock.advance(hours=ttl_hours - 0.01)
    assert api.post("b1", messages, json={"body": "Ping."}, headers=keyed("ping")).headers[
        "Idempotent-Replayed"
    ]
    api.clock.advance(hours=0.02)
    again = api.post("b1", messages, json={"body": "Ping."}, headers=keyed("ping"))

    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert api.event_types(claim["id"]) == ["ClaimOpened", "MessagePosted", "MessagePosted"]


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(middleware, "WAIT_SECONDS", 0.3)
    yield


def test_a_duplicate_of_a_request_still_running_gets_409_with_retry_after(api: Api, short_wait: None) -> None:
    claim = api.open_claim()
    path = f"/claims/{claim['id']}/messages"
    content = b'{"body": "Slow."}'
    # The first run of this request has begun (its in-flight row is written) and has not answered yet.
    running = api.container.idempotency.begin(
        Actor(Role.BUYER, "b1"), "slow-1", fingerprint("POST", path, None, content), api.clock()
    )
    assert isinstance(running, Attempt)

    answer = api.post(
        "b1", path, content=content, headers=keyed("slow-1", **{"Content-Type": "application/json"})
    )
    problem = Api.problem(answer, 409)
    assert problem["type"] == "/problems/idempotency-key-in-flight"
    assert int(answer.headers["Retry-After"]) >= 1
    assert api.event_types(claim["id"]) == ["ClaimOpened"]


def test_without_the_header_every_post_runs(api: Api) -> None:
    claim = api.open_claim()
    messages = f"/claims/{claim['id']}/messages"
    for _ in range(2):
        answer = api.post("b1", messages, json={"body": "Again."})
        assert answer.status_code == 200 and "Idempotent-Replayed" not in answer.headers
    assert api.event_types(claim["id"]) == ["ClaimOpened", "MessagePosted", "MessagePosted"]


def test_a_server_error_is_not_kept_and_a_retry_runs_again(
    server: tuple[AppSwitch, str], container: Container, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[int] = []

    def flaky() -> JSONResponse:
        """Fails (an exception, then a 503), and works the third time."""
        runs.append(len(runs) + 1)
        if len(runs) == 1:
            raise RuntimeError("the first run breaks")
        if len(runs) == 2:
            return JSONResponse({"detail": "unavailable"}, status_code=503)
        return JSONResponse({"run": len(runs)}, status_code=201)

    app = create_app(container)
    app.add_api_route("/test/flaky", flaky, methods=["POST"])
    monkeypatch.setitem(permissions.TABLE, ("POST", "/test/flaky"), [Rule("POST", "/test/flaky", BUYER)])
    _, token = container.principals.add(Role.BUYER, "b1", now=clock())
    switch, base_url = server
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "flaky-1"}
    with switch.mounted(app):  # a connection per request: uvicorn drops one whose request raised
        statuses = [httpx.post(f"{base_url}/test/flaky", headers=headers).status_code for _ in range(4)]
        last = httpx.post(f"{base_url}/test/flaky", headers=headers)

    assert statuses == [500, 503, 201, 201]
    assert runs == [1, 2, 3]
    assert (last.status_code, last.json(), last.headers["Idempotent-Replayed"]) == (201, {"run": 3}, "true")
