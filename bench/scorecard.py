"""Benchmark (not a test): how the scorecard read and the standing engine's pass grow with one merchant's
claims, against an n log n reference, in one run.

    .venv/bin/python bench/scorecard.py [--sizes 1000,10000,100000] [--repeat 3]

For each size N, a fresh SQLite database gets the scorecard facts of N claims of one merchant (received,
a first answer, a decision; a third taken to mediation and lost, with a refund; deadlines met and
missed), as the projection writes them. Then, in process (no HTTP):

- ``read``: ``merchant_scorecard`` as ``GET /merchants/{id}/scorecard`` runs it (the first 1,000 ids of
  each list);
- ``engine``: one round of the standing engine for that merchant (the scorecard, the minimum sample,
  the standing's review: the first round records the warning, the timed ones find nothing to do);
- ``n log n``: the reference, sorting N random 32-character keys ten times, whose growth is n log n by
  construction;
- ``old``: the scorecard's former loop (a list searched for each fact's claim), at the sizes below
  20,000 only: it grows as n squared (about 40 s at 100,000).

Prints the median milliseconds per size, then for each step between sizes the growth of each, the
factor n log n itself grows by, and the ratios of our growth to the measured reference's and to that
factor (1.0 or below: no worse than n log n). On a shared machine single runs vary; the 100,000 step
is the one that matters.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]

from disputes.adapters.migrations import apply_migrations  # noqa: E402
from disputes.bootstrap import bootstrap  # noqa: E402
from disputes.engines.standing import StandingEngine  # noqa: E402
from disputes.settings import Settings  # noqa: E402
from projections.runner import ensure_positions  # noqa: E402
from projections.scorecard import ScorecardView, Thresholds, merchant_scorecard  # noqa: E402
from projections.store import ViewStore, time_text  # noqa: E402

OLD_LIMIT = 20_000
T0 = datetime.now(UTC) - timedelta(days=30)


def facts(n: int) -> list[tuple[object, ...]]:
    """The facts of n claims of merchant m1, in log order, as ScorecardProjection writes them."""
    rows: list[tuple[object, ...]] = []
    position = 0
    step = timedelta(seconds=max(1, 20 * 86_400 // n))
    for i in range(n):
        claim_id = f"00000000-0000-0000-0000-{i:012d}"
        at = T0 + i * step
        position += 1
        rows.append((position, 0, "m1", claim_id, time_text(at), "received", None, None, None, None))
        position += 1
        rows.append((position, 0, "m1", claim_id, time_text(at + step / 2), "first_response", None, None, None,
                     3_600_000_000 * (1 + i % 30)))
        rows.append((position, 1, "m1", claim_id, time_text(at + step / 2), "deadline_met" if i % 5 else
                     "deadline_missed", "merchant_response", None, None, None))
        position += 1
        if i % 3 == 0:
            rows.append((position, 0, "m1", claim_id, time_text(at + step), "intervention", None, None, None, None))
            rows.append((position, 1, "m1", claim_id, time_text(at + step), "loss", "full_refund", None, None, None))
            rows.append((position, 2, "m1", claim_id, time_text(at + step), "decided", "refund_pending", None, None,
                         None))
            position += 1
            rows.append((position, 0, "m1", claim_id, time_text(at + step), "refund", None, "80.00", "CNY", None))
        else:
            rows.append((position, 0, "m1", claim_id, time_text(at + step), "decided", "closed", None, None, None))
    return rows


def old_scorecard_loop(rows: list[tuple[object, ...]]) -> int:
    """The former scorecard's loop: ``claim_id not in <list>`` for each fact (the quadratic part)."""
    ids: dict[str, list[object]] = defaultdict(list)
    refund_claims: dict[object, list[object]] = defaultdict(list)
    for claim_id, fact, _name, _amount, currency, _micros, _at in rows:
        if fact == "refund":
            if claim_id not in refund_claims[currency]:
                refund_claims[currency].append(claim_id)
        elif fact in ("first_response", "deadline_missed", "deadline_met", "decided"):
            continue
        elif claim_id not in ids[str(fact)]:
            ids[str(fact)].append(claim_id)
    return len(ids["received"])


