"""The Claim aggregate, without a store: every rule, every refusal, every lifecycle, and replay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from eventsourcing.application import project_aggregate

from disputes.application.claims import DisputesApplication
from disputes.domain import errors
from disputes.domain.claim import Claim, claim_id_of, event_type
from disputes.domain.money import Money
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import Deadline, Limits, Policy, Windows
from disputes.domain.vocabulary import (
    ClaimKind,
    ClaimReason,
    ClaimStatus,
    EvidenceKind,
    MerchantDecision,
    Outcome,
    Party,
    ReturnCondition,
)

S = ClaimStatus
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WINDOWS = Windows()
SHA = "ab" * 32

BUYER = Actor(Role.BUYER, "buyer-1")
OTHER_BUYER = Actor(Role.BUYER, "buyer-2")
MERCHANT = Actor(Role.MERCHANT, "merchant-1")
OTHER_MERCHANT = Actor(Role.MERCHANT, "merchant-2")
MEDIATOR = Actor(Role.MEDIATOR, "mediator-1")
OTHER_MEDIATOR = Actor(Role.MEDIATOR, "mediator-2")
AUDITOR = Actor(Role.AUDITOR, "auditor-1")
ADMIN = Actor(Role.ADMIN, "admin-1")
SYSTEM = Actor(Role.SYSTEM, "deadline-engine")


def at(hours: float = 0, *, days: float = 0) -> datetime:
    """A moment after the claim was opened (T0)."""
    return T0 + timedelta(hours=hours, days=days)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def open_claim(**overrides: Any) -> Claim:
    arguments: dict[str, Any] = {
        "actor": BUYER,
        "order_id": "order-1",
        "merchant_id": MERCHANT.id,
        "kind": ClaimKind.REFUND_ONLY,
        "reason": ClaimReason.DAMAGED,
        "order_amount": "100.00",
        "claimed_amount": "80.00",
        "currency": "USD",
        "delivered_at": T0 - timedelta(days=2),
        "description": "the vase arrived in pieces",
        "windows": WINDOWS,
        "at": T0,
    }
    arguments.update(overrides)
    return Claim.open(**arguments)


def state(claim: Claim) -> dict[str, Any]:
    """Everything the aggregate holds, except the events not yet saved."""
    return {k: v for k, v in vars(claim).items() if k != "_pending_events"}


def replay(events: Any) -> Claim:
    """The claim rebuilt from its events alone, as the repository would."""
    claim: Claim | None = project_aggregate(None, events)
    assert isinstance(claim, Claim)
    return claim


def last_event(claim: Claim) -> Any:
    return claim.pending_events[-1]


def assert_refused(claim: Claim, error: type[errors.DisputesError], command: Callable[[], None]) -> None:
    """The command raises exactly this error, names the claim, and changes nothing."""
    before = state(claim), len(claim.pending_events)
    with pytest.raises(errors.DisputesError) as raised:
        command()
    assert type(raised.value) is error, f"expected {error.__name__}, got {type(raised.value).__name__}"
    if not isinstance(raised.value, errors.ClaimNotEligible):
        assert raised.value.claim_id == str(claim.id)
    assert (state(claim), len(claim.pending_events)) == before


# --- commands with sensible defaults, so that each test shows only what matters to it ----------------


def respond(
    claim: Claim,
    decision: str,
    amount: str | None = None,
    *,
    actor: Actor = MERCHANT,
    when: datetime | None = None,
) -> None:
    claim.respond(
        actor=actor, decision=MerchantDecision(decision), amount=amount, message="", at=when or at(1)
    )


def request_mediation(claim: Claim, *, actor: Actor = BUYER, when: datetime | None = None) -> None:
    claim.request_mediation(actor=actor, reason="we cannot agree", at=when or at(2))


def assign(
    claim: Claim, mediator: Actor = MEDIATOR, *, actor: Actor | None = None, when: datetime | None = None
) -> None:
    claim.assign_mediator(actor=actor or mediator, mediator_id=mediator.id, at=when or at(3))


def decide(
    claim: Claim,
    outcome: str,
    amount: str | None = None,
    *,
    actor: Actor = MEDIATOR,
    when: datetime | None = None,
) -> None:
    claim.decide(
        actor=actor,
        outcome=Outcome(outcome),
        amount=amount,
        rationale="photos show the damage",
        policy_version=WINDOWS.version,
        at=when or at(4),
    )


def refund(
    claim: Claim,
    amount: str,
    reference: str = "pay-1",
    *,
    actor: Actor = MERCHANT,
    when: datetime | None = None,
) -> None:
    claim.refund(actor=actor, amount=amount, payment_reference=reference, at=when or at(5))


def add_evidence(claim: Claim, *, actor: Actor, when: datetime | None = None, sha256: str = SHA) -> None:
    claim.add_evidence(
        actor=actor,
        kind=EvidenceKind.PHOTO,
        description="a photo",
        sha256=sha256,
        size_bytes=1024,
        uri=None,
        at=when or at(5),
    )


def request_evidence(
    claim: Claim,
    party: str,
    due_at: datetime | None = None,
    *,
    actor: Actor = MEDIATOR,
    when: datetime | None = None,
) -> None:
    claim.request_evidence(
        actor=actor,
        from_party=Party(party),
        description="a photo of the label",
        due_at=due_at,
        windows=WINDOWS,
        at=when or at(4),
    )


def ship(claim: Claim, *, actor: Actor = BUYER, when: datetime | None = None) -> None:
    claim.ship_return(actor=actor, carrier="SF Express", tracking_number="SF123", at=when or at(2))


def receive(
    claim: Claim, condition: str = "as_sent", *, actor: Actor = MERCHANT, when: datetime | None = None
) -> None:
    claim.receive_return(actor=actor, condition=ReturnCondition(condition), at=when or at(3))


def close(claim: Claim, *, actor: Actor = MEDIATOR, when: datetime | None = None) -> None:
    claim.close(actor=actor, summary="done", at=when or at(9))


# --- fixtures, named by the claim's state -----------------------------------------------------------


@pytest.fixture
def new_claim() -> Claim:
    return open_claim()


@pytest.fixture
def accepted_claim(new_claim: Claim) -> Claim:
    respond(new_claim, "accept")
    return new_claim


@pytest.fixture
def rejected_claim(new_claim: Claim) -> Claim:
    respond(new_claim, "reject")
    return new_claim


@pytest.fixture
def offered_claim(new_claim: Claim) -> Claim:
    respond(new_claim, "offer", "50.00")
    return new_claim


@pytest.fixture
def declined_offer_claim(offered_claim: Claim) -> Claim:
    offered_claim.answer_offer(actor=BUYER, accept=False, at=at(2))
    return offered_claim


@pytest.fixture
def awaiting_return_claim() -> Claim:
    claim = open_claim(kind=ClaimKind.RETURN_AND_REFUND)
    respond(claim, "accept")
    return claim


@pytest.fixture
def return_in_transit_claim(awaiting_return_claim: Claim) -> Claim:
    ship(awaiting_return_claim)
    return awaiting_return_claim


@pytest.fixture
def claim_awaiting_mediator(rejected_claim: Claim) -> Claim:
    request_mediation(rejected_claim)
    return rejected_claim


@pytest.fixture
def claim_under_mediation(claim_awaiting_mediator: Claim) -> Claim:
    assign(claim_awaiting_mediator)
    return claim_awaiting_mediator


@pytest.fixture
def escalated_claim(claim_under_mediation: Claim) -> Claim:
    claim_under_mediation.escalate_to_legal(
        actor=BUYER, reason="going to court", case_reference=None, at=at(5)
    )
    return claim_under_mediation


@pytest.fixture
def withdrawn_claim(new_claim: Claim) -> Claim:
    new_claim.withdraw(actor=BUYER, reason="sorted it out", at=at(1))
    return new_claim


@pytest.fixture
def closed_claim(claim_under_mediation: Claim) -> Claim:
    close(claim_under_mediation, when=at(5))
    return claim_under_mediation


# ===================================================================================================
# opening
# ===================================================================================================


def test_a_buyer_opens_a_claim_that_awaits_the_merchant(new_claim: Claim) -> None:
    assert new_claim.version == 1
    assert new_claim.status == S.AWAITING_MERCHANT
    assert new_claim.buyer_id == BUYER.id
    assert new_claim.merchant_id == MERCHANT.id
    assert new_claim.order_id == "order-1"
    assert new_claim.kind == "refund_only"
    assert new_claim.reason == "damaged"
    assert new_claim.currency == "USD"
    assert new_claim.order_amount == usd("100.00")
    assert new_claim.claimed_amount == usd("80.00")
    assert new_claim.refunded_amount == usd("0")
    assert new_claim.agreed_amount is None
    assert new_claim.mediator_id is None
    assert new_claim.opened_at == T0
    assert new_claim.policy_version == WINDOWS.version


def test_the_opening_event_records_the_buyer_as_actor_and_the_time_given(new_claim: Claim) -> None:
    opened: Any
    (opened,) = new_claim.pending_events

    assert event_type(opened) == "ClaimOpened"
    assert opened.buyer == BUYER
    assert opened.timestamp == T0
    assert opened.originator_version == 1
    assert opened.policy_version == WINDOWS.version


@pytest.mark.parametrize("actor", [MERCHANT, MEDIATOR, AUDITOR, ADMIN, SYSTEM])
def test_only_a_buyer_may_open_a_claim(actor: Actor) -> None:
    with pytest.raises(errors.NotPermitted):
        open_claim(actor=actor)


def test_a_claim_names_a_merchant_by_a_well_formed_id() -> None:
    with pytest.raises(errors.InvalidValue):
        open_claim(merchant_id="no spaces allowed")


def test_a_claim_may_ask_for_the_whole_order_amount() -> None:
    assert open_claim(claimed_amount="100").claimed_amount == usd("100.00")


def test_a_claim_beyond_the_order_amount_is_refused() -> None:
    with pytest.raises(errors.ClaimedAmountExceedsOrder):
        open_claim(claimed_amount="100.01")


@pytest.mark.parametrize("field", ["order_amount", "claimed_amount"])
@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("0", "USD"),
        ("0.00", "USD"),
        ("-5.00", "USD"),
        ("1.001", "USD"),
        ("1.5", "JPY"),
        ("1.2345", "KWD"),
        ("NaN", "USD"),
        ("Infinity", "USD"),
        ("-Infinity", "USD"),
        ("lots", "USD"),
    ],
)
def test_an_amount_that_is_not_a_positive_decimal_of_the_currency_is_refused(
    field: str, amount: str, currency: str
) -> None:
    amounts = {"order_amount": "1000", "claimed_amount": "1", field: amount}
    with pytest.raises(errors.InvalidAmount):
        open_claim(currency=currency, **amounts)


@pytest.mark.parametrize(
    ("currency", "order", "claimed", "expected"),
    [("USD", "100", "12.5", "12.50"), ("JPY", "15000", "1500", "1500"), ("KWD", "10", "1.234", "1.234")],
)
def test_amounts_are_kept_at_the_precision_of_the_claim_currency(
    currency: str, order: str, claimed: str, expected: str
) -> None:
    claim = open_claim(currency=currency, order_amount=order, claimed_amount=claimed)

    assert str(claim.claimed_amount.amount) == expected
    assert claim.claimed_amount.currency == currency == claim.currency


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(errors.UnknownCurrency):
        open_claim(currency="XYZ")


def test_a_delivery_in_the_future_is_refused() -> None:
    with pytest.raises(errors.DeliveryInFuture):
        open_claim(delivered_at=T0 + timedelta(seconds=1))


def test_a_delivery_at_the_moment_of_opening_is_accepted() -> None:
    assert open_claim(delivered_at=T0).delivered_at == T0


def test_a_delivery_time_without_a_zone_is_refused() -> None:
    with pytest.raises(errors.InvalidValue, match="time zone"):
        open_claim(delivered_at=datetime(2026, 11, 1, 12, 0))


def test_a_delivery_time_in_another_zone_is_kept_in_utc() -> None:
    beijing = timezone(timedelta(hours=8))

    claim = open_claim(delivered_at=datetime(2026, 11, 1, 20, 0, tzinfo=beijing))

    assert claim.delivered_at == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert claim.delivered_at.utcoffset() == timedelta(0)


def test_a_not_received_claim_on_an_undelivered_order_is_accepted() -> None:
    claim = open_claim(reason=ClaimReason.NOT_RECEIVED, delivered_at=None)

    assert claim.reason == "not_received"
    assert claim.delivered_at is None


def test_a_not_received_claim_on_a_delivered_order_is_refused() -> None:
    with pytest.raises(errors.NotReceivedButDelivered):
        open_claim(reason=ClaimReason.NOT_RECEIVED, delivered_at=T0 - timedelta(days=1))


def test_a_no_reason_return_needs_a_delivered_order() -> None:
    with pytest.raises(errors.NoReasonReturnNotDelivered):
        open_claim(reason=ClaimReason.NO_REASON_RETURN, kind=ClaimKind.RETURN_AND_REFUND, delivered_at=None)


def no_reason_return(delivered_at: datetime, opened_at: datetime, windows: Windows = WINDOWS) -> Claim:
    return open_claim(
        reason=ClaimReason.NO_REASON_RETURN,
        kind=ClaimKind.RETURN_AND_REFUND,
        delivered_at=delivered_at,
        at=opened_at,
        windows=windows,
    )


DELIVERED_LATE_ON_THE_2ND = datetime(2026, 11, 2, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "opened_at",
    [
        datetime(2026, 11, 2, 23, 30, tzinfo=UTC),  # the day of delivery itself
        datetime(2026, 11, 3, 0, 0, tzinfo=UTC),  # day 1
        datetime(2026, 11, 9, 23, 59, 59, 999999, tzinfo=UTC),  # the last instant of day 7
    ],
)
def test_a_no_reason_return_within_seven_days_after_delivery_is_accepted(opened_at: datetime) -> None:
    assert no_reason_return(DELIVERED_LATE_ON_THE_2ND, opened_at).reason == "no_reason_return"


@pytest.mark.parametrize(
    "opened_at",
    [
        datetime(2026, 11, 10, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 10, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    ],
)
def test_a_no_reason_return_from_the_eighth_day_after_delivery_is_refused(opened_at: datetime) -> None:
    with pytest.raises(errors.NoReasonReturnWindowClosed):
        no_reason_return(DELIVERED_LATE_ON_THE_2ND, opened_at)


SHANGHAI_POLICY = Windows(timezone="Asia/Shanghai")
# 16:30 UTC on 2 November is 00:30 on 3 November in Shanghai: there, day D is the 3rd, and the window
# closes at 00:00 on 11 November, Shanghai time, which is 16:00 UTC on 10 November.
DELIVERED_JUST_AFTER_MIDNIGHT_IN_SHANGHAI = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)


def test_a_no_reason_return_counts_days_in_the_policy_time_zone() -> None:
    last_instant = datetime(2026, 11, 10, 15, 59, 59, 999999, tzinfo=UTC)
    closing = datetime(2026, 11, 10, 16, 0, tzinfo=UTC)

    assert no_reason_return(DELIVERED_JUST_AFTER_MIDNIGHT_IN_SHANGHAI, last_instant, SHANGHAI_POLICY)
    with pytest.raises(errors.NoReasonReturnWindowClosed):
        no_reason_return(DELIVERED_JUST_AFTER_MIDNIGHT_IN_SHANGHAI, closing, SHANGHAI_POLICY)


def test_the_same_no_reason_return_is_late_under_a_utc_policy_and_in_time_under_shanghai() -> None:
    noon_on_the_10th = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)

    with pytest.raises(errors.NoReasonReturnWindowClosed):
        no_reason_return(DELIVERED_JUST_AFTER_MIDNIGHT_IN_SHANGHAI, noon_on_the_10th, WINDOWS)
    assert no_reason_return(DELIVERED_JUST_AFTER_MIDNIGHT_IN_SHANGHAI, noon_on_the_10th, SHANGHAI_POLICY)


def test_a_no_reason_return_delivery_given_in_shanghai_time_gives_the_same_window() -> None:
    delivered_local = DELIVERED_JUST_AFTER_MIDNIGHT_IN_SHANGHAI.astimezone(timezone(timedelta(hours=8)))

    with pytest.raises(errors.NoReasonReturnWindowClosed):
        no_reason_return(delivered_local, datetime(2026, 11, 10, 16, 0, tzinfo=UTC), SHANGHAI_POLICY)
    assert no_reason_return(delivered_local, datetime(2026, 11, 10, 15, 59, tzinfo=UTC), SHANGHAI_POLICY)


# ===================================================================================================
# the merchant's answer
# ===================================================================================================


def test_a_merchant_who_accepts_a_refund_only_claim_agrees_to_the_claimed_amount(
    accepted_claim: Claim,
) -> None:
    assert accepted_claim.status == S.REFUND_PENDING
    assert accepted_claim.agreed_amount == usd("80.00")
    assert accepted_claim.first_response_at == at(1)
    event = last_event(accepted_claim)
    assert event_type(event) == "MerchantResponded"
    assert (event.actor, event.timestamp, event.decision, event.amount) == (MERCHANT, at(1), "accept", None)


def test_a_merchant_who_accepts_a_return_and_refund_waits_for_the_goods(awaiting_return_claim: Claim) -> None:
    assert awaiting_return_claim.status == S.AWAITING_RETURN
    assert awaiting_return_claim.agreed_amount == usd("80.00")


@pytest.mark.parametrize("kind", [ClaimKind.EXCHANGE, ClaimKind.REPAIR])
def test_a_merchant_who_accepts_an_exchange_or_repair_agrees_on_no_refund(kind: ClaimKind) -> None:
    claim = open_claim(kind=kind)

    respond(claim, "accept")

    assert claim.status == S.AWAITING_RETURN
    assert claim.agreed_amount is None


def test_a_merchant_who_rejects_leaves_the_buyer_to_ask_for_mediation(rejected_claim: Claim) -> None:
    assert rejected_claim.status == S.MERCHANT_REJECTED
    assert rejected_claim.agreed_amount is None
    assert last_event(rejected_claim).decision == "reject"


def test_a_merchant_may_offer_a_partial_refund(offered_claim: Claim) -> None:
    assert offered_claim.status == S.OFFER_PENDING
    assert offered_claim.offer_amount == usd("50.00")
    assert offered_claim.agreed_amount is None
    assert last_event(offered_claim).amount == usd("50.00")


def test_an_offer_needs_an_amount(new_claim: Claim) -> None:
    assert_refused(new_claim, errors.AmountRequired, lambda: respond(new_claim, "offer", None))


@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_accepting_or_rejecting_takes_no_amount(new_claim: Claim, decision: str) -> None:
    assert_refused(new_claim, errors.AmountNotAllowed, lambda: respond(new_claim, decision, "10.00"))


@pytest.mark.parametrize("amount", ["80.00", "80", "90.00", "100.00"])
def test_an_offer_of_the_claimed_amount_or_more_is_refused(new_claim: Claim, amount: str) -> None:
    assert_refused(new_claim, errors.OfferExceedsClaim, lambda: respond(new_claim, "offer", amount))


def test_an_offer_just_below_the_claimed_amount_is_accepted(new_claim: Claim) -> None:
    respond(new_claim, "offer", "79.99")

    assert new_claim.offer_amount == usd("79.99")


@pytest.mark.parametrize("amount", ["0", "-1", "10.001", "NaN", "Infinity"])
def test_an_offer_of_an_invalid_amount_is_refused(new_claim: Claim, amount: str) -> None:
    assert_refused(new_claim, errors.InvalidAmount, lambda: respond(new_claim, "offer", amount))


@pytest.mark.parametrize("actor", [OTHER_MERCHANT, BUYER, MEDIATOR, AUDITOR])
def test_only_the_claims_merchant_may_respond(new_claim: Claim, actor: Actor) -> None:
    assert_refused(new_claim, errors.NotClaimMerchant, lambda: respond(new_claim, "accept", actor=actor))


def test_a_merchant_responds_only_once(rejected_claim: Claim) -> None:
    assert_refused(rejected_claim, errors.InvalidTransition, lambda: respond(rejected_claim, "accept"))


# ===================================================================================================
# the buyer's answer to an offer
# ===================================================================================================


def test_a_buyer_who_accepts_the_offer_agrees_to_its_amount(offered_claim: Claim) -> None:
    offered_claim.answer_offer(actor=BUYER, accept=True, at=at(2))

    assert offered_claim.status == S.REFUND_PENDING
    assert offered_claim.agreed_amount == usd("50.00")
    event = last_event(offered_claim)
    assert event_type(event) == "OfferAnswered"
    assert (event.actor, event.timestamp, event.accepted, event.amount) == (BUYER, at(2), True, usd("50.00"))


def test_a_buyer_who_declines_the_offer_may_ask_for_mediation(declined_offer_claim: Claim) -> None:
    assert declined_offer_claim.status == S.OFFER_DECLINED
    assert declined_offer_claim.agreed_amount is None
    assert last_event(declined_offer_claim).accepted is False


@pytest.mark.parametrize("actor", [OTHER_BUYER, MERCHANT, MEDIATOR])
def test_only_the_claims_buyer_may_answer_an_offer(offered_claim: Claim, actor: Actor) -> None:
    assert_refused(
        offered_claim,
        errors.NotClaimBuyer,
        lambda: offered_claim.answer_offer(actor=actor, accept=True, at=at(2)),
    )


@pytest.mark.parametrize("fixture", ["new_claim", "rejected_claim", "declined_offer_claim", "accepted_claim"])
def test_there_is_no_offer_to_answer_unless_one_is_pending(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    claim: Claim = request.getfixturevalue(fixture)

    assert_refused(
        claim, errors.InvalidTransition, lambda: claim.answer_offer(actor=BUYER, accept=True, at=at(3))
    )


# ===================================================================================================
# messages and evidence
# ===================================================================================================


@pytest.mark.parametrize("actor", [BUYER, MERCHANT, MEDIATOR])
def test_each_party_may_post_a_message(claim_under_mediation: Claim, actor: Actor) -> None:
    claim_under_mediation.post_message(actor=actor, body="hello", at=at(4))

    event = last_event(claim_under_mediation)
    assert event_type(event) == "MessagePosted"
    assert (event.actor, event.timestamp, event.body) == (actor, at(4), "hello")
    assert claim_under_mediation.status == S.UNDER_MEDIATION


@pytest.mark.parametrize("actor", [OTHER_BUYER, OTHER_MERCHANT, OTHER_MEDIATOR, AUDITOR, ADMIN])
def test_a_stranger_may_not_post_a_message(claim_under_mediation: Claim, actor: Actor) -> None:
    assert_refused(
        claim_under_mediation,
        errors.NotAParty,
        lambda: claim_under_mediation.post_message(actor=actor, body="hi", at=at(4)),
    )


def test_a_mediator_who_is_not_assigned_is_not_a_party(new_claim: Claim) -> None:
    assert_refused(
        new_claim, errors.NotAParty, lambda: new_claim.post_message(actor=MEDIATOR, body="hi", at=at(1))
    )


def test_a_message_leaves_the_status_and_its_deadline_alone(new_claim: Claim) -> None:
    before = new_claim.deadlines(WINDOWS)

    new_claim.post_message(actor=BUYER, body="any news?", at=at(20))

    assert new_claim.status == S.AWAITING_MERCHANT
    assert new_claim.deadlines(WINDOWS) == before


def test_evidence_records_who_added_what_and_its_digest(new_claim: Claim) -> None:
    new_claim.add_evidence(
        actor=BUYER,
        kind=EvidenceKind.VIDEO,
        description="unboxing",
        sha256="AB" * 32,
        size_bytes=2048,
        uri="https://files.example/1",
        at=at(1),
    )

    event = last_event(new_claim)
    assert event_type(event) == "EvidenceAdded"
    assert event.actor == BUYER and event.timestamp == at(1)
    assert (event.party, event.kind, event.sha256, event.size_bytes, event.uri) == (
        "buyer",
        "video",
        "ab" * 32,
        2048,
        "https://files.example/1",
    )


@pytest.mark.parametrize("sha256", ["", "ab" * 31, "zz" * 32, "ab" * 33])
def test_evidence_needs_a_sha256_digest(new_claim: Claim, sha256: str) -> None:
    assert_refused(
        new_claim, errors.InvalidValue, lambda: add_evidence(new_claim, actor=BUYER, sha256=sha256)
    )


def test_evidence_size_may_not_be_negative(new_claim: Claim) -> None:
    assert_refused(
        new_claim,
        errors.InvalidValue,
        lambda: new_claim.add_evidence(
            actor=BUYER,
            kind=EvidenceKind.PHOTO,
            description="",
            sha256=SHA,
            size_bytes=-1,
            uri=None,
            at=at(1),
        ),
    )


@pytest.mark.parametrize("actor", [OTHER_BUYER, OTHER_MERCHANT, MEDIATOR])
def test_a_stranger_may_not_add_evidence(new_claim: Claim, actor: Actor) -> None:
    assert_refused(new_claim, errors.NotAParty, lambda: add_evidence(new_claim, actor=actor))


def test_the_message_past_the_policys_cap_is_refused_before_any_event(new_claim: Claim) -> None:
    policy = Policy(limits=Limits(claim_messages=2), windows=Windows(version="2026-12-caps"))
    for n in range(2):
        new_claim.post_message(actor=BUYER, body=f"message {n}", at=at(1), policy=policy)

    with pytest.raises(errors.ClaimMessageLimit) as raised:
        new_claim.post_message(actor=MERCHANT, body="one more", at=at(2), policy=policy)

    assert raised.value.extra == {"rule": "claim-message-limit", "policy_version": "2026-12-caps", "limit": 2}
    assert_refused(
        new_claim, errors.ClaimMessageLimit,
        lambda: new_claim.post_message(actor=MERCHANT, body="one more", at=at(2), policy=policy),
    )
    new_claim.post_message(actor=MERCHANT, body="under the default cap", at=at(2))


def test_the_evidence_past_the_policys_cap_is_refused_before_any_event(new_claim: Claim) -> None:
    policy = Policy(limits=Limits(claim_evidence=1))
    new_claim.add_evidence(
        actor=BUYER, kind=EvidenceKind.PHOTO, description="", sha256=SHA, size_bytes=1, uri=None, at=at(1),
        policy=policy,
    )

    assert_refused(
        new_claim,
        errors.ClaimEvidenceLimit,
        lambda: new_claim.add_evidence(
            actor=MERCHANT, kind=EvidenceKind.PHOTO, description="", sha256=SHA, size_bytes=1, uri=None,
            at=at(2), policy=policy,
        ),
    )


def test_a_replayed_claim_counts_its_messages_and_evidence_from_its_events(new_claim: Claim) -> None:
    for n in range(3):
        new_claim.post_message(actor=BUYER, body=f"message {n}", at=at(1))
    add_evidence(new_claim, actor=MERCHANT)

    rebuilt = replay(new_claim.collect_events())

    assert (rebuilt.message_count, rebuilt.evidence_count) == (3, 1)
    assert (new_claim.message_count, new_claim.evidence_count) == (3, 1)


# ===================================================================================================
# mediation
# ===================================================================================================


@pytest.mark.parametrize(
    ("fixture", "actor"),
    [
        ("rejected_claim", BUYER),
        ("rejected_claim", MERCHANT),
        ("declined_offer_claim", BUYER),
        ("offered_claim", MERCHANT),
        ("accepted_claim", BUYER),
        ("awaiting_return_claim", BUYER),
        ("return_in_transit_claim", MERCHANT),
    ],
)
def test_a_buyer_or_merchant_may_ask_the_platform_to_step_in(
    request: pytest.FixtureRequest, fixture: str, actor: Actor
) -> None:
    claim: Claim = request.getfixturevalue(fixture)

    request_mediation(claim, actor=actor, when=at(6))

    assert claim.status == S.UNDER_MEDIATION
    assert claim.mediation_requested is True
    assert claim.status_since == at(6)
    event = last_event(claim)
    assert event_type(event) == "MediationRequested"
    assert (event.actor, event.timestamp, event.reason) == (actor, at(6), "we cannot agree")


def test_mediation_cannot_be_requested_before_the_merchant_answers(new_claim: Claim) -> None:
    assert_refused(new_claim, errors.InvalidTransition, lambda: request_mediation(new_claim))


def test_mediation_cannot_be_requested_twice(claim_awaiting_mediator: Claim) -> None:
    assert_refused(
        claim_awaiting_mediator, errors.InvalidTransition, lambda: request_mediation(claim_awaiting_mediator)
    )


@pytest.mark.parametrize("actor", [MEDIATOR, OTHER_BUYER, OTHER_MERCHANT, AUDITOR])
def test_only_the_buyer_or_merchant_may_ask_for_mediation(rejected_claim: Claim, actor: Actor) -> None:
    assert_refused(rejected_claim, errors.NotAParty, lambda: request_mediation(rejected_claim, actor=actor))


def test_a_mediator_takes_the_case(claim_under_mediation: Claim) -> None:
    assert claim_under_mediation.mediator_id == MEDIATOR.id
    assert claim_under_mediation.status == S.UNDER_MEDIATION
    event = last_event(claim_under_mediation)
    assert event_type(event) == "MediatorAssigned"
    assert (event.actor, event.timestamp, event.mediator_id) == (MEDIATOR, at(3), MEDIATOR.id)


def test_a_mediator_may_give_the_case_to_a_colleague(claim_under_mediation: Claim) -> None:
    assign(claim_under_mediation, OTHER_MEDIATOR, actor=MEDIATOR, when=at(4))

    assert claim_under_mediation.mediator_id == OTHER_MEDIATOR.id
    assert last_event(claim_under_mediation).actor == MEDIATOR


def test_the_platform_may_assign_a_mediator_before_anyone_asks(new_claim: Claim) -> None:
    assign(new_claim, when=at(1))

    assert new_claim.mediator_id == MEDIATOR.id
    assert new_claim.status == S.AWAITING_MERCHANT


def test_assigning_the_mediator_already_assigned_is_refused(claim_under_mediation: Claim) -> None:
    assert_refused(claim_under_mediation, errors.InvalidTransition, lambda: assign(claim_under_mediation))


@pytest.mark.parametrize("actor", [BUYER, MERCHANT, AUDITOR, ADMIN])
def test_only_a_mediator_may_assign_a_mediator(claim_awaiting_mediator: Claim, actor: Actor) -> None:
    assert_refused(
        claim_awaiting_mediator,
        errors.NotPermitted,
        lambda: assign(claim_awaiting_mediator, MEDIATOR, actor=actor),
    )


def test_a_mediator_id_must_be_well_formed(claim_awaiting_mediator: Claim) -> None:
    with pytest.raises(errors.InvalidValue):
        claim_awaiting_mediator.assign_mediator(actor=MEDIATOR, mediator_id="bad id", at=at(3))


def test_the_assigned_mediator_requests_evidence_due_in_seventy_two_hours_by_default(
    claim_under_mediation: Claim,
) -> None:
    request_evidence(claim_under_mediation, "merchant", when=at(4))

    assert claim_under_mediation.evidence_due == {"merchant": at(4) + timedelta(hours=72)}
    event = last_event(claim_under_mediation)
    assert event_type(event) == "EvidenceRequested"
    assert (event.actor, event.timestamp, event.from_party, event.due_at) == (
        MEDIATOR,
        at(4),
        "merchant",
        at(76),
    )


def test_an_evidence_request_may_name_its_own_due_time(claim_under_mediation: Claim) -> None:
    request_evidence(claim_under_mediation, "buyer", at(30), when=at(4))

    assert claim_under_mediation.evidence_due == {"buyer": at(30)}


def test_an_evidence_due_time_in_another_zone_is_kept_in_utc(claim_under_mediation: Claim) -> None:
    beijing = timezone(timedelta(hours=8))

    request_evidence(claim_under_mediation, "buyer", at(30).astimezone(beijing), when=at(4))

    assert claim_under_mediation.evidence_due["buyer"] == at(30)
    assert claim_under_mediation.evidence_due["buyer"].utcoffset() == timedelta(0)


def test_an_evidence_due_time_without_a_zone_is_refused(claim_under_mediation: Claim) -> None:
    assert_refused(
        claim_under_mediation,
        errors.InvalidValue,
        lambda: request_evidence(claim_under_mediation, "buyer", datetime(2026, 11, 20, 12, 0)),
    )


@pytest.mark.parametrize("due", [at(4), at(3), at(-100)])
def test_evidence_due_now_or_in_the_past_is_refused(claim_under_mediation: Claim, due: datetime) -> None:
    assert_refused(
        claim_under_mediation,
        errors.EvidenceDueInPast,
        lambda: request_evidence(claim_under_mediation, "buyer", due, when=at(4)),
    )


def test_evidence_cannot_be_requested_before_a_mediator_is_assigned(claim_awaiting_mediator: Claim) -> None:
    assert_refused(
        claim_awaiting_mediator,
        errors.MediatorNotAssigned,
        lambda: request_evidence(claim_awaiting_mediator, "buyer"),
    )


@pytest.mark.parametrize("actor", [OTHER_MEDIATOR, BUYER, MERCHANT])
def test_only_the_assigned_mediator_requests_evidence(claim_under_mediation: Claim, actor: Actor) -> None:
    assert_refused(
        claim_under_mediation,
        errors.NotAssignedMediator,
        lambda: request_evidence(claim_under_mediation, "buyer", actor=actor),
    )


def test_evidence_is_requested_only_under_mediation(new_claim: Claim) -> None:
    assign(new_claim, when=at(1))

    assert_refused(new_claim, errors.InvalidTransition, lambda: request_evidence(new_claim, "buyer"))


# --- decisions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "amount", "status", "agreed"),
    [
        ("full_refund", None, S.REFUND_PENDING, "80.00"),
        ("full_refund", "100.00", S.REFUND_PENDING, "100.00"),
        ("partial_refund", "30.00", S.REFUND_PENDING, "30.00"),
        ("return_then_refund", None, S.AWAITING_RETURN, "80.00"),
        ("return_then_refund", "60", S.AWAITING_RETURN, "60.00"),
        ("exchange", None, S.AWAITING_RETURN, None),
        ("repair", None, S.AWAITING_RETURN, None),
        ("claim_rejected", None, S.CLAIM_REJECTED, None),
    ],
)
def test_the_assigned_mediator_decides_the_outcome(
    claim_under_mediation: Claim, outcome: str, amount: str | None, status: ClaimStatus, agreed: str | None
) -> None:
    decide(claim_under_mediation, outcome, amount, when=at(7))

    assert claim_under_mediation.status == status
    assert claim_under_mediation.outcome == outcome
    assert claim_under_mediation.agreed_amount == (usd(agreed) if agreed else None)
    event = last_event(claim_under_mediation)
    assert event_type(event) == "Mediated"
    assert (event.actor, event.timestamp, event.outcome, event.policy_version) == (
        MEDIATOR,
        at(7),
        outcome,
        WINDOWS.version,
    )
    assert event.amount == (usd(agreed) if agreed else None)
    assert event.rationale == "photos show the damage"


def test_a_partial_refund_decision_needs_an_amount(claim_under_mediation: Claim) -> None:
    assert_refused(
        claim_under_mediation, errors.AmountRequired, lambda: decide(claim_under_mediation, "partial_refund")
    )


@pytest.mark.parametrize("outcome", ["exchange", "repair", "claim_rejected"])
def test_a_decision_without_money_takes_no_amount(claim_under_mediation: Claim, outcome: str) -> None:
    assert_refused(
        claim_under_mediation,
        errors.AmountNotAllowed,
        lambda: decide(claim_under_mediation, outcome, "10.00"),
    )


@pytest.mark.parametrize("outcome", ["full_refund", "partial_refund", "return_then_refund"])
def test_a_decision_beyond_the_order_amount_is_refused(claim_under_mediation: Claim, outcome: str) -> None:
    assert_refused(
        claim_under_mediation,
        errors.DecisionExceedsOrder,
        lambda: decide(claim_under_mediation, outcome, "100.01"),
    )


@pytest.mark.parametrize("amount", ["0", "-10", "10.005", "NaN"])
def test_a_decision_of_an_invalid_amount_is_refused(claim_under_mediation: Claim, amount: str) -> None:
    assert_refused(
        claim_under_mediation,
        errors.InvalidAmount,
        lambda: decide(claim_under_mediation, "partial_refund", amount),
    )


@pytest.mark.parametrize("fixture", ["new_claim", "rejected_claim", "accepted_claim", "offered_claim"])
def test_a_decision_needs_mediation(request: pytest.FixtureRequest, fixture: str) -> None:
    claim: Claim = request.getfixturevalue(fixture)
    assign(claim, when=at(3))

    assert_refused(claim, errors.MediationRequired, lambda: decide(claim, "full_refund"))


def test_a_decision_needs_an_assigned_mediator(claim_awaiting_mediator: Claim) -> None:
    assert_refused(
        claim_awaiting_mediator,
        errors.MediatorNotAssigned,
        lambda: decide(claim_awaiting_mediator, "full_refund"),
    )


@pytest.mark.parametrize("actor", [OTHER_MEDIATOR, BUYER, MERCHANT, AUDITOR])
def test_only_the_assigned_mediator_decides(claim_under_mediation: Claim, actor: Actor) -> None:
    assert_refused(
        claim_under_mediation,
        errors.NotAssignedMediator,
        lambda: decide(claim_under_mediation, "full_refund", actor=actor),
    )


def test_a_second_decision_needs_mediation_again(claim_under_mediation: Claim) -> None:
    decide(claim_under_mediation, "partial_refund", "30.00")

    assert_refused(
        claim_under_mediation, errors.MediationRequired, lambda: decide(claim_under_mediation, "full_refund")
    )


def test_a_decision_closes_the_open_evidence_requests(claim_under_mediation: Claim) -> None:
    request_evidence(claim_under_mediation, "buyer", when=at(4))

    decide(claim_under_mediation, "claim_rejected", when=at(5))

    assert claim_under_mediation.evidence_due == {}
    assert claim_under_mediation.deadlines(WINDOWS) == []


def test_a_decision_for_an_exchange_supersedes_an_earlier_refund_agreement(accepted_claim: Claim) -> None:
    request_mediation(accepted_claim, when=at(2))  # the merchant agreed but never paid
    assign(accepted_claim, when=at(3))
    decide(accepted_claim, "exchange", when=at(4))
    ship(accepted_claim, when=at(5))

    receive(accepted_claim, when=at(6))

    assert accepted_claim.agreed_amount is None
    assert accepted_claim.status == S.FULFILMENT_PENDING


# ===================================================================================================
# the return of goods
# ===================================================================================================


def test_the_buyer_ships_the_return(awaiting_return_claim: Claim) -> None:
    ship(awaiting_return_claim, when=at(2))

    assert awaiting_return_claim.status == S.RETURN_IN_TRANSIT
    event = last_event(awaiting_return_claim)
    assert event_type(event) == "ReturnShipped"
    assert (event.actor, event.timestamp, event.carrier, event.tracking_number) == (
        BUYER,
        at(2),
        "SF Express",
        "SF123",
    )


@pytest.mark.parametrize("actor", [OTHER_BUYER, MERCHANT, MEDIATOR])
def test_only_the_claims_buyer_ships_the_return(awaiting_return_claim: Claim, actor: Actor) -> None:
    assert_refused(
        awaiting_return_claim, errors.NotClaimBuyer, lambda: ship(awaiting_return_claim, actor=actor)
    )


@pytest.mark.parametrize("fixture", ["new_claim", "accepted_claim", "return_in_transit_claim"])
def test_a_return_is_shipped_only_when_one_is_awaited(request: pytest.FixtureRequest, fixture: str) -> None:
    claim: Claim = request.getfixturevalue(fixture)

    assert_refused(claim, errors.InvalidTransition, lambda: ship(claim))


def test_a_return_received_as_sent_leads_to_the_agreed_refund(return_in_transit_claim: Claim) -> None:
    receive(return_in_transit_claim, when=at(3))

    assert return_in_transit_claim.status == S.REFUND_PENDING
    assert return_in_transit_claim.return_condition == "as_sent"
    event = last_event(return_in_transit_claim)
    assert event_type(event) == "ReturnReceived"
    assert (event.actor, event.timestamp, event.condition) == (MERCHANT, at(3), "as_sent")


@pytest.mark.parametrize("condition", ["damaged", "not_received"])
def test_a_disputed_return_goes_to_the_platform_at_once(
    return_in_transit_claim: Claim, condition: str
) -> None:
    receive(return_in_transit_claim, condition, when=at(3))

    assert return_in_transit_claim.status == S.UNDER_MEDIATION
    assert return_in_transit_claim.mediation_requested is True
    assert return_in_transit_claim.return_condition == condition


@pytest.mark.parametrize("kind", [ClaimKind.EXCHANGE, ClaimKind.REPAIR])
def test_an_accepted_exchange_or_repair_leads_to_fulfilment_not_a_refund(kind: ClaimKind) -> None:
    claim = open_claim(kind=kind)
    respond(claim, "accept")
    ship(claim)

    receive(claim)

    assert claim.status == S.FULFILMENT_PENDING
    assert claim.deadlines(WINDOWS) == []


@pytest.mark.parametrize("actor", [OTHER_MERCHANT, BUYER, MEDIATOR])
def test_only_the_claims_merchant_records_the_returns_receipt(
    return_in_transit_claim: Claim, actor: Actor
) -> None:
    assert_refused(
        return_in_transit_claim,
        errors.NotClaimMerchant,
        lambda: receive(return_in_transit_claim, actor=actor),
    )


def test_a_return_is_received_only_once_shipped(awaiting_return_claim: Claim) -> None:
    assert_refused(awaiting_return_claim, errors.InvalidTransition, lambda: receive(awaiting_return_claim))


# ===================================================================================================
# refunds
# ===================================================================================================


def test_the_merchant_refunds_the_agreed_amount(accepted_claim: Claim) -> None:
    refund(accepted_claim, "80.00", "pay-1", when=at(5))

    assert accepted_claim.status == S.REFUNDED
    assert accepted_claim.refunded_amount == usd("80.00")
    assert accepted_claim.payment_references == ["pay-1"]
    event = last_event(accepted_claim)
    assert event_type(event) == "Refunded"
    assert (event.actor, event.timestamp, event.amount, event.payment_reference) == (
        MERCHANT,
        at(5),
        usd("80.00"),
        "pay-1",
    )


def test_refunds_in_parts_add_up_to_the_agreed_amount(accepted_claim: Claim) -> None:
    refund(accepted_claim, "30.00", "pay-1", when=at(5))
    assert accepted_claim.status == S.REFUND_PENDING
    assert accepted_claim.refunded_amount == usd("30.00")

    refund(accepted_claim, "50.00", "pay-2", when=at(6))

    assert accepted_claim.status == S.REFUNDED
    assert accepted_claim.refunded_amount == usd("80.00")
    assert accepted_claim.payment_references == ["pay-1", "pay-2"]


def test_the_assigned_mediator_may_refund(claim_under_mediation: Claim) -> None:
    decide(claim_under_mediation, "full_refund")

    refund(claim_under_mediation, "80.00", actor=MEDIATOR)

    assert claim_under_mediation.status == S.REFUNDED
    assert last_event(claim_under_mediation).actor == MEDIATOR


@pytest.mark.parametrize("actor", [BUYER, OTHER_MERCHANT, MEDIATOR, AUDITOR])
def test_only_the_merchant_or_the_assigned_mediator_refunds(accepted_claim: Claim, actor: Actor) -> None:
    assert_refused(accepted_claim, errors.NotPermitted, lambda: refund(accepted_claim, "80.00", actor=actor))


def test_a_refund_beyond_the_order_amount_is_refused(accepted_claim: Claim) -> None:
    assert_refused(accepted_claim, errors.RefundExceedsOrder, lambda: refund(accepted_claim, "100.01"))


def test_refunds_that_would_together_exceed_the_order_amount_are_refused(accepted_claim: Claim) -> None:
    refund(accepted_claim, "70.00", "pay-1")

    assert_refused(
        accepted_claim, errors.RefundExceedsOrder, lambda: refund(accepted_claim, "30.01", "pay-2")
    )


def test_a_refund_beyond_the_agreed_amount_is_refused(accepted_claim: Claim) -> None:
    assert_refused(accepted_claim, errors.RefundExceedsAgreed, lambda: refund(accepted_claim, "80.01"))


def test_a_refund_beyond_an_accepted_offer_is_refused(offered_claim: Claim) -> None:
    offered_claim.answer_offer(actor=BUYER, accept=True, at=at(2))

    assert_refused(offered_claim, errors.RefundExceedsAgreed, lambda: refund(offered_claim, "50.01"))


def test_a_payment_reference_is_used_once_per_claim(accepted_claim: Claim) -> None:
    refund(accepted_claim, "10.00", "pay-1")

    assert_refused(
        accepted_claim, errors.DuplicatePaymentReference, lambda: refund(accepted_claim, "10.00", "pay-1")
    )


@pytest.mark.parametrize("amount", ["0", "0.00", "-1.00", "1.005", "NaN", "Infinity", "ten"])
def test_a_refund_of_an_invalid_amount_is_refused(accepted_claim: Claim, amount: str) -> None:
    assert_refused(accepted_claim, errors.InvalidAmount, lambda: refund(accepted_claim, amount))


def test_a_refund_is_in_the_claims_currency_precision() -> None:
    claim = open_claim(currency="JPY", order_amount="5000", claimed_amount="5000")
    respond(claim, "accept")

    assert_refused(claim, errors.InvalidAmount, lambda: refund(claim, "4999.5"))
    refund(claim, "5000")
    assert str(claim.refunded_amount.amount) == "5000"


@pytest.mark.parametrize(
    "fixture",
    ["new_claim", "rejected_claim", "awaiting_return_claim", "claim_under_mediation", "escalated_claim"],
)
def test_a_refund_needs_a_refund_to_be_pending(request: pytest.FixtureRequest, fixture: str) -> None:
    claim: Claim = request.getfixturevalue(fixture)

    assert_refused(claim, errors.InvalidTransition, lambda: refund(claim, "10.00"))


def test_nothing_more_is_refunded_once_refunded(accepted_claim: Claim) -> None:
    refund(accepted_claim, "80.00", "pay-1")

    assert_refused(accepted_claim, errors.InvalidTransition, lambda: refund(accepted_claim, "1.00", "pay-2"))


# ===================================================================================================
# deadlines
# ===================================================================================================


def deadline_names(claim: Claim) -> dict[str, datetime]:
    return {d.name: d.due_at for d in claim.deadlines(WINDOWS)}


VERSION = WINDOWS.version


def decision_due(claim: Claim) -> Deadline:
    """Under mediation, the platform's own deadline: the decision window from the start of mediation."""
    return Deadline(
        "mediator_decision", claim.status_since + WINDOWS.mediator_decision, "mediator-late-flagged", VERSION
    )


