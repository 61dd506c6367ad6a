"""Benchmark of the read side (not a test): how fast the views rebuild, against how fast the
notification log can merely be read and decoded.

    .venv/bin/python bench/projections.py [N] [--database-url URL] [--batch-size B] [--workers W]

Records N claim events (default 100,000; up to 1,000,000) in a fresh database (a temporary SQLite file
unless --database-url names an empty PostgreSQL or SQLite database), interleaving several thousand
claims through realistic lifecycles, then measures in one run:

(a) the raw rate: every notification read in batches and decoded to a domain event, nothing else;
(b) the rebuild rate: every view emptied and rebuilt from position 0 as ``disputes rebuild --workers W``
    does (default 2): W processes, each projecting a W-th of the claims (one runner when W is 1); each
    reads --batch-size events per batch, and --catchup-batch-size per batch while at least that many
    are still to read.

It prints both rates and their ratio (the goal is 0.4 or more), and the CPU seconds of each (the
rebuild's: this process's and its partitions' processes'), since wall-clock rates on a shared machine
move with the other work; and the load average before (a) and after (b). Projections that own no tables (the
audit seal) are not views a rebuild empties, and are left out.

Then, outside the timings, it checks that (b) built the complete views: it takes a digest of every
view table (row count and a hash of all its rows, in no particular order), builds the views again
incrementally (as a following worker does: --verify-batch-size events per batch, never the catch-up
batches) and compares the two.
--no-verify skips that check (it takes several times as long as the rebuild).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, and this file (projections.py) would
# hide the projections package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from disputes.adapters.migrations import apply_migrations  # noqa: E402
from disputes.application.claims import DisputesApplication  # noqa: E402
from disputes.bootstrap import (  # noqa: E402
    Container,
    bootstrap,
    build_runner,
)
from disputes.cli.rebuild import rebuild  # noqa: E402
from disputes.domain.claim import Claim  # noqa: E402
from disputes.domain.parties import Actor, Role  # noqa: E402
from disputes.domain.vocabulary import (  # noqa: E402
    ClaimKind,
    ClaimReason,
    EvidenceKind,
    MerchantDecision,
    Outcome,
    Party,
)
from disputes.settings import Settings  # noqa: E402
from projections import catalog  # noqa: E402
from projections.runner import CATCHUP_BATCH_SIZE, Projection, reset  # noqa: E402
from projections.store import ViewStore  # noqa: E402

MAX_EVENTS = 1_000_000
ACTIVE_CLAIMS = 5_000
SAVE_CHUNK = 500
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

Step = Callable[[Claim, datetime], None]


class Clock:
    """Synthetic time: one second per recorded step, starting a while ago."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def lifecycles(app: DisputesApplication) -> list[list[Step]]:
    """Scripts of steps after the opening; each step is one event."""
    med = Actor(Role.MEDIATOR, "med1")
    w = app.windows

    def m(c: Claim) -> Actor:
        return Actor(Role.MERCHANT, c.merchant_id)

    def b(c: Claim) -> Actor:
        return Actor(Role.BUYER, c.buyer_id)

    accepted: list[Step] = [
        lambda c, t: c.respond(actor=m(c), decision=MerchantDecision.ACCEPT, amount=None, message="", at=t),
        lambda c, t: c.refund(actor=m(c), amount=str(c.claimed_amount.amount), payment_reference="p1", at=t),
    ]
    offered: list[Step] = [
        lambda c, t: c.post_message(actor=b(c), body="Is it broken?", at=t),
        lambda c, t: c.respond(actor=m(c), decision=MerchantDecision.OFFER, amount="10.00", message="Half.", at=t),
        lambda c, t: c.answer_offer(actor=b(c), accept=True, at=t),
        lambda c, t: c.refund(actor=m(c), amount="10.00", payment_reference="p1", at=t),
    ]
    mediated: list[Step] = [
        lambda c, t: c.respond(actor=m(c), decision=MerchantDecision.REJECT, amount=None, message="No.", at=t),
        lambda c, t: c.request_mediation(actor=b(c), reason="Please look.", at=t),
        lambda c, t: c.assign_mediator(actor=med, mediator_id="med1", at=t),
        lambda c, t: c.request_evidence(
            actor=med, from_party=Party.MERCHANT, description="Photos.", due_at=None, windows=w, at=t
        ),
        lambda c, t: c.add_evidence(
            actor=m(c), kind=EvidenceKind.PHOTO, description="Packed.", sha256=SHA, size_bytes=1000, uri=None, at=t
        ),
        lambda c, t: c.decide(
            actor=med, outcome=Outcome.PARTIAL_REFUND, amount="15.00", rationale="Shown.", policy_version=w.version, at=t
        ),
        lambda c, t: c.refund(actor=med, amount="15.00", payment_reference="p1", at=t),
        lambda c, t: c.close(actor=med, summary="Done.", at=t),
    ]
    withdrawn: list[Step] = [
        lambda c, t: c.post_message(actor=b(c), body="Never mind.", at=t),
        lambda c, t: c.withdraw(actor=b(c), reason="Found it.", at=t),
    ]
    return [accepted, offered, mediated, mediated, withdrawn]