def timed(repeat: int, work: Callable[[], object]) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(n: int, repeat: int, directory: Path) -> dict[str, float | None]:
    url = f"sqlite:///{directory / f'scorecard-{n}.sqlite'}"
    settings = Settings(database_url=url, projections_in_process=False, deadlines_in_process=False)
    apply_migrations(settings.database)
    container = bootstrap(settings)
    store = ViewStore(settings.database)
    rows = facts(n)
    with store.reading() as conn, conn.transaction() as tx:
        tx.insert_rows(ScorecardView.FACTS, rows)
        ensure_positions(tx, ["scorecard"])
        tx.execute("UPDATE projection_positions SET position = ? WHERE name = 'scorecard'", (rows[-1][0],))
    engine = StandingEngine(container.app, ViewStore(settings.database))
    window = container.app.windows.merchant_response
    results: dict[str, float | None] = {}
    try:
        with store.reading() as conn:
            card = merchant_scorecard(conn, "m1", None, thresholds=Thresholds(), response_window=window)
            assert card["claims_received"] == n
            results["read"] = timed(
                repeat, lambda: merchant_scorecard(conn, "m1", None, thresholds=Thresholds(), response_window=window)
            )
            fetched = conn.query(ScorecardView.SELECT_FACTS, ("m1", "~"))
        first = engine.tick()
        assert len(first.recorded) == 1, first.recorded  # the merchant falls to watch: Warned, once

        def engine_pass() -> None:
            engine.reviewed_to = 0  # every merchant's facts "moved": the whole pass again
            assert engine.tick().reviewed == 1

        results["engine"] = timed(repeat, engine_pass)
        keys = [f"{random.getrandbits(128):032x}" for _ in range(n)]
        results["n log n"] = timed(repeat, lambda: [sorted(keys) for _ in range(10)])
        results["old"] = timed(1, lambda: old_scorecard_loop(fetched)) if n < OLD_LIMIT else None
    finally:
        engine.close()
        store.close()
        container.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    figures: dict[int, dict[str, float | None]] = {}
    names = ("read", "engine", "n log n", "old")
    print(f"{'claims':>8}  " + "  ".join(f"{name + ' ms':>12}" for name in names))
    with tempfile.TemporaryDirectory() as directory:
        for n in sizes:
            figures[n] = measure(n, args.repeat, Path(directory))
            cells = [figures[n][name] for name in names]
            print(f"{n:>8}  " + "  ".join(f"{'-' if c is None else f'{c:.1f}':>12}" for c in cells))
    print()
    print(
        f"{'step':>16}  {'read x':>7}  {'engine x':>8}  {'ref x':>6}  {'n log n':>7}  {'read/ref':>8}  "
        f"{'engine/ref':>10}  {'read/nlogn':>10}  {'engine/nlogn':>12}  {'old x':>6}"
    )
    for small, large in pairwise(sizes):
        a, b = figures[small], figures[large]
        growth = {name: (b[name] or 0) / (a[name] or 1) for name in ("read", "engine", "n log n")}
        theory = large * math.log(large) / (small * math.log(small))
        old = f"{b['old'] / a['old']:.1f}" if a["old"] and b["old"] else "-"
        print(
            f"{f'{small} -> {large}':>16}  {growth['read']:7.1f}  {growth['engine']:8.1f}  {growth['n log n']:6.1f}  "
            f"{theory:7.1f}  {growth['read'] / growth['n log n']:8.2f}  {growth['engine'] / growth['n log n']:10.2f}  "
            f"{growth['read'] / theory:10.2f}  {growth['engine'] / theory:12.2f}  {old:>6}"
        )


if __name__ == "__main__":
    main()