def evidence_due(party: str, due: datetime) -> Deadline:
    return Deadline(f"evidence_from_{party}", due, "evidence-not-provided", VERSION)


def test_the_merchant_has_forty_eight_hours_to_answer(new_claim: Claim) -> None:
    assert new_claim.deadlines(WINDOWS) == [
        Deadline("merchant_response", T0 + timedelta(hours=48), "merchant-silent-accepts", VERSION)
    ]


def test_the_buyer_has_forty_eight_hours_to_answer_an_offer(offered_claim: Claim) -> None:
    assert deadline_names(offered_claim) == {"offer_answer": at(1) + timedelta(hours=48)}


def test_a_rejection_leaves_seven_days_to_ask_for_mediation(rejected_claim: Claim) -> None:
    assert deadline_names(rejected_claim) == {"mediation_request": at(1) + timedelta(days=7)}


def test_a_declined_offer_leaves_seven_days_to_ask_for_mediation(declined_offer_claim: Claim) -> None:
    assert deadline_names(declined_offer_claim) == {"mediation_request": at(2) + timedelta(days=7)}


def test_the_buyer_has_seven_days_to_ship_the_return(awaiting_return_claim: Claim) -> None:
    assert deadline_names(awaiting_return_claim) == {"return_shipment": at(1) + timedelta(days=7)}


