"""The buyer claim-rate limit over HTTP: a serial claimant is refused at opening by a rule the policy
names, with when it may open again; the refusal ends when its oldest claim leaves the window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from disputes.bootstrap import Container
from disputes.settings import Settings
from support import migrated_container, policy_file
from support import reads as reads_support
from support.http import START, Api, ManualClock, rfc3339

reads_api = reads_support.reads_api


def position(answer: Any) -> int:
    return int(answer.headers["X-Disputes-Position"])


@pytest.fixture
def container(database_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[Container]:
    """A policy that lets a buyer open two claims a day (``[limits]``), under its own version."""
    policy = policy_file(tmp_path, buyer_claims=2, buyer_claims_window="1d", version="2026-12-limits")
    with migrated_container(Settings(database_url=database_url, policy_file=policy), clock) as built:
        yield built


def test_a_buyer_over_the_claim_rate_limit_gets_a_named_422_until_the_oldest_claim_leaves_the_window(
    reads_api: Api, clock: ManualClock
) -> None:
    body = {"kind": "refund_only", "reason": "damaged", "claimed_amount": "50.00", "description": "Broken."}
    for n in range(1, 5):
        buyer = "b2" if n == 4 else "b1"
        reads_api.record_order(f"order-{n}", delivered_at=rfc3339(START - timedelta(days=2)), buyer_id=buyer)

    def open_claim(who: str, order_id: str) -> Any:
        return reads_api.post(who, "/claims", json={**body, "order_id": order_id})

    assert open_claim("b1", "order-1").status_code == 201
    clock.advance(hours=2)
    second = open_claim("b1", "order-2")
    assert second.status_code == 201
    reads_api.get("b1", "/claims", params={"min_position": position(second)})  # the claims view has both

    answer = open_claim("b1", "order-3")
    assert answer.headers["Retry-After"] == str(22 * 3600)  # seconds until retry_at
    refused = reads_api.problem(answer, 422)
    assert refused["type"] == "/problems/claim-rate-limited"
    assert refused["retry_at"] == rfc3339(START + timedelta(days=1))
    assert (refused["rule"], refused["policy_version"], refused["limit"], refused["window"]) == (
        "buyer-claim-rate-limit", "2026-12-limits", 2, "PT24H",
    )
    assert refused["retry_at"] in refused["detail"]
    assert reads_api.get("plat1", "/orders/order-3").json()["claims"] == []  # nothing recorded
    assert open_claim("b2", "order-4").status_code == 201  # another buyer is not held back by b1's claims

    clock.advance(hours=21, minutes=59)
    assert reads_api.problem(open_claim("b1", "order-3"), 422)["type"] == "/problems/claim-rate-limited"
    clock.advance(minutes=1)  # START + 1 day: the first claim leaves the window
    opened = open_claim("b1", "order-3")
    assert opened.status_code == 201, opened.text
