"""Faults under load, against ``disputes serve`` as a process: PostgreSQL stopped and started again, and
the server killed with SIGKILL. Nothing acknowledged is lost, requests fail fast while the database is
away, and serving, the views and the engines come back by themselves."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from disputes.adapters.idempotency import IN_FLIGHT_LEASE
from support.prepared import prepare
from support.processes import free_port, server_process

PROBLEM = "application/problem+json"
DATABASE_TIMEOUT = 5.0
"""The default DISPUTES_DATABASE_TIMEOUT_SECONDS: the bound on a request while the database is away."""
SLACK = 1.5
"""What a loaded two-core machine adds to a bound."""


@dataclass(frozen=True)
class Sent:
    key: str
    started: float
    ended: float
    status: int | None
    """None: no answer (the connection broke)."""
    content_type: str = ""
    retry_after: str | None = None


@dataclass
class Load:
    """Threads posting messages, each on a claim of its own, each with an Idempotency-Key of its own
    (the message's body is its key, so the store tells which were recorded)."""

    base_url: str
    token: str
    claims: list[str]
    sent: list[Sent] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, claim_id: str) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            i = 0
            while not self.stop.is_set():
                key = f"{claim_id}-{i}"
                i += 1
                started = time.monotonic()
                try:
                    answer = post_message(http, self.token, claim_id, key)
                except httpx.TransportError as error:
                    self.sent.append(Sent(key, started, time.monotonic(), None, repr(error)))
                    time.sleep(0.05)
                    continue
                self.sent.append(Sent(key, started, time.monotonic(), answer.status_code,
                                      answer.headers.get("content-type", ""), answer.headers.get("retry-after")))

    @contextmanager
    def running(self) -> Iterator[Load]:
        threads = [threading.Thread(target=self.run, args=(c,), daemon=True) for c in self.claims]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(timeout=60)

    def acknowledged(self) -> set[str]:
        return {s.key for s in self.sent if s.status is not None and 200 <= s.status < 300}


def post_message(http: httpx.Client, token: str, claim_id: str, key: str) -> httpx.Response:
    return http.post(f"/claims/{claim_id}/messages", json={"body": key},
                     headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})


def recorded_messages(base_url: str, token: str, claim_ids: list[str]) -> dict[str, int]:
    """How often each message body was recorded, from the claims' histories."""
    counts: dict[str, int] = {}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for claim_id in claim_ids:
            history = http.get(f"/claims/{claim_id}/history", headers={"Authorization": f"Bearer {token}"})
            assert history.status_code == 200, history.text
            for event in history.json():
                if event["type"] == "MessagePosted":
                    counts[event["data"]["body"]] = counts.get(event["data"]["body"], 0) + 1
    return counts


def until(what: str, within: float, check: object) -> float:
    """Seconds until ``check()`` is true; fails after ``within`` seconds."""
    started = time.monotonic()
    while True:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"{what}: not within {within} s"
        time.sleep(0.1)


def timed_get(base_url: str, path: str) -> tuple[int, float, httpx.Response]:
    started = time.monotonic()
    answer = httpx.get(base_url + path, timeout=30)
    return answer.status_code, time.monotonic() - started, answer


@pytest.mark.postgres
@pytest.mark.slow
def test_with_postgresql_away_requests_fail_fast_and_serving_views_and_engines_resume_by_themselves(
    throwaway_cluster: object,
) -> None:
    cluster = throwaway_cluster
    with cluster.server.connect() as admin:  # type: ignore[attr-defined]
        admin.execute("CREATE DATABASE disputes")
    url = cluster.server.url.rsplit("/", 1)[0] + "/disputes"  # type: ignore[attr-defined]
    workers = 4
    prepared = prepare(url, claims=workers + 4)  # more requests than worker threads: every one waits
    env = {
        "DISPUTES_WORKER_THREADS": str(workers),
        "DISPUTES_DEADLINE_POLL_SECONDS": "0.5",
        "DISPUTES_MERCHANT_RESPONSE_HOURS": "0.0005",  # 1.8 s, for claims the server opens
    }
    with server_process(url, **env) as (_, base), Load(base, prepared.buyer_token, prepared.claims).running() as load:
        time.sleep(1.5)
        cluster.pause()  # type: ignore[attr-defined]
        down = time.monotonic()
        time.sleep(0.5)
        for _ in range(4):  # every worker thread is now waiting on the database, or failing fast
            status, seconds, _answer = timed_get(base, "/healthz")
            assert (status, seconds < 1.0) == (200, True), seconds
            status, seconds, answer = timed_get(base, "/readyz")
            assert (status, seconds < 1.0) == (503, True), seconds
            assert answer.headers["content-type"] == PROBLEM and "retry-after" in answer.headers
            time.sleep(1.0)
        cluster.resume()  # type: ignore[attr-defined]
        up = time.monotonic()

        headers = {"Authorization": f"Bearer {prepared.buyer_token}"}
        opened: dict[str, object] = {}

        def a_command_is_served() -> bool:
            answer = httpx.post(base + "/claims", headers=headers, timeout=30, json={
                "order_id": prepared.spare_orders[0], "kind": "refund_only", "reason": "damaged",
                "claimed_amount": "5.00", "description": "Scratched."})
            if answer.status_code == 201:
                opened.update(answer.json())
            return answer.status_code == 201

        until("a command served after the restart", 5.0, a_command_is_served)

        target: list[int] = []

        def views_caught_up() -> bool:  # the load goes on writing, so lag is rarely 0: wait for a fixed head
            answer = httpx.get(base + "/readyz", timeout=30)
            if answer.status_code != 200:
                return False
            head = answer.json()["store"]["head_position"]
            target[:] = target or [head]
            return all(head - lag >= target[0] for lag in answer.json()["projections_lag"].values())

        until("the views caught up after the restart", 10.0 - (time.monotonic() - up), views_caught_up)

        def deadline_engine_acted() -> bool:
            history = httpx.get(f"{base}/claims/{opened['id']}/history", headers=headers, timeout=30)
            return any(e["type"] == "DeadlineMissed" for e in history.json())

        until("the deadline engine acted after the restart", 10.0 - (time.monotonic() - up) + 2.0,
              deadline_engine_acted)  # + the claim's own 1.8 s deadline
        time.sleep(0.5)

    during = [s for s in load.sent if s.started > down + 0.2 and s.ended < up]
    assert during, "no request was sent while the database was away"
    assert all(s.status == 503 for s in during), {(s.status, s.content_type) for s in during}
    assert all(s.content_type == PROBLEM and s.retry_after for s in during)
    assert max(s.ended - s.started for s in load.sent) < DATABASE_TIMEOUT + SLACK
    assert not [s for s in load.sent if s.status == 500]
    assert load.acknowledged()
    with server_process(url) as (_, base):
        recorded = recorded_messages(base, prepared.buyer_token, prepared.claims)
    lost = {key: recorded.get(key, 0) for key in load.acknowledged() if recorded.get(key) != 1}
    assert lost == {}  # nothing acknowledged lost, nothing recorded twice


