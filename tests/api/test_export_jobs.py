"""POST /exports of a long period runs as a job, over HTTP on each store: a small period still answers
the zip; a period over the inline limit (lowered here) or ``Prefer: respond-async`` answers 202 and a
Location to poll until the bundle, which tools/verify_bundle.py (run as a process) accepts; the cap on
running exports answers 503 export-busy; a job is its asker's and any auditor's only; and a job whose
server process was killed (kill -9) ends failed, never stuck running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from disputes.api.app import create_app
from disputes.audit.chain import seal_new_events
from disputes.audit.keys import generate_key
from disputes.bootstrap import Container
from disputes.domain.claim import Claim
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import Windows
from disputes.settings import Settings
from support import CLAIMANT_FACTS, migrated_container
from support.audit import TOOL, busy_store
from support.audit import Clock as AuditClock
from support.http import START, Api, ManualClock, serving
from support.processes import server_process

PERIOD = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-30T00:00:00Z"}
INLINE_MAX = 10
"""The lowered inline limit: busy_store's 15 events are over it."""


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return generate_key(tmp_path / "keys").private_path


def exports_api(database_url: str, tmp_path: Path, key_file: Path, **settings: object) -> Iterator[Api]:
    chosen: dict[str, object] = {"export_inline_max_events": INLINE_MAX, **settings}
    config = Settings(
        database_url=database_url,
        signing_key_file=key_file,
        order_facts=CLAIMANT_FACTS,
        export_dir=tmp_path / "exports",
        **chosen,  # type: ignore[arg-type]
    )
    clock = ManualClock(START)
    with migrated_container(config, clock) as container:
        busy_store(container.app, AuditClock(START))
        with serving(create_app(container)) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            yield Api(http, container, clock)


@pytest.fixture
def api(database_url: str, tmp_path: Path, key_file: Path) -> Iterator[Api]:
    yield from exports_api(database_url, tmp_path, key_file)


def poll(api: Api, who: str, location: str) -> httpx.Response:
    """GET the job until it stops answering 202 (each 202 carries the job and Retry-After)."""
    deadline = time.monotonic() + 60
    while True:
        answer = api.get(who, location)
        if answer.status_code != 202:
            return answer
        assert answer.json()["status"] == "running" and answer.headers["Retry-After"]
        assert time.monotonic() < deadline, "the export job did not finish within 60 seconds"
        time.sleep(0.1)


