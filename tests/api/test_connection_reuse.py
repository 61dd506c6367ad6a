"""Commands reuse pooled connections: a served request never starts a database session of its own."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from support.prepared import prepare
from support.processes import server_process

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def sessions_started(url: str) -> int:
    """Sessions established to the database since the server's statistics began (PostgreSQL 14+)."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()
    assert row is not None
    return int(row[0]) - 1  # not this one


def test_opening_claims_one_after_another_starts_no_database_session_per_request(postgres_url: str) -> None:
    prepared = prepare(postgres_url, claims=0, spare_orders=31)
    headers = {"Authorization": f"Bearer {prepared.buyer_token}"}

    def open_claim(http: httpx.Client, order_id: str) -> None:
        answer = http.post("/claims", headers=headers, json={
            "order_id": order_id, "kind": "refund_only", "reason": "damaged", "claimed_amount": "5.00",
            "description": "Scratched."})
        assert answer.status_code == 201, answer.text

    with server_process(postgres_url, DISPUTES_PROJECTIONS_IN_PROCESS="false",
                        DISPUTES_DEADLINES_IN_PROCESS="false") as (_, base), httpx.Client(base_url=base, timeout=30) as http:
        open_claim(http, prepared.spare_orders[0])  # the pools open their first connections
        before = sessions_started(postgres_url)
        for order_id in prepared.spare_orders[1:]:
            open_claim(http, order_id)
        started = sessions_started(postgres_url) - before - 1  # - the one that read `before`

    assert started <= 2, f"{started} database sessions started for 30 claims opened one after another"