@pytest.mark.slow
def test_after_a_kill_9_under_load_every_acknowledged_command_is_recorded_once_and_retries_run(
    database_url: str,
) -> None:
    prepared = prepare(database_url, claims=4)
    port = free_port()
    with server_process(database_url, port=port) as (server, base):
        with Load(base, prepared.buyer_token, prepared.claims).running() as load:
            until("some commands acknowledged", 20.0, lambda: len(load.acknowledged()) >= 20)
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
    acknowledged = load.acknowledged()
    unanswered = {s.key: s for s in load.sent if s.status is None}

    with server_process(database_url, port=port) as (_, base), httpx.Client(base_url=base, timeout=30) as http:
        restarted = time.monotonic()
        replayed, ran, answer_lost = set(), set(), set()
        for sent in [*load.sent]:
            claim_id = sent.key.rsplit("-", 1)[0]
            while True:
                answer = post_message(http, prepared.buyer_token, claim_id, sent.key)
                if answer.status_code != 409 or answer.json()["type"] != "/problems/idempotency-key-in-flight":
                    break
                assert time.monotonic() - restarted < IN_FLIGHT_LEASE.total_seconds() + 10
            if answer.status_code == 409:  # recorded, then killed before it answered: never run again
                assert answer.json()["type"] == "/problems/idempotency-answer-lost", answer.text
                answer_lost.add(sent.key)
                continue
            assert answer.status_code == 200, answer.text
            (replayed if answer.headers.get("idempotent-replayed") == "true" else ran).add(sent.key)
        assert acknowledged <= replayed  # an acknowledged command is answered again, never run again
        assert answer_lost <= set(unanswered)
        recorded = recorded_messages(base, prepared.buyer_token, prepared.claims)

    lost = {key: recorded.get(key, 0) for key in acknowledged if recorded.get(key) != 1}
    assert lost == {}
    # Every command sent is recorded exactly once: those that died unanswered too, whether the kill
    # fell before their commit (the retry ran), or after it (the retry answered idempotency-answer-lost).
    twice = {key: count for key, count in recorded.items() if count != 1}
    assert twice == {}, {s.key: (s.status, s.content_type) for s in load.sent if s.key in twice}
    assert set(recorded) == {s.key for s in load.sent}


@pytest.mark.postgres
def test_the_readiness_probe_answers_at_once_when_the_server_is_away(throwaway_cluster: object) -> None:
    """The probe itself, without a server: no, at once, then yes again once the database is back."""
    import asyncio

    from disputes.adapters.database import DatabaseUrl
    from disputes.adapters.probe import ReadinessProbe

    cluster = throwaway_cluster
    probe = ReadinessProbe(DatabaseUrl.parse(cluster.server.url))  # type: ignore[attr-defined]

    async def ask() -> tuple[bool, float]:
        started = time.monotonic()
        return await probe.answers(), time.monotonic() - started

    async def scenario() -> list[tuple[bool, float]]:
        answers = [await ask()]
        cluster.pause()  # type: ignore[attr-defined]
        answers.append(await ask())
        cluster.resume()  # type: ignore[attr-defined]
        answers.append(await ask())
        await probe.close()
        return answers

    (up, _), (away, away_seconds), (back, _) = asyncio.run(scenario())
    assert (up, away, back) == (True, False, True)
    assert away_seconds < 1.0
    with psycopg.connect(cluster.server.url, connect_timeout=5):  # type: ignore[attr-defined]
        pass