def record(app: DisputesApplication, total: int, seed: int = 7) -> int:
    """Record exactly ``total`` events, thousands of claims interleaved; the number recorded."""
    rng = random.Random(seed)
    clock = Clock()
    scripts = lifecycles(app)
    active: list[tuple[Claim, Iterator[Step]]] = []
    pending: list[Claim] = []
    budget = total
    opened = 0

    def save(claim: Claim) -> None:
        pending.append(claim)
        if len(pending) >= SAVE_CHUNK:
            app.save(*pending)
            pending.clear()

    while budget > 0 or active:
        while len(active) < ACTIVE_CLAIMS and budget > 0:
            script = rng.choice(scripts)[: budget - 1]  # the last claims may stop short
            budget -= 1 + len(script)
            opened += 1
            claim = Claim.open(
                actor=Actor(Role.BUYER, f"b{opened % 997}"),
                order_id=f"o{opened}",
                merchant_id=f"m{opened % 101}",
                kind=ClaimKind.REFUND_ONLY,
                reason=ClaimReason.DAMAGED,
                order_amount="40.00",
                claimed_amount="30.00",
                currency="CNY" if opened % 3 else "USD",
                delivered_at=clock.now - timedelta(days=1),
                description="Broken.",
                windows=app.windows,
                at=clock.tick(),
            )
            save(claim)
            active.append((claim, iter(script)))
        rng.shuffle(active)
        still = []
        for claim, steps in active:
            step = next(steps, None)
            if step is not None:
                step(claim, clock.tick())
                save(claim)
                still.append((claim, steps))
        active = still
    if pending:
        app.save(*pending)
    return int(app.recorder.max_notification_id() or 0)


def read_and_decode(app: DisputesApplication, batch: int) -> int:
    count = 0
    start = 0
    while True:
        notifications = app.recorder.select_notifications(start, batch, inclusive_of_start=False)
        if not notifications:
            return count
        for notification in notifications:
            app.mapper.to_domain_event(notification)
        count += len(notifications)
        start = notifications[-1].id


Digest = dict[str, tuple[int, str]]


def cpu_seconds() -> float:
    """CPU seconds (user and system) of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def view_digest(store: ViewStore, projections: list[Projection]) -> Digest:
    """Each view table's row count and a hash of its rows, whatever order they were written in (the sum
    of each row's hash, so that a million rows need neither sorting nor holding)."""
    conn = store.connect()
    try:
        digest: Digest = {}
        for table in (t for p in projections for t in p.tables):
            count, total = 0, 0
            for row in conn.raw.execute(f"SELECT * FROM {table}"):
                count += 1
                total += int.from_bytes(hashlib.sha256(repr(tuple(row)).encode()).digest()[:16], "big")
            digest[table] = (count, f"{total % (1 << 128):032x}")
        return digest
    finally:
        conn.close()