def test_the_merchant_has_seven_days_to_refund(accepted_claim: Claim) -> None:
    assert deadline_names(accepted_claim) == {"merchant_refund": at(1) + timedelta(days=7)}


def test_a_partial_refund_does_not_restart_the_refund_deadline(accepted_claim: Claim) -> None:
    refund(accepted_claim, "10.00", when=at(30))

    assert deadline_names(accepted_claim) == {"merchant_refund": at(1) + timedelta(days=7)}


def test_a_return_in_transit_waits_for_no_deadline(return_in_transit_claim: Claim) -> None:
    assert return_in_transit_claim.deadlines(WINDOWS) == []


def test_each_open_evidence_request_is_a_deadline_at_its_due_time(claim_under_mediation: Claim) -> None:
    request_evidence(claim_under_mediation, "buyer", at(50), when=at(4))
    request_evidence(claim_under_mediation, "merchant", at(30), when=at(4))

    assert claim_under_mediation.deadlines(WINDOWS) == [
        evidence_due("merchant", at(30)),
        evidence_due("buyer", at(50)),
        decision_due(claim_under_mediation),
    ]


def test_evidence_from_a_party_clears_only_that_partys_deadline(claim_under_mediation: Claim) -> None:
    request_evidence(claim_under_mediation, "buyer", at(50), when=at(4))
    request_evidence(claim_under_mediation, "merchant", at(30), when=at(4))

    add_evidence(claim_under_mediation, actor=BUYER, when=at(10))

    assert claim_under_mediation.deadlines(WINDOWS) == [
        evidence_due("merchant", at(30)),
        decision_due(claim_under_mediation),
    ]


