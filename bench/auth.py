"""Benchmark (not a test): what checking a bearer token costs each request, on PostgreSQL.

    .venv/bin/python bench/auth.py [N] [--server-url postgresql://USER@HOST:PORT/postgres]

Creates a throwaway database on the server (default: postgresql://127.0.0.1:5432/postgres as the OS
user), migrates it, issues one token, then times N calls (default 2,000) of ``authenticate``, what the
API does once per request: through the server's container (pooled connections), and through a store
on the bare URL, as the CLI has it (a new connection per check). Prints the median, p95 and mean in
milliseconds of each. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from disputes.adapters.migrations import apply_migrations
from disputes.adapters.principals import PrincipalStore
from disputes.bootstrap import bootstrap
from disputes.domain.parties import Role
from disputes.settings import Settings


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    name = f"disputes_bench_auth_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=2000)
    parser.add_argument("--server-url", default=f"postgresql://{getpass.getuser()}@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with throwaway_database(args.server_url) as url:
        settings = Settings(database_url=url)
        apply_migrations(settings.database)
        container = bootstrap(settings)
        try:
            now = datetime.now(UTC)
            _, token = container.principals.add(Role.BUYER, "b1", now=now)
            stores = {
                "pooled (server)": container.principals,
                "unpooled (CLI)": PrincipalStore(settings.database),
            }
            for name, store in stores.items():
                for _ in range(50):  # warm up (and fill the pool)
                    assert store.authenticate(token, now=now) is not None
                seconds = []
                for _ in range(args.n):
                    start = time.perf_counter()
                    store.authenticate(token, now=now)
                    seconds.append(time.perf_counter() - start)
                ms = sorted(s * 1000 for s in seconds)
                print(
                    f"authenticate x{args.n}, {name}: median {statistics.median(ms):.3f} ms, "
                    f"p95 {ms[int(len(ms) * 0.95)]:.3f} ms, mean {statistics.fmean(ms):.3f} ms"
                )
        finally:
            container.close()


if __name__ == "__main__":
    main()
