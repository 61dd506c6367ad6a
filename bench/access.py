"""Benchmark (not a test): what the permission matrix's check costs a command and a read, on PostgreSQL.

    .venv/bin/python bench/access.py [N] [--server-url postgresql://USER@HOST:PORT/postgres]

Creates a throwaway database, migrates it, opens a claim and takes it under mediation, then times N
of each (default 300), in process through the whole ASGI app (no network):

- ``load``: ``app.load_claim``, what the access check adds to a request about a claim;
- ``command``: ``POST /claims/{id}/messages`` (check, then the command on the claim the check loaded);
- ``command, claim loaded twice``: the same command through the application given only the claim's
  id after a load of its own, what the check would cost if the command did not reuse its claim;
- ``read``: ``GET /claims/{id}``, ``GET /claims/{id}/timeline`` (a view read: the check's load is extra).

Prints the median and p95 in milliseconds of each (the calls take turns, so each meets the same
claim). The database is dropped at the end.

Measured (2 shared CPUs, PostgreSQL 15 local, N=400): load 1.25 ms; command over ASGI 6.05 ms; in the
app, claim loaded once 2.60 ms, twice 3.55 ms (the reuse saves what a second load would add, about a
sixth of a command over HTTP); GET /claims/{id} 4.21 ms (its one load is the check's); timeline
4.30 ms, of which the check's load is about 1.25 ms (the check reads the claim from the store,
which is never behind, rather than from the view).
"""

from __future__ import annotations

import argparse
import getpass
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, and its projections.py would hide the
# projections package: it goes last instead (auth.py is still found there).
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]
from auth import throwaway_database  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from disputes.adapters.migrations import apply_migrations  # noqa: E402
from disputes.api.app import create_app  # noqa: E402
from disputes.bootstrap import bootstrap  # noqa: E402
from disputes.domain.order import OrderFacts  # noqa: E402
from disputes.domain.parties import Actor, Role  # noqa: E402
from disputes.settings import Settings  # noqa: E402


def timed(n: int, *calls: Callable[[], object]) -> list[tuple[float, float]]:
    """Median and p95 (ms) of each call, the calls taking turns so that they meet the same claim."""
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(n):
        for call, kept in zip(calls, samples, strict=True):
            start = time.perf_counter()
            call()
            kept.append((time.perf_counter() - start) * 1000)
    return [(statistics.median(s), sorted(s)[int(len(s) * 0.95) - 1]) for s in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=300)
    parser.add_argument("--server-url", default=f"postgresql://{getpass.getuser()}@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with throwaway_database(args.server_url) as url:
        settings = Settings(database_url=url, projections_in_process=False, deadlines_in_process=False)
        container = bootstrap(settings)
        try:
            apply_migrations(settings.database)
            now = datetime.now(UTC)
            tokens = {who: container.principals.add(role, who, now=now)[1] for who, role in
                      (("b1", Role.BUYER), ("m1", Role.MERCHANT), ("med1", Role.MEDIATOR))}
            app = container.app
            buyer = Actor(Role.BUYER, "b1")
            facts = OrderFacts.parse(
                buyer_id="b1", merchant_id="m1", currency="USD", total_amount="100.00", placed_at=now - timedelta(days=2),
                lines=[{"line_id": "l1", "sku": "S1", "title": "Vase", "quantity": 1, "unit_price": "100.00"}],
            )
            app.orders.record(Actor(Role.PLATFORM, "plat1"), "o1", facts, now - timedelta(days=1))
            claim = app.open_claim(
                buyer, order_id="o1", kind="refund_only", reason="damaged", claimed_amount="100.00",
                description="Broken.",
            ).claim
            claim_id = str(claim.id)
            app.respond(Actor(Role.MERCHANT, "m1"), claim_id, decision="reject", amount=None, message="No.")
            app.request_mediation(buyer, claim_id, reason="Please.")
            app.assign_mediator(Actor(Role.MEDIATOR, "med1"), claim_id, mediator_id=None)
            with TestClient(create_app(container)) as http:
                auth = {"Authorization": f"Bearer {tokens['b1']}"}

                def command() -> None:
                    answer = http.post(f"/claims/{claim_id}/messages", json={"body": "Hi."}, headers=auth)
                    assert answer.status_code == 200, answer.text

                def twice() -> None:
                    app.load_claim(claim_id)
                    app.post_message(buyer, claim_id, body="Hi.")

                def once() -> None:
                    app.post_message(buyer, app.load_claim(claim_id), body="Hi.")

                load, over_asgi, loaded_once, loaded_twice, read, timeline = timed(
                    args.n,
                    lambda: app.load_claim(claim_id),
                    command,
                    once,
                    twice,
                    lambda: http.get(f"/claims/{claim_id}", headers=auth),
                    lambda: http.get(f"/claims/{claim_id}/timeline", headers=auth),
                )
                rows = {
                    "load (the check's lookup)": load,
                    "command over ASGI": over_asgi,
                    "command in the app, claim loaded once": loaded_once,
                    "command in the app, claim loaded twice": loaded_twice,
                    "GET /claims/{id}": read,
                    "GET /claims/{id}/timeline": timeline,
                }
        finally:
            container.close()
    width = max(map(len, rows))
    print(f"{'':{width}}  median ms  p95 ms   (N={args.n}, claim grows to {args.n * 3 + 4} events)")
    for name, (median, p95) in rows.items():
        print(f"{name:{width}}  {median:9.2f}  {p95:6.2f}")


if __name__ == "__main__":
    main()