def test_evidence_from_the_mediator_clears_no_deadline(claim_under_mediation: Claim) -> None:
    request_evidence(claim_under_mediation, "buyer", at(50), when=at(4))

    add_evidence(claim_under_mediation, actor=MEDIATOR, when=at(10))

    assert deadline_names(claim_under_mediation) == {
        "evidence_from_buyer": at(50),
        "mediator_decision": decision_due(claim_under_mediation).due_at,
    }


def test_a_second_request_to_the_same_party_moves_its_due_time(claim_under_mediation: Claim) -> None:
    request_evidence(claim_under_mediation, "buyer", at(50), when=at(4))
    request_evidence(claim_under_mediation, "buyer", at(80), when=at(5))

    assert deadline_names(claim_under_mediation) == {
        "evidence_from_buyer": at(80),
        "mediator_decision": decision_due(claim_under_mediation).due_at,
    }


def test_the_policy_in_force_when_a_deadline_opens_sets_it_and_a_later_policy_leaves_it_alone() -> None:
    shorter = Windows(merchant_response=timedelta(hours=24), version="2026-12")
    claim = open_claim(windows=shorter)
    opened = [Deadline("merchant_response", T0 + timedelta(hours=24), "merchant-silent-accepts", "2026-12")]

    assert claim.deadlines(shorter) == opened
    assert claim.deadlines(Windows(merchant_response=timedelta(hours=72))) == opened


