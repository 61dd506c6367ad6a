"""Benchmark (not a test): what the order's refund ledger costs a refund, on SQLite and PostgreSQL.

    .venv/bin/python bench/ledger.py [N] [--server-url postgresql://USER@HOST:PORT/postgres]

For each store (a SQLite file, and a throwaway PostgreSQL database), records N orders and on each a
claim accepted by its merchant, then refunds them two ways in turns, in process (no HTTP):

- ``ledger``: ``app.refund``, as the API does: the claim's rules, then the order's ledger (loaded from
  its events), the claim and the order saved in one transaction;
- ``claim only`` (the reference: what a refund cost before ledgers): the same decision on the claim,
  saved alone.

Prints the median and p95 in milliseconds of each, and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import getpass
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, and its projections.py would hide the
# projections package: it goes last instead (auth.py is still found there).
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]
from auth import throwaway_database  # noqa: E402

from disputes.adapters.migrations import apply_migrations  # noqa: E402
from disputes.application.claims import DisputesApplication  # noqa: E402
from disputes.bootstrap import bootstrap  # noqa: E402
from disputes.domain.order import OrderFacts  # noqa: E402
from disputes.domain.parties import Actor, Role  # noqa: E402
from disputes.settings import Settings  # noqa: E402

BUYER, MERCHANT, PLATFORM = Actor(Role.BUYER, "b1"), Actor(Role.MERCHANT, "m1"), Actor(Role.PLATFORM, "plat")


def accepted_claims(app: DisputesApplication, n: int, tag: str) -> list[str]:
    now = datetime.now(UTC)
    facts = OrderFacts.parse(
        buyer_id="b1", merchant_id="m1", currency="CNY", total_amount="100.00", placed_at=now - timedelta(days=2),
        lines=[{"line_id": "l1", "sku": "S1", "title": "Vase", "quantity": 1, "unit_price": "100.00"}],
    )
    ids = []
    for i in range(n):
        order_id = f"{tag}-{i}"
        app.orders.record(PLATFORM, order_id, facts, now - timedelta(days=1))
        claim = app.open_claim(BUYER, order_id=order_id, kind="refund_only", reason="damaged",  # type: ignore[arg-type]
                               claimed_amount="100.00", description="Broken.").claim
        app.respond(MERCHANT, claim, decision="accept", amount=None, message="Sorry.")  # type: ignore[arg-type]
        ids.append(str(claim.id))
    return ids


def measure(url: str, n: int) -> dict[str, tuple[float, float]]:
    settings = Settings(database_url=url, projections_in_process=False, deadlines_in_process=False)
    apply_migrations(settings.database)
    container = bootstrap(settings)
    app = container.app
    try:
        with_ledger, alone = accepted_claims(app, n, "ledger"), accepted_claims(app, n, "alone")
        samples: dict[str, list[float]] = {"ledger": [], "claim only": []}
        for a, b in zip(with_ledger, alone, strict=True):
            start = time.perf_counter()
            app.refund(MERCHANT, a, amount="100.00", payment_reference=f"pay-{a}")
            samples["ledger"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            claim = app.load_claim(b)
            claim.refund(actor=MERCHANT, amount="100.00", payment_reference=f"pay-{b}", at=app.now())
            app.save_claim(claim)
            samples["claim only"].append((time.perf_counter() - start) * 1000)
    finally:
        container.close()
    return {k: (statistics.median(v), sorted(v)[int(len(v) * 0.95) - 1]) for k, v in samples.items()}


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{Path(directory) / 'ledger.sqlite'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=300)
    parser.add_argument("--server-url", default=f"postgresql://{getpass.getuser()}@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(f"{'store':10}  {'refund':10}  median ms  p95 ms   (N={args.n})")
    for store, url in (("sqlite", sqlite_url()), ("postgres", throwaway_database(args.server_url))):
        with url as database_url:
            figures = measure(database_url, args.n)
        for name, (median, p95) in figures.items():
            print(f"{store:10}  {name:10}  {median:9.2f}  {p95:6.2f}")
        ratio = figures["ledger"][0] / figures["claim only"][0]
        print(f"{store:10}  ledger / claim only: {ratio:.2f}x")


if __name__ == "__main__":
    main()