def verify(container: Container, projections: list[Projection], rebuilt: Digest, batch_size: int) -> bool:
    """Build the views again incrementally and compare them with the rebuilt ones."""
    started = time.perf_counter()
    store = ViewStore(container.settings.database)
    reset(store, projections)
    runner = build_runner(
        container, [p.name for p in projections], batch_size=batch_size, catchup_batch_size=batch_size
    )
    try:
        runner.run_until_caught_up()
    finally:
        runner.close()
    incremental = view_digest(store, projections)
    rows = sum(count for count, _ in rebuilt.values())
    seconds = time.perf_counter() - started
    if incremental == rebuilt:
        print(
            f"verified: the rebuilt views ({rows:,} rows in {len(rebuilt)} tables) equal an incremental build "
            f"in batches of {batch_size} ({seconds:.0f} s)"
        )
        return True
    for table in rebuilt:
        if incremental.get(table) != rebuilt[table]:
            print(f"MISMATCH in {table}: rebuilt {rebuilt[table]}, incremental {incremental.get(table)}")
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", nargs="?", type=int, default=100_000, help="events to record (default 100000)")
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--batch-size", type=int, default=1000, help="events per batch (default 1000)")
    parser.add_argument(
        "--catchup-batch-size",
        type=int,
        default=CATCHUP_BATCH_SIZE,
        help=f"events per batch while far behind (default {CATCHUP_BATCH_SIZE})",
    )
    parser.add_argument(
        "--verify-batch-size", type=int, default=100, help="events per batch of the incremental build (default 100)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes of the rebuild (default 2)")
    parser.add_argument("--no-verify", action="store_true", help="skip comparing the views with an incremental build")
    args = parser.parse_args(argv)
    if not 1 <= args.events <= MAX_EVENTS:
        parser.error(f"events must be 1..{MAX_EVENTS}")
    with tempfile.TemporaryDirectory(prefix="disputes-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        settings = Settings(database_url=url)
        apply_migrations(settings.database)
        container = bootstrap(settings)
        try:
            if container.app.recorder.max_notification_id():
                parser.error("the database must be empty")
            app = container.app
            print(f"database: {settings.database.dialect}", flush=True)

            started = time.perf_counter()
            count = record(app, args.events)
            seconds = time.perf_counter() - started
            print(f"recorded   {count:>9,} events in {seconds:6.1f} s  {count / seconds:>9,.0f} events/s", flush=True)

            load_before = os.getloadavg()[0]
            started, cpu = time.perf_counter(), cpu_seconds()
            decoded = read_and_decode(app, args.batch_size)
            raw_seconds = time.perf_counter() - started
            raw_cpu = cpu_seconds() - cpu
            raw_rate = decoded / raw_seconds
            print(
                f"(a) read+decode {decoded:>9,} events in {raw_seconds:6.2f} s  {raw_rate:>9,.0f} events/s"
                f"  ({raw_cpu:.2f} CPU s)",
                flush=True,
            )

            projections = [p for p in catalog.select() if p.tables]
            started, cpu = time.perf_counter(), cpu_seconds()
            rebuild(
                container,
                [p.name for p in projections],
                workers=args.workers,
                batch_size=args.batch_size,
                catchup_batch_size=args.catchup_batch_size,
            )
            rebuild_seconds = time.perf_counter() - started
            rebuild_cpu = cpu_seconds() - cpu
            rebuild_rate = decoded / rebuild_seconds
            print(
                f"(b) rebuild of {len(projections)} views in {args.workers} processes {decoded:>9,} events in "
                f"{rebuild_seconds:6.2f} s  {rebuild_rate:>9,.0f} events/s  ({rebuild_cpu:.2f} CPU s in all)",
                flush=True,
            )
            ratio = rebuild_rate / raw_rate
            print(f"ratio (b)/(a) = {ratio:.2f}  (goal >= 0.40: {'met' if ratio >= 0.4 else 'NOT met'})", flush=True)
            print(
                f"CPU seconds (b)/(a) = {rebuild_cpu / raw_cpu:.2f}; load average {load_before:.2f} before (a), "
                f"{os.getloadavg()[0]:.2f} after (b)",
                flush=True,
            )
            if not args.no_verify:
                rebuilt = view_digest(ViewStore(settings.database), projections)
                if not verify(container, projections, rebuilt, args.verify_batch_size):
                    return 1
        finally:
            container.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