def test_the_platform_records_a_missed_deadline_once_it_is_due(new_claim: Claim) -> None:
    new_claim.record_deadline_missed(actor=SYSTEM, deadline="merchant_response", windows=WINDOWS, at=at(48))

    event = last_event(new_claim)
    assert event_type(event) == "DeadlineMissed"
    assert (event.actor, event.timestamp, event.deadline, event.due_at) == (
        SYSTEM,
        at(48),
        "merchant_response",
        at(48),
    )


def test_a_missed_deadline_is_recorded_once(new_claim: Claim) -> None:
    new_claim.record_deadline_missed(actor=SYSTEM, deadline="merchant_response", windows=WINDOWS, at=at(48))

    assert_refused(
        new_claim,
        errors.InvalidTransition,
        lambda: new_claim.record_deadline_missed(
            actor=SYSTEM, deadline="merchant_response", windows=WINDOWS, at=at(49)
        ),
    )


def test_a_deadline_of_the_same_name_but_a_new_due_time_may_be_missed_again(
    claim_under_mediation: Claim,
) -> None:
    request_evidence(claim_under_mediation, "buyer", at(30), when=at(4))
    claim_under_mediation.record_deadline_missed(
        actor=SYSTEM, deadline="evidence_from_buyer", windows=WINDOWS, at=at(31)
    )
    request_evidence(claim_under_mediation, "buyer", at(60), when=at(32))

    claim_under_mediation.record_deadline_missed(
        actor=SYSTEM, deadline="evidence_from_buyer", windows=WINDOWS, at=at(61)
    )

    assert [
        getattr(e, "due_at", None)
        for e in claim_under_mediation.pending_events
        if event_type(e) == "DeadlineMissed"
    ] == [
        at(30),
        at(60),
    ]