def verified_by_the_tool(bundle: bytes, tmp_path: Path) -> str:
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    done = subprocess.run([sys.executable, str(TOOL), str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_period_within_the_inline_limit_still_answers_the_zip_at_once(
    database_url: str, tmp_path: Path, key_file: Path
) -> None:
    for api in exports_api(database_url, tmp_path, key_file, export_inline_max_events=1000, export_concurrency=1):
        answer = api.post("reg1", "/exports", json=PERIOD)
        again = api.post("aud1", "/exports", json=PERIOD)  # the first gave its place back when it answered

        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/zip"
        assert "attachment" in answer.headers["content-disposition"]
        assert len(answer.headers["x-audit-last-hash"]) == 64
        assert "OK bundle.zip" in verified_by_the_tool(answer.content, tmp_path)
        assert again.status_code == 200 and again.headers["x-audit-last-hash"] == answer.headers["x-audit-last-hash"]


def test_a_period_over_the_inline_limit_answers_202_then_the_bundle_which_verifies(
    api: Api, tmp_path: Path
) -> None:
    started = api.post("reg1", "/exports", json=PERIOD)

    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["Location"] == f"/exports/{job['id']}" == job["links"]["self"]
    assert started.headers["Retry-After"]
    assert job["status"] == "running" and job["period"] == {"from": PERIOD["from"], "to": PERIOD["to"]}
    assert job["created_at"].endswith("Z")
    ready = poll(api, "reg1", started.headers["Location"])
    assert ready.status_code == 200, ready.text
    assert ready.headers["content-type"] == "application/zip"
    assert "audit-trail-20261101T000000%2B0000-20261130T000000%2B0000.zip" in ready.headers["content-disposition"]
    assert ready.headers["x-audit-key-id"] and len(ready.headers["x-audit-last-hash"]) == 64
    assert "15 events" in verified_by_the_tool(ready.content, tmp_path)


def test_prefer_respond_async_makes_even_a_small_period_a_job(api: Api, tmp_path: Path) -> None:
    small = {"from": "2026-11-02T09:00:00Z", "to": "2026-11-02T12:00:00Z"}
    started = api.post("aud1", "/exports", json=small, headers={"Prefer": "wait=5, respond-async"})

    assert started.status_code == 202, started.text
    assert started.headers["Preference-Applied"] == "respond-async"
    ready = poll(api, "aud1", started.headers["Location"])
    assert ready.status_code == 200
    verified_by_the_tool(ready.content, tmp_path)
    claim_id = next(
        str(n.originator_id)
        for n in api.container.app.recorder.select_notifications(1, 100)
        if n.topic.endswith("ClaimOpened")
    )
    claim_export = api.post("aud1", "/exports", json={"claim_id": claim_id}, headers={"Prefer": "respond-async"})
    assert claim_export.status_code == 200  # a claim's export is always small: answered at once


def test_over_the_cap_of_running_exports_the_answer_is_export_busy_in_the_callers_language(
    database_url: str, tmp_path: Path, key_file: Path
) -> None:
    for api in exports_api(database_url, tmp_path, key_file, export_concurrency=1):
        api.container.export_jobs.start(Actor(Role.AUDITOR, "aud9"), period=(START, START + timedelta(days=1)))

        busy = api.post("reg1", "/exports", json=PERIOD)
        also_inline = api.post("reg1", "/exports", json={**PERIOD, "to": "2026-11-02T10:00:00Z"})
        in_chinese = api.post("reg1", "/exports", json=PERIOD, headers={"Accept-Language": "zh-CN"})

        body = Api.problem(busy, 503)
        assert body["type"].endswith("/problems/export-busy") and busy.headers["Retry-After"] == "5"
        assert "DISPUTES_EXPORT_CONCURRENCY=1" in body["detail"]
        assert Api.problem(also_inline, 503)["type"].endswith("/problems/export-busy")
        assert Api.problem(in_chinese, 503)["title"] == "正在进行的导出过多"


def test_a_job_is_its_askers_and_any_auditors_and_nobody_elses(api: Api) -> None:
    started = api.post("reg1", "/exports", json=PERIOD, headers={"Prefer": "respond-async"})
    location = started.headers["Location"]
    assert poll(api, "reg1", location).status_code == 200
    _, other_token = api.principals.add(Role.REGULATOR, "reg2", now=api.clock())
    stranger = api.http.get(location, headers={"Authorization": f"Bearer {other_token}"})
    merchant = api.get("m1", location)

    assert Api.problem(stranger, 404)["type"].endswith("/problems/export-not-found")
    assert Api.problem(merchant, 403)["type"].endswith("/problems/forbidden-role")
    assert api.get("aud1", location).status_code == 200
    assert Api.problem(api.get("reg1", "/exports/exp_nosuchjob"), 404)["type"].endswith("/problems/export-not-found")


def _fill(container: Container, events: int) -> None:
    """``events`` events (claims of five) saved 500 claims at a time, then sealed: a store whose
    export takes long enough to be caught running."""
    app, windows = container.app, Windows()
    buyer, merchant = Actor(Role.BUYER, "b1"), Actor(Role.MERCHANT, "m1")
    made = n = 0
    while made < events:
        claims = []
        for _ in range(500):
            at = START + timedelta(seconds=n)
            claim = Claim.open(
                actor=buyer, order_id=f"o-{n}", merchant_id="m1", kind="refund_only",  # type: ignore[arg-type]
                reason="damaged", order_amount="100.00", claimed_amount="80.00", currency="CNY",  # type: ignore[arg-type]
                delivered_at=START - timedelta(days=1), description=f"Order o-{n}: broken.", windows=windows, at=at,
            )
            claim.respond(actor=merchant, decision="offer", amount="50.00", message="Half?", at=at)  # type: ignore[arg-type]
            claim.post_message(actor=buyer, body="Not enough.", at=at)
            claim.answer_offer(actor=buyer, accept=False, at=at)
            claim.request_mediation(actor=buyer, reason="We disagree.", at=at)
            claims.append(claim)
            made, n = made + 5, n + 1
        app.save(*claims)
    seal_new_events(app, container.settings.database, batch=5000)


def test_a_job_whose_server_process_was_killed_ends_failed_never_stuck_running(
    database_url: str, tmp_path: Path, key_file: Path
) -> None:
    settings = Settings(database_url=database_url, order_facts=CLAIMANT_FACTS)
    with migrated_container(settings, ManualClock(START)) as container:
        _fill(container, 60_000)
        _, token = container.principals.add(Role.REGULATOR, "reg1", now=datetime.now(UTC))
    env = {
        "DISPUTES_SIGNING_KEY_FILE": str(key_file),
        "DISPUTES_EXPORT_DIR": str(tmp_path / "exports"),
        "DISPUTES_EXPORT_LEASE_SECONDS": "2",
        "DISPUTES_EXPORT_CONCURRENCY": "1",
        "DISPUTES_ORDER_FACTS": CLAIMANT_FACTS,
        "DISPUTES_PROJECTIONS_IN_PROCESS": "false",
        "DISPUTES_DEADLINES_IN_PROCESS": "false",
        "DISPUTES_DELIVERIES_IN_PROCESS": "false",
    }
    auth = {"Authorization": f"Bearer {token}"}
    with server_process(database_url, **env) as (server, base_url):
        started = httpx.post(f"{base_url}/exports", json=PERIOD, headers={**auth, "Prefer": "respond-async"}, timeout=30)
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        running = httpx.get(f"{base_url}{location}", headers=auth, timeout=30)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    assert running.status_code == 202, "the export finished before the kill: make the store larger"

    with server_process(database_url, **env) as (_, base_url):
        deadline = time.monotonic() + 30
        while (answer := httpx.get(f"{base_url}{location}", headers=auth, timeout=30)).status_code == 202:
            assert time.monotonic() < deadline, "the killed job is still running"
            time.sleep(0.5)
        again = httpx.post(f"{base_url}/exports", json={**PERIOD, "to": "2026-11-02T10:00:00Z"}, headers=auth, timeout=30)

    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/problems/export-interrupted")
    assert "ask for the export again" in answer.json()["detail"]
    assert again.status_code == 200  # the dead job holds no place among the running exports
    assert not list((tmp_path / "exports").glob("*.zip"))  # no bundle left for a job that failed


@pytest.mark.postgres
def test_with_several_serving_processes_any_of_them_answers_the_job_until_its_bundle(
    postgres_url: str, tmp_path: Path, key_file: Path
) -> None:
    settings = Settings(database_url=postgres_url, order_facts=CLAIMANT_FACTS)
    with migrated_container(settings, ManualClock(START)) as container:
        busy_store(container.app, AuditClock(START))
        _, token = container.principals.add(Role.REGULATOR, "reg1", now=datetime.now(UTC))
    env = {
        "DISPUTES_SIGNING_KEY_FILE": str(key_file),
        "DISPUTES_EXPORT_DIR": str(tmp_path / "exports"),
        "DISPUTES_EXPORT_INLINE_MAX_EVENTS": str(INLINE_MAX),
        "DISPUTES_ORDER_FACTS": CLAIMANT_FACTS,
    }
    auth = {"Authorization": f"Bearer {token}"}
    with server_process(postgres_url, workers=2, **env) as (_, base_url):
        started = httpx.post(f"{base_url}/exports", json=PERIOD, headers=auth, timeout=30)
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 60
        answers: list[httpx.Response] = []
        while not answers or answers[-1].status_code == 202:  # a new connection each time: any process
            assert time.monotonic() < deadline, "the export job did not finish within 60 seconds"
            answers.append(httpx.get(f"{base_url}{started.headers['Location']}", headers=auth, timeout=30))
            time.sleep(0.1)
        repeated = [httpx.get(f"{base_url}{started.headers['Location']}", headers=auth, timeout=30) for _ in range(6)]

    assert answers[-1].status_code == 200, answers[-1].text
    assert all(a.status_code == 200 and a.content == answers[-1].content for a in repeated)
    assert "15 events" in verified_by_the_tool(answers[-1].content, tmp_path)
