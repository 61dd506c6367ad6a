"""The signals for mediators, from realistic event sequences on both stores, and their absence on innocent
histories. Thresholds are the built-in policy's (``[signals]``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from disputes.adapters.policy_file import load_policy
from disputes.application.claims import DisputesApplication
from disputes.settings import Settings
from projections.runner import ProjectionRunner
from projections.signals import SignalReader
from projections.store import ViewConnection
from support import PLATFORM
from support.views import Claims, ManualClock, buyer, merchant

POLICY = load_policy()
DIGEST = "a" * 64


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Claims judged by the platform's orders (their recorded delivery is a fact of a signal)."""
    return Settings(database_url=database_url, env="test")


@pytest.fixture
def read(runner: ProjectionRunner, views: ViewConnection) -> Iterator[Any]:
    def signals(claim_id: str, lang: str = "en") -> dict[str, dict[str, Any]]:
        runner.run_until_caught_up()
        found = SignalReader(views, POLICY.signals, POLICY.version, lang).signals(claim_id)
        return {s["signal"]: s for s in found}

    yield signals


def evidence(app: DisputesApplication, who: str, claim_id: str, digest: str = DIGEST, party: str = "buyer") -> None:
    actor = buyer(who) if party == "buyer" else merchant(who)
    app.add_evidence(
        actor, claim_id, kind="photo", description="The photo.", sha256=digest, size_bytes=2048, uri=None  # type: ignore[arg-type]
    )


def test_a_buyer_with_two_claims_on_two_bad_orders_carries_no_signal(claims: Claims, clock: ManualClock, read: Any) -> None:
    first = claims.open("b1", "m1")
    clock.advance(days=2)
    second = claims.open("b1", "m2", claimed_amount="120.00")
    evidence(claims.app, "b1", first, "1" * 64)
    evidence(claims.app, "b1", second, "2" * 64)
    assert read(first) == {} and read(second) == {}


def test_serial_refund_only_claims_across_merchants_in_the_window_are_signalled_with_the_claims(
    claims: Claims, clock: ManualClock, read: Any
) -> None:
    ids = []
    for n in range(5):
        ids.append(claims.open("b7", f"m{n % 3 + 1}"))
        clock.advance(days=5)
    signal = read(ids[0])["serial_refund_only"]
    assert signal["claims"] == ids
    assert signal["figures"] == {"claims": 5, "merchants": 3}
    assert signal["severity"] == "high" and signal["policy_version"] == "2026-11"
    assert "5 refund-only claims against 3 merchants within 30 days" in signal["explanation"]
    assert "5笔仅退款申请" in read(ids[0], "zh-CN")["serial_refund_only"]["explanation"]
    # A claim of the same buyer opened long after falls outside every window: on its own, nothing.
    clock.advance(days=90)
    later = claims.open("b7", "m1")
    assert "serial_refund_only" not in read(later)


def test_five_refund_only_claims_against_one_merchant_are_not_serial_across_merchants(
    claims: Claims, clock: ManualClock, read: Any
) -> None:
    ids = [claims.open("b7", "m1") for _ in range(5)]
    assert "serial_refund_only" not in read(ids[-1])


def test_a_buyer_winning_half_its_claims_by_merchant_silence_is_signalled(
    claims: Claims, clock: ManualClock, read: Any
) -> None:
    ids = [claims.open("b3", f"m{n}", kind="return_and_refund") for n in range(4)]
    clock.advance(hours=49)
    for claim_id in ids[:2]:
        claims.app.apply_missed_deadline(claim_id, "merchant_response")
    for claim_id in ids[2:]:
        claims.app.respond(merchant(f"m{ids.index(claim_id)}"), claim_id, decision="reject", amount=None, message="No.")
    signal = read(ids[3])["silence_wins"]
    assert sorted(signal["claims"]) == sorted(ids[:2])  # opened at one moment: in id order
    assert signal["figures"] == {"claims": 4, "silence_wins": 2, "share": "0.5000"}
    # One silence win among four claims is a merchant's lapse, not the buyer's pattern.
    other = [claims.open("b4", f"m{n}", kind="return_and_refund") for n in range(4)]
    clock.advance(hours=49)
    claims.app.apply_missed_deadline(other[0], "merchant_response")
    assert "silence_wins" not in read(other[0])