def test_a_deadline_not_yet_due_cannot_be_missed(new_claim: Claim) -> None:
    assert_refused(
        new_claim,
        errors.InvalidTransition,
        lambda: new_claim.record_deadline_missed(
            actor=SYSTEM, deadline="merchant_response", windows=WINDOWS, at=at(47.99)
        ),
    )


def test_a_deadline_the_claim_does_not_have_cannot_be_missed(new_claim: Claim) -> None:
    assert_refused(
        new_claim,
        errors.InvalidTransition,
        lambda: new_claim.record_deadline_missed(
            actor=SYSTEM, deadline="merchant_refund", windows=WINDOWS, at=at(999)
        ),
    )


@pytest.mark.parametrize("actor", [BUYER, MERCHANT, MEDIATOR, ADMIN])
def test_only_the_platform_records_missed_deadlines(new_claim: Claim, actor: Actor) -> None:
    assert_refused(
        new_claim,
        errors.NotPermitted,
        lambda: new_claim.record_deadline_missed(
            actor=actor, deadline="merchant_response", windows=WINDOWS, at=at(100)
        ),
    )


def test_a_missed_evidence_deadline_is_no_longer_open(claim_under_mediation: Claim) -> None:
    request_evidence(claim_under_mediation, "buyer", at(30), when=at(4))

    claim_under_mediation.record_deadline_missed(
        actor=SYSTEM, deadline="evidence_from_buyer", windows=WINDOWS, at=at(31)
    )

    assert claim_under_mediation.deadlines(WINDOWS) == [decision_due(claim_under_mediation)]
    assert last_event(claim_under_mediation).due_at == at(30)


# ===================================================================================================
# legal proceedings, withdrawal and closure
# ===================================================================================================


@pytest.mark.parametrize("actor", [BUYER, MERCHANT, MEDIATOR])
def test_a_party_may_take_the_claim_to_the_courts(claim_under_mediation: Claim, actor: Actor) -> None:
    request_evidence(claim_under_mediation, "buyer", when=at(4))

    claim_under_mediation.escalate_to_legal(
        actor=actor, reason="no agreement", case_reference="C-1", at=at(5)
    )

    assert claim_under_mediation.status == S.ESCALATED_TO_LEGAL
    assert claim_under_mediation.legal_case_reference == "C-1"
    assert claim_under_mediation.deadlines(WINDOWS) == []
    event = last_event(claim_under_mediation)
    assert event_type(event) == "EscalatedToLegal"
    assert (event.actor, event.timestamp, event.reason) == (actor, at(5), "no agreement")


@pytest.mark.parametrize("actor", [OTHER_BUYER, OTHER_MERCHANT, OTHER_MEDIATOR, AUDITOR])
def test_a_stranger_may_not_take_the_claim_to_the_courts(claim_under_mediation: Claim, actor: Actor) -> None:
    assert_refused(
        claim_under_mediation,
        errors.NotAParty,
        lambda: claim_under_mediation.escalate_to_legal(
            actor=actor, reason="x", case_reference=None, at=at(5)
        ),
    )


def test_a_claim_goes_to_the_courts_once(escalated_claim: Claim) -> None:
    assert_refused(
        escalated_claim,
        errors.InvalidTransition,
        lambda: escalated_claim.escalate_to_legal(actor=MERCHANT, reason="x", case_reference=None, at=at(6)),
    )


def test_a_mediator_records_the_legal_outcome(escalated_claim: Claim) -> None:
    escalated_claim.record_legal_outcome(actor=OTHER_MEDIATOR, outcome="buyer won", reference="J-7", at=at(6))

    assert escalated_claim.status == S.LEGAL_CONCLUDED
    assert escalated_claim.legal_outcome == "buyer won"
    event = last_event(escalated_claim)
    assert event_type(event) == "LegalOutcomeRecorded"
    assert (event.actor, event.timestamp, event.reference) == (OTHER_MEDIATOR, at(6), "J-7")
    assert_refused(
        escalated_claim,
        errors.InvalidTransition,
        lambda: escalated_claim.escalate_to_legal(actor=BUYER, reason="again", case_reference=None, at=at(7)),
    )


@pytest.mark.parametrize("actor", [BUYER, MERCHANT, AUDITOR])
def test_only_a_mediator_records_the_legal_outcome(escalated_claim: Claim, actor: Actor) -> None:
    assert_refused(
        escalated_claim,
        errors.NotPermitted,
        lambda: escalated_claim.record_legal_outcome(actor=actor, outcome="x", reference="r", at=at(6)),
    )


def test_a_legal_outcome_needs_legal_proceedings(claim_under_mediation: Claim) -> None:
    assert_refused(
        claim_under_mediation,
        errors.InvalidTransition,
        lambda: claim_under_mediation.record_legal_outcome(
            actor=MEDIATOR, outcome="x", reference="r", at=at(6)
        ),
    )


def test_the_buyer_may_withdraw_the_claim(withdrawn_claim: Claim) -> None:
    assert withdrawn_claim.status == S.WITHDRAWN
    assert withdrawn_claim.is_terminal
    assert withdrawn_claim.deadlines(WINDOWS) == []
    event = last_event(withdrawn_claim)
    assert event_type(event) == "Withdrawn"
    assert (event.actor, event.timestamp, event.reason) == (BUYER, at(1), "sorted it out")


@pytest.mark.parametrize("actor", [OTHER_BUYER, MERCHANT, MEDIATOR])
def test_only_the_claims_buyer_may_withdraw(new_claim: Claim, actor: Actor) -> None:
    assert_refused(
        new_claim, errors.NotClaimBuyer, lambda: new_claim.withdraw(actor=actor, reason="x", at=at(1))
    )


