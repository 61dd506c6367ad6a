"""``disputes serve --workers 2`` on PostgreSQL, as processes: every serving process answers and shows a
command's effect, the engines run once (in the one background process), a serving process killed with
SIGKILL is replaced while the other serves, and /metrics counts the requests of every process."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from disputes.adapters.database import DatabaseUrl
from disputes.adapters.migrations import apply_migrations
from disputes.adapters.principals import PrincipalStore
from disputes.cli.workers import serving_workers
from disputes.domain.parties import Role
from disputes.settings import Settings
from support import order_record
from support.processes import assert_one_line_error, run_cli, server_process

pytestmark = pytest.mark.postgres
WORKERS = 2
SPREAD = 48
"""Requests sent at once, each on a connection of its own, so that every serving process takes some."""


@dataclass
class Server:
    process_id: int
    base_url: str
    metrics: Path
    tokens: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, timeout=30, headers={"Authorization": f"Bearer {self.tokens[who]}"}
        )

    def get_at_once(self, path: str, who: str = "b1") -> list[httpx.Response]:
        """``SPREAD`` GETs at once, each on a new connection (so the kernel hands them to any process)."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}

        def one(_: int) -> httpx.Response:
            return httpx.get(f"{self.base_url}{path}", headers=headers, timeout=30)

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(one, range(SPREAD)))

    def until_every_worker_answers(self, path: str, route: str) -> list[httpx.Response]:
        """``get_at_once`` until every serving process has answered ``route`` (the kernel may hand a
        whole burst to one of them on a busy machine): every answer."""
        answers: list[httpx.Response] = []
        deadline = time.monotonic() + 30
        while True:
            answers += self.get_at_once(path)
            if len(self.requests_by_process(route)) >= WORKERS:
                return answers
            assert time.monotonic() < deadline, "one serving process took every connection"

    def requests_by_process(self, route: str) -> dict[int, float]:
        """Requests to ``route`` each process counted, read from the files prometheus_client keeps."""
        counted: dict[int, float] = {}
        for path in self.metrics.glob("counter_*.db"):
            pid = int(path.stem.rsplit("_", 1)[1])
            for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
                _, sample, labels, _ = json.loads(key)
                if sample == "disputes_http_requests_total" and labels.get("route") == route:
                    counted[pid] = counted.get(pid, 0.0) + value
        return counted

    def serving(self) -> set[int]:
        """The serving processes, once every one of them has answered /healthz."""
        self.until_every_worker_answers("/healthz", "/healthz")
        return set(self.requests_by_process("/healthz"))

    def background(self) -> int:
        """The background process: the supervisor's child that neither serves nor tracks resources."""
        tracker = {pid for pid in self.children() if b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()}
        (background,) = self.children() - set(self.requests_by_process("/healthz")) - tracker
        return background

    def children(self) -> set[int]:
        found: set[int] = set()
        for task in Path(f"/proc/{self.process_id}/task").iterdir():
            found |= {int(pid) for pid in (task / "children").read_text().split()}
        return found


@contextmanager
def served(postgres_url: str, tmp_path: Path, **env: str) -> Iterator[Server]:
    apply_migrations(DatabaseUrl.parse(postgres_url))
    store = PrincipalStore(DatabaseUrl.parse(postgres_url))
    now = datetime.now(UTC)
    tokens = {
        who: store.add(role, who, now=now)[1]
        for who, role in (("plat1", Role.PLATFORM), ("b1", Role.BUYER), ("m1", Role.MERCHANT))
    }
    store.close()
    metrics = tmp_path / "metrics"
    with server_process(
        postgres_url, workers=WORKERS, PROMETHEUS_MULTIPROC_DIR=str(metrics), **env
    ) as (process, base_url):
        yield Server(process.pid, base_url, metrics, tokens)