def test_one_evidence_digest_on_claims_of_different_buyers_is_signalled_with_the_digest(
    claims: Claims, read: Any
) -> None:
    first, second = claims.open("b1", "m1"), claims.open("b2", "m2")
    evidence(claims.app, "b1", first)
    evidence(claims.app, "b2", second)
    signal = read(second)["shared_evidence"]
    assert (signal["claims"], signal["digests"]) == ([second, first], [DIGEST])
    assert read(first)["shared_evidence"]["claims"] == [first, second]


def test_a_merchant_attaching_one_packing_photo_to_many_claims_or_a_buyer_repeating_a_photo_is_no_signal(
    claims: Claims, read: Any
) -> None:
    first, second = claims.open("b1", "m1"), claims.open("b2", "m1")
    evidence(claims.app, "m1", first, party="merchant")
    evidence(claims.app, "m1", second, party="merchant")
    evidence(claims.app, "b1", first, "b" * 64)
    evidence(claims.app, "b1", first, "b" * 64)  # the same photo sent twice on one claim
    assert read(first) == {} and read(second) == {}


def test_not_received_on_an_order_the_platform_recorded_delivered_is_signalled(
    claims: Claims, clock: ManualClock, read: Any
) -> None:
    claim_id = claims.open("b5", "m1", order_id="order-nr", reason="not_received", delivered_at=None)
    assert "not_received_delivered" not in read(claim_id)  # not delivered yet: nothing to doubt
    delivered = clock() - timedelta(hours=3)
    claims.app.orders.record_delivery(PLATFORM, "order-nr", delivered)
    signal = read(claim_id)["not_received_delivered"]
    assert signal["claims"] == [claim_id]
    assert signal["figures"] == {"delivered_at": delivered.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


def test_claiming_near_the_order_total_on_many_orders_in_a_short_time_is_signalled(
    claims: Claims, clock: ManualClock, read: Any
) -> None:
    ids = []
    for n in range(3):
        ids.append(claims.open("b6", f"m{n}", kind="return_and_refund", claimed_amount="115.00"))
        clock.advance(hours=20)
    signal = read(ids[1])["near_total_burst"]
    assert (signal["claims"], signal["figures"]) == (ids, {"claims": 3, "orders": 3})
    # The same buyer's claims of two thirds of a total carry none.
    modest = [claims.open("b8", f"m{n}", kind="return_and_refund", claimed_amount="80.00") for n in range(3)]
    assert "near_total_burst" not in read(modest[0])


def test_a_merchant_that_rejects_and_then_loses_in_mediation_above_the_rate_is_signalled(
    claims: Claims, read: Any
) -> None:
    lost, kept = [], []
    for n in range(5):
        claim_id = claims.open(f"b{n + 10}", "m9", kind="return_and_refund")
        claims.rejected_then_mediated(claim_id, merchant_id="m9", who=f"b{n + 10}")
        if n < 3:
            claims.decide(claim_id, "full_refund")
            lost.append(claim_id)
        else:
            claims.decide(claim_id, "claim_rejected")
            kept.append(claim_id)
    signal = read(kept[0])["reject_then_lose"]
    assert signal["claims"] == lost
    assert signal["figures"] == {"rejections": 5, "lost": 3, "rate": "0.6000"}
    assert "rejected 5 claims and then lost 3" in signal["explanation"]


def test_a_merchant_rejecting_and_mostly_upheld_carries_no_signal(claims: Claims, read: Any) -> None:
    ids = []
    for n in range(5):
        claim_id = claims.open(f"b{n + 20}", "m8", kind="return_and_refund")
        claims.rejected_then_mediated(claim_id, merchant_id="m8", who=f"b{n + 20}")
        claims.decide(claim_id, "full_refund" if n < 2 else "claim_rejected")
        ids.append(claim_id)
    assert read(ids[0]) == {}


def test_a_claim_the_view_does_not_know_has_no_signals(read: Any) -> None:
    assert read("00000000-0000-0000-0000-000000000000") == {}
