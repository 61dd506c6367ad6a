"""Benchmark (not a test): a long claim's history and timeline, read whole (as before paging) against
one page, in one run, on SQLite and on PostgreSQL.

    .venv/bin/python bench/history.py [--events 2000] [--n 30] [--stores sqlite,postgres]
                                      [--server-url postgresql://USER@HOST:PORT/postgres]

Records one claim of ``--events`` events (its opening, then messages; the bench's policy lifts the
message cap), runs the timeline view up to it, and times ``--n`` rounds of each read below, in turns,
each doing what its request does in process (the access check's load of the claim, the store or view
read, the JSON the route answers; no network):

- **reference** (the code before paging): the check replays the whole claim, the history reads every
  event (``?diff=true``: and reads and replays them all again), the timeline selects and words every
  entry;
- **ours**: the check reads the claim's opening alone, the history one page (``limit`` 200, the
  default) from the store (``?diff=true``: one read from the first event to the page's end, replayed
  once), the timeline one page of the view (``LIMIT``).

The first row is the access check alone (the whole claim replayed against its first event), the part
of each reference that paging the store's reads does not touch.

Prints the median and p95 in milliseconds, and the ratio reference / ours of the medians. SQLite uses a
temporary file; PostgreSQL a throwaway database on ``--server-url``, dropped at the end.
"""

from __future__ import annotations

import argparse
import getpass
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, and its projections.py would hide the
# projections package: it goes last instead (auth.py is still found there).
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]
from auth import throwaway_database  # noqa: E402

from disputes.adapters.migrations import apply_migrations  # noqa: E402
from disputes.adapters.policy_file import default_policy_text  # noqa: E402
from disputes.api.schemas.history import HistoryChangesEntry, HistoryEntry  # noqa: E402
from disputes.application.history import DEFAULT_PAGE, history_page, replay  # noqa: E402
from disputes.bootstrap import Container, bootstrap, build_runner  # noqa: E402
from disputes.domain.claim import Claim  # noqa: E402
from disputes.domain.parties import Actor, Role  # noqa: E402
from disputes.settings import Settings  # noqa: E402
from projections.store import ViewStore  # noqa: E402
from projections.timeline import claim_timeline  # noqa: E402

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BUYER, MERCHANT = Actor(Role.BUYER, "b1"), Actor(Role.MERCHANT, "m1")
AUDITOR = Actor(Role.AUDITOR, "aud1")
SAVE_EVERY = 500
WHOLE = 10**9
"""A limit no claim reaches: the timeline's select as it was before paging, every entry."""


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _json(entries: list[Any]) -> bytes:
    return json.dumps([e.model_dump(mode="json") for e in entries]).encode()


# --- the reference: the reads as they were before paging -------------------------------------------


def history_before(container: Container, claim_id: str, *, diff: bool) -> bytes:
    app = container.app
    claim = app.load_claim(claim_id)  # the access check: the whole claim, replayed
    records = app.history(AUDITOR, claim)  # every event
    if not diff:
        return _json([HistoryEntry.of(r) for r in records])
    steps = {s.record.version: s.changes for s in replay(app.events.get(claim.id, lte=records[-1].version))}
    entries = []
    for record in records:
        entry = record.as_dict()
        del entry["claim_id"]
        entry["changes"] = steps.get(record.version, {})
        entries.append(HistoryChangesEntry.model_validate(entry))
    return _json(entries)


def timeline_before(container: Container, views: ViewStore, claim_id: str) -> int:
    container.app.load_claim(claim_id)  # the access check
    with views.reading() as conn:  # every entry, each told to the reader, as before paging
        found = claim_timeline(conn, AUDITOR, claim_id, limit=WHOLE)
    assert found is not None
    return len(found.entries)


# --- ours ------------------------------------------------------------------------------------------


def history_now(container: Container, claim_id: str, *, diff: bool, after: int = 0) -> bytes:
    app = container.app
    claim = app.load_claim(claim_id, version=1)  # the access check of a parties_only rule
    page = history_page(app, AUDITOR, claim, after_version=after, limit=DEFAULT_PAGE, diff=diff)
    model = HistoryChangesEntry if diff else HistoryEntry
    return _json([model.model_validate(e) for e in page.entries])