def test_the_assigned_mediator_closes_the_claim(closed_claim: Claim) -> None:
    assert closed_claim.status == S.CLOSED
    assert closed_claim.is_terminal
    event = last_event(closed_claim)
    assert event_type(event) == "Closed"
    assert (event.actor, event.timestamp, event.summary) == (MEDIATOR, at(5), "done")


def test_a_claim_without_a_mediator_cannot_be_closed(rejected_claim: Claim) -> None:
    assert_refused(rejected_claim, errors.MediatorNotAssigned, lambda: close(rejected_claim))


@pytest.mark.parametrize("actor", [OTHER_MEDIATOR, BUYER, MERCHANT])
def test_only_the_assigned_mediator_closes_the_claim(claim_under_mediation: Claim, actor: Actor) -> None:
    assert_refused(
        claim_under_mediation, errors.NotAssignedMediator, lambda: close(claim_under_mediation, actor=actor)
    )


@pytest.mark.parametrize("actor", [BUYER, MERCHANT, AUDITOR])
def test_who_may_never_close_is_refused_as_such_even_before_a_mediator_is_assigned(
    rejected_claim: Claim, actor: Actor
) -> None:
    assert_refused(rejected_claim, errors.NotAssignedMediator, lambda: close(rejected_claim, actor=actor))


@pytest.mark.parametrize("actor", [BUYER, MERCHANT])
def test_who_may_never_request_evidence_is_refused_as_such_before_assignment(
    claim_awaiting_mediator: Claim, actor: Actor
) -> None:
    assert_refused(
        claim_awaiting_mediator,
        errors.NotAssignedMediator,
        lambda: request_evidence(claim_awaiting_mediator, "buyer", actor=actor),
    )


@pytest.mark.parametrize("actor", [BUYER, MERCHANT])
def test_who_may_never_decide_is_refused_as_such_whatever_the_status(new_claim: Claim, actor: Actor) -> None:
    assert_refused(
        new_claim, errors.NotAssignedMediator, lambda: decide(new_claim, "full_refund", actor=actor)
    )


COMMANDS: dict[str, Callable[[Claim], None]] = {
    "respond": lambda c: respond(c, "accept", when=at(10)),
    "answer_offer": lambda c: c.answer_offer(actor=BUYER, accept=True, at=at(10)),
    "post_message": lambda c: c.post_message(actor=BUYER, body="hello?", at=at(10)),
    "add_evidence": lambda c: add_evidence(c, actor=BUYER, when=at(10)),
    "request_mediation": lambda c: request_mediation(c, when=at(10)),
    "assign_mediator": lambda c: assign(c, OTHER_MEDIATOR, when=at(10)),
    "request_evidence": lambda c: request_evidence(c, "buyer", when=at(10)),
    "decide": lambda c: decide(c, "full_refund", when=at(10)),
    "ship_return": lambda c: ship(c, when=at(10)),
    "receive_return": lambda c: receive(c, when=at(10)),
    "refund": lambda c: refund(c, "1.00", when=at(10)),
    "record_deadline_missed": lambda c: c.record_deadline_missed(
        actor=SYSTEM, deadline="merchant_response", windows=WINDOWS, at=at(100)
    ),
    "escalate_to_legal": lambda c: c.escalate_to_legal(
        actor=BUYER, reason="x", case_reference=None, at=at(10)
    ),
    "record_legal_outcome": lambda c: c.record_legal_outcome(
        actor=MEDIATOR, outcome="x", reference="r", at=at(10)
    ),
    "withdraw": lambda c: c.withdraw(actor=BUYER, reason="x", at=at(10)),
    "close": lambda c: close(c, when=at(10)),
}