def open_claim(server: Server, order_id: str) -> httpx.Response:
    order = order_record(buyer_id="b1", currency="CNY")
    order["placed_at"] = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    order["delivered_at"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with server.client("plat1") as platform:
        put = platform.put(f"/orders/{order_id}", json=order)
        assert put.status_code == 201, put.text
    with server.client("b1") as buyer:
        opened = buyer.post("/claims", json={
            "order_id": order_id, "kind": "refund_only", "reason": "damaged",
            "claimed_amount": "10.00", "description": "Broken on arrival.",
        })
    assert opened.status_code == 201, opened.text
    return opened


def missed(postgres_url: str, claim_id: str) -> int:
    """How many times the claim's deadline was recorded missed."""
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM disputes_events WHERE originator_id = %s AND topic LIKE %s",
            (claim_id, "%DeadlineMissed"),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_command_through_one_worker_shows_through_every_worker_once_the_views_reach_its_position(
    postgres_url: str, tmp_path: Path
) -> None:
    with served(postgres_url, tmp_path) as server:
        opened = open_claim(server, "o-seen")
        position = opened.headers["X-Disputes-Position"]
        answers = server.until_every_worker_answers(f"/claims?min_position={position}", "/claims")
        assert [a.status_code for a in answers] == [200] * len(answers)
        assert all(opened.json()["id"] in [c["id"] for c in a.json()["items"]] for a in answers)
        served_by = server.requests_by_process("/claims")
        assert len(served_by) == WORKERS, served_by
        assert sum(served_by.values()) == len(answers) + 1  # the list reads, and the POST


def test_metrics_through_any_worker_count_the_requests_of_every_worker(postgres_url: str, tmp_path: Path) -> None:
    with served(postgres_url, tmp_path) as server:
        answers = server.until_every_worker_answers("/healthz", "/healthz")
        assert [a.status_code for a in answers] == [200] * len(answers)
        served_by = server.requests_by_process("/healthz")
        assert len(served_by) == WORKERS, served_by
        line = 'disputes_http_requests_total{method="GET",route="/healthz",status="200"}'
        for answer in server.get_at_once("/metrics")[:8]:  # whichever process answers
            counted = [row for row in answer.text.splitlines() if row.startswith(line)]
            assert counted == [f"{line} {float(sum(served_by.values()))}"], counted


def test_metrics_with_several_workers_show_each_process_s_own_figures_labelled_by_pid_once_per_name(
    postgres_url: str, tmp_path: Path
) -> None:
    with served(postgres_url, tmp_path) as server:
        serving = server.serving()
        background = server.background()
        for answer in server.get_at_once("/metrics")[:4]:  # whichever process answers
            families = list(text_string_to_metric_families(answer.text))
            names = [family.name for family in families]
            assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
            found = {family.name: family for family in families}
            memory = {int(s.labels["pid"]): s.value for s in found["process_resident_memory_bytes"].samples}
            assert set(memory) == serving | {background}, memory
            assert all(value > 1_000_000 for value in memory.values()), memory
            cpu = {int(s.labels["pid"]) for s in found["process_cpu_seconds"].samples}
            assert cpu == set(memory)
            assert [s.labels["implementation"] for s in found["python_info"].samples] == ["CPython"]


def test_a_passed_deadline_fires_once_with_several_workers(postgres_url: str, tmp_path: Path) -> None:
    env = {"DISPUTES_MERCHANT_RESPONSE_HOURS": "0.0005", "DISPUTES_DEADLINE_POLL_SECONDS": "0.2"}  # 1.8 s
    with served(postgres_url, tmp_path, **env) as server:
        claim_id = open_claim(server, "o-late").json()["id"]
        deadline = time.monotonic() + 30
        while missed(postgres_url, claim_id) == 0:
            assert time.monotonic() < deadline, "the deadline never fired"
            time.sleep(0.2)
        time.sleep(3)  # many more rounds of the engine, had it run in every process
        assert missed(postgres_url, claim_id) == 1
        text = httpx.get(f"{server.base_url}/metrics", timeout=30).text
        outcomes = [row for row in text.splitlines() if row.startswith("disputes_automatic_outcomes_total{")]
        assert len(outcomes) == 1 and outcomes[0].endswith(" 1.0"), outcomes  # counted in the background


def test_engines_the_operator_runs_apart_are_left_to_that_worker_by_several_workers(
    postgres_url: str, tmp_path: Path
) -> None:
    env = {"DISPUTES_MERCHANT_RESPONSE_HOURS": "0.0005", "DISPUTES_DEADLINES_IN_PROCESS": "false"}
    with served(postgres_url, tmp_path, **env) as server:
        claim_id = open_claim(server, "o-apart").json()["id"]
        time.sleep(4)  # the deadline passed 2 s ago; neither a serving nor the background process fires it
        assert missed(postgres_url, claim_id) == 0
        fired = run_cli(postgres_url, "deadlines", "--once", DISPUTES_MERCHANT_RESPONSE_HOURS="0.0005")
        assert fired.returncode == 0, fired.stderr
        assert missed(postgres_url, claim_id) == 1


def test_the_background_process_killed_with_sigkill_is_started_again_and_fires_the_next_deadline(
    postgres_url: str, tmp_path: Path
) -> None:
    env = {"DISPUTES_MERCHANT_RESPONSE_HOURS": "0.0005", "DISPUTES_DEADLINE_POLL_SECONDS": "0.2"}
    with served(postgres_url, tmp_path, **env) as server:
        server.serving()
        background = server.background()
        os.kill(background, signal.SIGKILL)
        claim_id = open_claim(server, "o-after").json()["id"]
        deadline = time.monotonic() + 30
        while missed(postgres_url, claim_id) == 0:
            assert time.monotonic() < deadline, "no background process fired the deadline"
            time.sleep(0.2)
        assert background not in server.children()
        time.sleep(2)
        assert missed(postgres_url, claim_id) == 1


def test_a_worker_killed_with_sigkill_is_replaced_while_the_other_keeps_serving(
    postgres_url: str, tmp_path: Path
) -> None:
    with served(postgres_url, tmp_path) as server:
        server.until_every_worker_answers("/healthz", "/healthz")
        before = server.children()
        victim = max(server.requests_by_process("/healthz"))
        assert victim in before
        os.kill(victim, signal.SIGKILL)
        assert [a.status_code for a in server.get_at_once("/healthz")] == [200] * SPREAD
        deadline = time.monotonic() + 30
        while True:  # the supervisor starts another in its place, and it serves too
            server.get_at_once("/healthz")
            replacements = set(server.requests_by_process("/healthz")) - before
            if replacements:
                break
            assert time.monotonic() < deadline, "no serving process took the killed one's place"
        assert len(server.children() - before) == 1 and victim not in server.children()


def test_several_workers_on_sqlite_are_refused_in_one_line(sqlite_url: str) -> None:
    result = run_cli(sqlite_url, "serve", "--workers", "2")
    assert_one_line_error(result, "--workers 2 needs PostgreSQL")


def test_serve_defaults_to_the_cpu_count_on_postgres_and_one_process_on_sqlite(
    postgres_url: str, sqlite_url: str
) -> None:
    assert serving_workers(Settings(database_url=postgres_url), None) == len(os.sched_getaffinity(0))
    assert serving_workers(Settings(database_url=sqlite_url), None) == 1
    assert serving_workers(Settings(database_url=postgres_url, workers=3), None) == 3
    assert serving_workers(Settings(database_url=postgres_url, workers=3), 2) == 2  # --workers wins


def running(pid: int) -> bool:
    """Whether the process runs (a zombie, exited but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_supervisor_killed_with_sigkill_leaves_no_process_of_its_own_running(
    postgres_url: str, tmp_path: Path
) -> None:
    with served(postgres_url, tmp_path) as server:
        serving = server.serving()
        children = server.children()
        assert len(serving) == WORKERS and serving <= children
        os.kill(server.process_id, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while left := {pid for pid in children if running(pid)}:
            assert time.monotonic() < deadline, f"still running: {left}"
            time.sleep(0.2)