def timeline_now(container: Container, views: ViewStore, claim_id: str) -> int:
    container.app.load_claim(claim_id, version=1)
    with views.reading() as conn:
        found = claim_timeline(conn, AUDITOR, claim_id, limit=DEFAULT_PAGE)
    assert found is not None
    return len(found.entries)


# --- the run ---------------------------------------------------------------------------------------


def record_claim(container: Container, events: int, clock: Clock) -> str:
    app = container.app
    claim = Claim.open(
        actor=BUYER, order_id="o-long", merchant_id="m1", kind="refund_only", reason="damaged",  # type: ignore[arg-type]
        order_amount="100.00", claimed_amount="80.00", currency="USD", delivered_at=START - timedelta(days=2),
        description="Broken.", windows=app.windows, at=START, policy=app.policy,
    )
    for n in range(events - 1):
        clock.now = START + timedelta(seconds=n + 1)
        claim.post_message(actor=BUYER if n % 2 else MERCHANT, body=f"message {n}", at=clock.now, policy=app.policy)
        if (n + 1) % SAVE_EVERY == 0:
            app.save(claim)
    app.save(claim)
    runner = build_runner(container, ["timeline"])
    try:
        runner.run_until_caught_up()
    finally:
        runner.close()
    return str(claim.id)


def timed(n: int, calls: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float]]:
    """Median and p95 (ms) of each call, the calls taking turns."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(n):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {
        name: (statistics.median(s), sorted(s)[max(0, int(len(s) * 0.95) - 1)]) for name, s in samples.items()
    }


@contextmanager
def store(kind: str, server_url: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench.sqlite"
    else:
        with throwaway_database(server_url) as url:
            yield url


def run(url: str, events: int, n: int, policy: Path) -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    clock = Clock()
    settings = Settings(database_url=url, policy_file=str(policy), projections_in_process=False)
    apply_migrations(settings.database)
    container = bootstrap(settings, clock=clock)
    views = ViewStore(settings.database)
    try:
        claim_id = record_claim(container, events, clock)
        last = ((events - 1) // DEFAULT_PAGE) * DEFAULT_PAGE
        assert json.loads(history_before(container, claim_id, diff=True))[:DEFAULT_PAGE] == json.loads(
            history_now(container, claim_id, diff=True)
        ), "the first page is the start of the whole history"
        pairs = {
            "access check alone": (lambda: container.app.load_claim(claim_id),
                                   lambda: container.app.load_claim(claim_id, version=1)),
            "history": (lambda: history_before(container, claim_id, diff=False),
                        lambda: history_now(container, claim_id, diff=False)),
            "history?diff=true, first page": (lambda: history_before(container, claim_id, diff=True),
                                              lambda: history_now(container, claim_id, diff=True)),
            "history?diff=true, last page": (lambda: history_before(container, claim_id, diff=True),
                                             lambda: history_now(container, claim_id, diff=True, after=last)),
            "timeline": (lambda: timeline_before(container, views, claim_id),
                         lambda: timeline_now(container, views, claim_id)),
        }
        calls: dict[str, Callable[[], object]] = {}
        for name, (before, now) in pairs.items():
            calls[name + " ref"], calls[name + " ours"] = before, now
        results = timed(n, calls)
        return [(name, results[name + " ref"], results[name + " ours"]) for name in pairs]
    finally:
        views.close()
        container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--server-url", default=f"postgresql://{getpass.getuser()}@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        policy = Path(directory) / "policy.toml"
        text = default_policy_text().replace("claim_messages = 500", f"claim_messages = {args.events}")
        policy.write_text(text, encoding="utf-8")
        print(f"one claim of {args.events} events; page = {DEFAULT_PAGE}; {args.n} rounds; medians and p95 in ms")
        print(f"{'store':8} {'read':32} {'ref median':>10} {'p95':>8} {'ours median':>11} {'p95':>8} {'ratio':>7}")
        for kind in args.stores.split(","):
            with store(kind, args.server_url) as url:
                for name, (ref, ref95), (ours, ours95) in run(url, args.events, args.n, policy):
                    print(f"{kind:8} {name:32} {ref:10.2f} {ref95:8.2f} {ours:11.2f} {ours95:8.2f} {ref / ours:6.1f}x")


if __name__ == "__main__":
    main()
