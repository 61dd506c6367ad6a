"""One order's ledger holds across server processes: many claims of one order refunding at the same
moment through two ``disputes serve`` processes on one PostgreSQL never pay past the order's total."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from disputes.adapters.database import DatabaseUrl
from disputes.adapters.migrations import apply_migrations
from disputes.adapters.policy_file import default_policy_text
from disputes.adapters.principals import PrincipalStore
from disputes.domain.parties import Role
from support import order_record
from support.processes import serving_process

pytestmark = pytest.mark.postgres
CLAIMS = 6


def test_claims_of_one_order_refunding_at_once_on_two_processes_never_pass_its_total(
    postgres_url: str, tmp_path: Path
) -> None:
    apply_migrations(DatabaseUrl.parse(postgres_url))
    # Several open claims on one order, so that their refunds race on its ledger.
    policy = tmp_path / "policy.toml"
    policy.write_text(
        default_policy_text()
        .replace("one_open_claim_per_order = true", "one_open_claim_per_order = false")
        .replace("max_claims_per_order = 3", f"max_claims_per_order = {CLAIMS}"),
        encoding="utf-8",
    )
    store = PrincipalStore(DatabaseUrl.parse(postgres_url))
    now = datetime.now(UTC)
    tokens = {who: store.add(role, who, now=now)[1] for who, role in (("plat1", Role.PLATFORM), ("b1", Role.BUYER), ("m1", Role.MERCHANT))}
    env = {"DISPUTES_POLICY_FILE": str(policy), "DISPUTES_DEADLINES_IN_PROCESS": "false"}
    with serving_process(postgres_url, **env) as first, serving_process(postgres_url, **env) as second:
        def client(base: str, who: str) -> httpx.Client:
            return httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {tokens[who]}"})

        order = {**order_record(buyer_id="b1", total="120.00", currency="CNY"), "delivered_at": None}
        order["placed_at"] = (now - timedelta(days=3)).isoformat()
        with client(first, "plat1") as platform:
            assert platform.put("/orders/big-order", json=order).status_code == 201
        claim_ids = []
        with client(first, "b1") as buyer, client(second, "m1") as merchant:
            for _ in range(CLAIMS):
                opened = buyer.post("/claims", json={
                    "order_id": "big-order", "kind": "refund_only", "reason": "damaged",
                    "claimed_amount": "50.00", "description": "Broken.",
                })
                assert opened.status_code == 201, opened.text
                claim_ids.append(opened.json()["id"])
                accepted = merchant.post(f"/claims/{claim_ids[-1]}/merchant-response", json={"decision": "accept"})
                assert accepted.status_code == 200, accepted.text

        start = threading.Barrier(CLAIMS)
        outcomes: list[str] = []
        lock = threading.Lock()

        def pay(n: int) -> None:
            with client(first if n % 2 else second, "m1") as merchant:
                merchant.get("/healthz")
                start.wait(timeout=30)
                while True:  # a race lost on the claim itself is retried, as a client would
                    answer = merchant.post(f"/claims/{claim_ids[n]}/refunds", json={"amount": "50.00", "payment_reference": f"pay-{n}"})
                    kind = "paid" if answer.status_code == 200 else answer.json()["type"].rsplit("/", 1)[-1]
                    if kind != "concurrent-update":
                        break
            with lock:
                outcomes.append(kind)

        threads = [threading.Thread(target=pay, args=(n,)) for n in range(CLAIMS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        with client(first, "m1") as merchant:
            ledger = merchant.get("/orders/big-order").json()

    assert sorted(outcomes) == ["paid", "paid"] + ["refund-exceeds-order"] * (CLAIMS - 2)
    assert ledger["refunded_amount"] == "100.00"