@pytest.mark.parametrize("fixture", ["withdrawn_claim", "closed_claim"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_command_is_accepted_on_a_withdrawn_or_closed_claim(
    request: pytest.FixtureRequest, fixture: str, command: str
) -> None:
    claim: Claim = request.getfixturevalue(fixture)

    assert_refused(claim, errors.ClaimClosed, lambda: COMMANDS[command](claim))


# ===================================================================================================
# whole lifecycles: every event names its actor and its time, and replays to the same claim
# ===================================================================================================


class Script:
    """Runs commands against one claim at successive hours and remembers who did what when."""

    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        self.expected: list[tuple[str, Actor, datetime]] = [("ClaimOpened", BUYER, T0)]
        self.statuses: list[str] = [claim.status]

    def __call__(self, event: str, actor: Actor, command: Callable[[Claim, datetime], None]) -> None:
        when = at(len(self.expected) * 5)
        command(self.claim, when)
        self.expected.append((event, actor, when))
        self.statuses.append(self.claim.status)

    def recorded(self) -> list[tuple[str, Actor | None, datetime]]:
        """(type, actor, timestamp) of each event; the opening event names its actor ``buyer``."""
        return [
            (event_type(e), getattr(e, "actor", None) or getattr(e, "buyer", None), e.timestamp)
            for e in self.claim.pending_events
        ]


def run_refund_only(script: Script) -> None:
    script("MerchantResponded", MERCHANT, lambda c, t: respond(c, "offer", "60.00", when=t))
    script("OfferAnswered", BUYER, lambda c, t: c.answer_offer(actor=BUYER, accept=True, at=t))
    script("Refunded", MERCHANT, lambda c, t: refund(c, "60.00", when=t))
    script("MediatorAssigned", MEDIATOR, lambda c, t: assign(c, when=t))
    script("Closed", MEDIATOR, lambda c, t: close(c, when=t))


def run_return_and_refund(script: Script) -> None:
    script("MerchantResponded", MERCHANT, lambda c, t: respond(c, "accept", when=t))
    script("ReturnShipped", BUYER, lambda c, t: ship(c, when=t))
    script("ReturnReceived", MERCHANT, lambda c, t: receive(c, when=t))
    script("Refunded", MERCHANT, lambda c, t: refund(c, "80.00", when=t))
    script("MediatorAssigned", MEDIATOR, lambda c, t: assign(c, when=t))
    script("Closed", MEDIATOR, lambda c, t: close(c, when=t))


def run_exchange(script: Script) -> None:
    script("MerchantResponded", MERCHANT, lambda c, t: respond(c, "accept", when=t))
    script("ReturnShipped", BUYER, lambda c, t: ship(c, when=t))
    script("ReturnReceived", MERCHANT, lambda c, t: receive(c, when=t))
    script(
        "MessagePosted", MERCHANT, lambda c, t: c.post_message(actor=MERCHANT, body="replacement sent", at=t)
    )
    script("MediatorAssigned", MEDIATOR, lambda c, t: assign(c, when=t))
    script("Closed", MEDIATOR, lambda c, t: close(c, when=t))


def run_repair(script: Script) -> None:
    script("MerchantResponded", MERCHANT, lambda c, t: respond(c, "reject", when=t))
    script("EvidenceAdded", BUYER, lambda c, t: add_evidence(c, actor=BUYER, when=t))
    script("MediationRequested", BUYER, lambda c, t: request_mediation(c, when=t))
    script("MediatorAssigned", MEDIATOR, lambda c, t: assign(c, when=t))
    script("EvidenceRequested", MEDIATOR, lambda c, t: request_evidence(c, "merchant", when=t))
    script("EvidenceAdded", MERCHANT, lambda c, t: add_evidence(c, actor=MERCHANT, when=t))
    script("Mediated", MEDIATOR, lambda c, t: decide(c, "repair", when=t))
    script("ReturnShipped", BUYER, lambda c, t: ship(c, when=t))
    script("ReturnReceived", MERCHANT, lambda c, t: receive(c, when=t))
    script("Closed", MEDIATOR, lambda c, t: close(c, when=t))


LIFECYCLES = {
    ClaimKind.REFUND_ONLY: (
        run_refund_only,
        [S.AWAITING_MERCHANT, S.OFFER_PENDING, S.REFUND_PENDING, S.REFUNDED, S.REFUNDED, S.CLOSED],
    ),
    ClaimKind.RETURN_AND_REFUND: (
        run_return_and_refund,
        [
            S.AWAITING_MERCHANT,
            S.AWAITING_RETURN,
            S.RETURN_IN_TRANSIT,
            S.REFUND_PENDING,
            S.REFUNDED,
            S.REFUNDED,
            S.CLOSED,
        ],
    ),
    ClaimKind.EXCHANGE: (
        run_exchange,
        [
            S.AWAITING_MERCHANT,
            S.AWAITING_RETURN,
            S.RETURN_IN_TRANSIT,
            S.FULFILMENT_PENDING,
            S.FULFILMENT_PENDING,
            S.FULFILMENT_PENDING,
            S.CLOSED,
        ],
    ),
    ClaimKind.REPAIR: (
        run_repair,
        [
            S.AWAITING_MERCHANT,
            S.MERCHANT_REJECTED,
            S.MERCHANT_REJECTED,
            S.UNDER_MEDIATION,
            S.UNDER_MEDIATION,
            S.UNDER_MEDIATION,
            S.UNDER_MEDIATION,
            S.AWAITING_RETURN,
            S.RETURN_IN_TRANSIT,
            S.FULFILMENT_PENDING,
            S.CLOSED,
        ],
    ),
}


@pytest.mark.parametrize("kind", list(ClaimKind))
def test_a_claim_of_each_kind_runs_its_whole_lifecycle(kind: ClaimKind) -> None:
    run, statuses = LIFECYCLES[kind]
    script = Script(open_claim(kind=kind))

    run(script)

    assert script.statuses == statuses
    assert script.recorded() == script.expected
    assert [e.originator_version for e in script.claim.pending_events] == list(
        range(1, len(script.expected) + 1)
    )
    assert script.claim.version == len(script.expected)


def test_the_kinds_all_have_a_lifecycle_test() -> None:
    assert set(LIFECYCLES) == set(ClaimKind)


MEDIATION_TAILS: dict[
    Outcome, tuple[list[tuple[str, Actor, Callable[[Claim, datetime], None]]], list[str]]
] = {
    Outcome.FULL_REFUND: (
        [("Refunded", MEDIATOR, lambda c, t: refund(c, "80.00", actor=MEDIATOR, when=t))],
        [S.REFUND_PENDING, S.REFUNDED],
    ),
    Outcome.PARTIAL_REFUND: (
        [
            ("Refunded", MERCHANT, lambda c, t: refund(c, "20.00", "pay-1", when=t)),
            ("Refunded", MERCHANT, lambda c, t: refund(c, "15.00", "pay-2", when=t)),
        ],
        [S.REFUND_PENDING, S.REFUND_PENDING, S.REFUNDED],
    ),
    Outcome.RETURN_THEN_REFUND: (
        [
            ("ReturnShipped", BUYER, lambda c, t: ship(c, when=t)),
            ("ReturnReceived", MERCHANT, lambda c, t: receive(c, when=t)),
            ("Refunded", MERCHANT, lambda c, t: refund(c, "80.00", when=t)),
        ],
        [S.AWAITING_RETURN, S.RETURN_IN_TRANSIT, S.REFUND_PENDING, S.REFUNDED],
    ),
    Outcome.EXCHANGE: (
        [
            ("ReturnShipped", BUYER, lambda c, t: ship(c, when=t)),
            ("ReturnReceived", MERCHANT, lambda c, t: receive(c, when=t)),
        ],
        [S.AWAITING_RETURN, S.RETURN_IN_TRANSIT, S.FULFILMENT_PENDING],
    ),
    Outcome.REPAIR: (
        [
            ("ReturnShipped", BUYER, lambda c, t: ship(c, when=t)),
            ("ReturnReceived", MERCHANT, lambda c, t: receive(c, when=t)),
        ],
        [S.AWAITING_RETURN, S.RETURN_IN_TRANSIT, S.FULFILMENT_PENDING],
    ),
    Outcome.CLAIM_REJECTED: ([], [S.CLAIM_REJECTED]),
}


@pytest.mark.parametrize("outcome", list(Outcome))
def test_each_mediation_outcome_runs_to_closure(outcome: Outcome) -> None:
    tail, tail_statuses = MEDIATION_TAILS[outcome]
    amount = "35.00" if outcome == Outcome.PARTIAL_REFUND else None
    script = Script(open_claim(kind=ClaimKind.RETURN_AND_REFUND))
    script("MerchantResponded", MERCHANT, lambda c, t: respond(c, "offer", "40.00", when=t))
    script("OfferAnswered", BUYER, lambda c, t: c.answer_offer(actor=BUYER, accept=False, at=t))
    script("MediationRequested", BUYER, lambda c, t: request_mediation(c, when=t))
    script("MediatorAssigned", MEDIATOR, lambda c, t: assign(c, when=t))
    script("Mediated", MEDIATOR, lambda c, t: decide(c, outcome, amount, when=t))
    for step in tail:
        script(*step)
    script("Closed", MEDIATOR, lambda c, t: close(c, when=t))

    assert script.statuses == [
        S.AWAITING_MERCHANT,
        S.OFFER_PENDING,
        S.OFFER_DECLINED,
        S.UNDER_MEDIATION,
        S.UNDER_MEDIATION,
        *tail_statuses,
        S.CLOSED,
    ]
    assert script.recorded() == script.expected
    assert script.claim.outcome == outcome


def test_the_outcomes_all_have_a_lifecycle_test() -> None:
    assert set(MEDIATION_TAILS) == set(Outcome)


@pytest.fixture(params=[*[f"kind:{k}" for k in ClaimKind], *[f"outcome:{o}" for o in Outcome]])
def finished_claim(request: pytest.FixtureRequest) -> Claim:
    """A claim that went through a whole lifecycle, its events not yet saved."""
    what, _, name = request.param.partition(":")
    if what == "kind":
        kind = ClaimKind(name)
        script = Script(open_claim(kind=kind))
        LIFECYCLES[kind][0](script)
        return script.claim
    outcome = Outcome(name)
    script = Script(open_claim(kind=ClaimKind.RETURN_AND_REFUND))
    script("MerchantResponded", MERCHANT, lambda c, t: respond(c, "reject", when=t))
    script("MediationRequested", MERCHANT, lambda c, t: request_mediation(c, actor=MERCHANT, when=t))
    script("MediatorAssigned", MEDIATOR, lambda c, t: assign(c, when=t))
    script("EvidenceRequested", MEDIATOR, lambda c, t: request_evidence(c, "buyer", when=t))
    script(
        "Mediated",
        MEDIATOR,
        lambda c, t: decide(c, outcome, "35.00" if outcome == "partial_refund" else None, when=t),
    )
    for step in MEDIATION_TAILS[outcome][0]:
        script(*step)
    return script.claim


def test_replaying_the_events_rebuilds_the_same_claim(finished_claim: Claim) -> None:
    replayed = replay(finished_claim.pending_events)

    assert state(replayed) == state(finished_claim)


def test_replaying_a_prefix_of_the_events_rebuilds_the_claim_as_it_was(rejected_claim: Claim) -> None:
    before = replay(rejected_claim.pending_events[:1])

    assert before.status == S.AWAITING_MERCHANT
    assert before.version == 1


@pytest.fixture
def in_memory_app() -> DisputesApplication:
    return DisputesApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"}, snapshot_interval=3
    )


def test_saving_and_loading_rebuilds_the_same_claim(
    finished_claim: Claim, in_memory_app: DisputesApplication
) -> None:
    expected = state(finished_claim)

    in_memory_app.save_claim(finished_claim)
    loaded = in_memory_app.load_claim(str(finished_claim.id))

    assert state(loaded) == expected
    assert in_memory_app.snapshots is not None
    assert list(in_memory_app.snapshots.get(finished_claim.id))  # snapshots were taken on the way


def test_a_claim_loaded_at_an_earlier_version_is_the_claim_as_it_was(
    in_memory_app: DisputesApplication,
) -> None:
    claim = open_claim()
    respond(claim, "reject")
    request_mediation(claim)
    versions = {1: S.AWAITING_MERCHANT, 2: S.MERCHANT_REJECTED, 3: S.UNDER_MEDIATION}
    in_memory_app.save_claim(claim)
    assign(claim)
    decide(claim, "partial_refund", "10.00")
    in_memory_app.save_claim(claim)

    for version, status in versions.items():
        assert in_memory_app.load_claim(str(claim.id), version=version).status == status
    assert in_memory_app.load_claim(str(claim.id)).status == S.REFUND_PENDING


# ===================================================================================================
# small helpers of the module
# ===================================================================================================


def test_a_malformed_claim_id_is_a_claim_that_does_not_exist() -> None:
    for value in ["", "not-a-uuid", "1234"]:
        with pytest.raises(errors.ClaimNotFound):
            claim_id_of(value)


@pytest.mark.parametrize("principal_id", ["", " buyer", "buyer 1", "buyer-1\n", "-buyer", "x" * 65])
def test_a_principal_id_must_be_well_formed(principal_id: str) -> None:
    with pytest.raises(errors.InvalidValue):
        Actor(Role.BUYER, principal_id)


def test_a_claim_knows_its_parties(claim_under_mediation: Claim) -> None:
    assert claim_under_mediation.is_party(BUYER)
    assert claim_under_mediation.is_party(MERCHANT)
    assert claim_under_mediation.is_party(MEDIATOR)
    assert not claim_under_mediation.is_party(OTHER_MEDIATOR)
    assert not claim_under_mediation.is_party(Actor(Role.MERCHANT, BUYER.id))  # right id, wrong role
    assert not claim_under_mediation.is_party(AUDITOR)


def test_a_decision_below_what_was_already_refunded_is_refused_and_one_that_matches_it_settles_the_claim() -> None:
    from datetime import UTC, datetime, timedelta

    from disputes.domain.errors import DecisionBelowRefunded
    from disputes.domain.parties import Actor, Role
    from disputes.domain.policy import Windows

    t = datetime(2026, 11, 1, tzinfo=UTC)
    buyer, merchant, mediator = Actor(Role.BUYER, "b1"), Actor(Role.MERCHANT, "m1"), Actor(Role.MEDIATOR, "x1")
    claim = Claim.open(
        actor=buyer, order_id="o1", merchant_id="m1", kind="refund_only", reason="damaged",
        order_amount="100.00", claimed_amount="80.00", currency="USD", delivered_at=t,
        description="broken", windows=Windows(), at=t,
    )
    claim.respond(actor=merchant, decision="accept", amount=None, message="", at=t + timedelta(hours=1))
    claim.refund(actor=merchant, amount="30.00", payment_reference="p1", at=t + timedelta(hours=2))
    claim.request_mediation(actor=buyer, reason="rest unpaid", at=t + timedelta(hours=3))
    claim.assign_mediator(actor=mediator, mediator_id="x1", at=t + timedelta(hours=4))
    with pytest.raises(DecisionBelowRefunded):
        claim.decide(actor=mediator, outcome="partial_refund", amount="20.00", rationale="r", policy_version="p",
                     at=t + timedelta(hours=5))
    claim.decide(actor=mediator, outcome="partial_refund", amount="30.00", rationale="r", policy_version="p",
                 at=t + timedelta(hours=5))
    assert claim.status == "refunded"


def test_who_may_never_do_an_act_is_refused_as_such_even_on_a_closed_claim(closed_claim: Claim) -> None:
    with pytest.raises(errors.NotClaimBuyer):
        closed_claim.withdraw(actor=MERCHANT, reason="not mine to withdraw", at=T0 + timedelta(days=30))
    with pytest.raises(errors.NotAParty):
        closed_claim.post_message(actor=AUDITOR, body="hello", at=T0 + timedelta(days=30))
    with pytest.raises(errors.ClaimClosed):
        closed_claim.post_message(actor=BUYER, body="hello", at=T0 + timedelta(days=30))
