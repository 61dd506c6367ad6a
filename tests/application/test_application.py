"""The application on a real store: each test body runs on SQLite and on PostgreSQL (``database_url``).

The application is built by the composition root from typed settings, with a fake clock injected, so
that times are known and nothing sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate

from disputes.adapters.database import DatabaseUrl
from disputes.adapters.migrations import apply_migrations
from disputes.application.claims import CommandResult, DisputesApplication
from disputes.bootstrap import build_application
from disputes.domain import errors
from disputes.domain.claim import Claim
from disputes.domain.parties import Actor, Role
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
from disputes.settings import Settings
from support import open_with_order

S = ClaimStatus
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

BUYER = Actor(Role.BUYER, "buyer-1")
OTHER_BUYER = Actor(Role.BUYER, "buyer-2")
MERCHANT = Actor(Role.MERCHANT, "merchant-1")
OTHER_MERCHANT = Actor(Role.MERCHANT, "merchant-2")
MEDIATOR = Actor(Role.MEDIATOR, "mediator-1")
AUDITOR = Actor(Role.AUDITOR, "auditor-1")
REGULATOR = Actor(Role.REGULATOR, "regulator-1")
ADMIN = Actor(Role.ADMIN, "admin-1")


class FakeClock:
    """A clock that moves only when told to; optionally makes the next callers meet at a barrier."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.barrier: threading.Barrier | None = None

    def __call__(self) -> datetime:
        if self.barrier is not None:
            self.barrier.wait(timeout=30)
        return self.now

    def tick(self, hours: float = 1) -> datetime:
        self.now += timedelta(hours=hours)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(database_url: str, clock: FakeClock) -> Iterator[Callable[..., DisputesApplication]]:
    """Builds applications on this test's database (several may share it, like several processes)."""
    apply_migrations(DatabaseUrl.parse(database_url))
    built: list[DisputesApplication] = []

    def make(snapshot_interval: int = 50) -> DisputesApplication:
        settings = Settings(database_url=database_url, snapshot_interval=snapshot_interval)
        app = build_application(settings, clock=clock)
        built.append(app)
        return app

    yield make
    for app in built:
        app.close()


@pytest.fixture
def app(make_app: Callable[..., DisputesApplication]) -> DisputesApplication:
    return make_app()


def state(claim: Claim) -> dict[str, Any]:
    return {k: v for k, v in vars(claim).items() if k != "_pending_events"}


def replay(events: Any) -> Claim:
    """The claim rebuilt from its events alone, as the repository would."""
    claim: Claim | None = project_aggregate(None, events)
    assert isinstance(claim, Claim)
    return claim


def open_claim(app: DisputesApplication, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "order_id": "order-1",
        "merchant_id": MERCHANT.id,
        "kind": ClaimKind.REFUND_ONLY,
        "reason": ClaimReason.DAMAGED,
        "order_amount": "100.00",
        "claimed_amount": "80.00",
        "currency": "USD",
        "delivered_at": T0 - timedelta(days=2),
        "description": "the vase arrived in pieces",
    }
    arguments.update(overrides)
    return str(open_with_order(app, BUYER, **arguments).claim.id)


def history_of(app: DisputesApplication, claim_id: str) -> list[tuple[int, str, Actor]]:
    return [(r.version, r.type, r.actor) for r in app.history(AUDITOR, claim_id)]


# --- claims in a given state ------------------------------------------------------------------------


@pytest.fixture
def new_claim(app: DisputesApplication, clock: FakeClock) -> str:
    return open_claim(app)


@pytest.fixture
def rejected_claim(app: DisputesApplication, clock: FakeClock, new_claim: str) -> str:
    clock.tick()
    app.respond(MERCHANT, new_claim, decision=MerchantDecision.REJECT, amount=None, message="no")
    return new_claim


@pytest.fixture
def claim_under_mediation(app: DisputesApplication, clock: FakeClock, rejected_claim: str) -> str:
    clock.tick()
    app.request_mediation(BUYER, rejected_claim, reason="the merchant refuses")
    clock.tick()
    app.assign_mediator(MEDIATOR, rejected_claim, mediator_id=None)
    return rejected_claim


def decide_partial_refund(claim: Claim, at: datetime) -> None:
    claim.decide(
        actor=MEDIATOR,
        outcome=Outcome.PARTIAL_REFUND,
        amount="30.00",
        rationale="half the set was broken",
        policy_version="2026-11",
        at=at,
    )


# ===================================================================================================
# a whole lifecycle, its history, and reads of the past
# ===================================================================================================


@pytest.fixture
def refunded_claim(app: DisputesApplication, clock: FakeClock) -> tuple[str, list[datetime]]:
    """open -> reject -> mediation request -> assignment -> partial-refund decision -> refund."""
    times = [clock.now]
    claim_id = open_claim(app)
    steps: list[Callable[[], CommandResult]] = [
        lambda: app.respond(MERCHANT, claim_id, decision=MerchantDecision.REJECT, amount=None, message="no"),
        lambda: app.request_mediation(BUYER, claim_id, reason="the merchant refuses"),
        lambda: app.assign_mediator(MEDIATOR, claim_id, mediator_id=None),
        lambda: app.decide_claim(
            MEDIATOR, claim_id, outcome=Outcome.PARTIAL_REFUND, amount="30.00", rationale="half was broken"
        ),
        lambda: app.refund(MERCHANT, claim_id, amount="30", payment_reference="pay-1"),
    ]
    for step in steps:
        times.append(clock.tick(hours=5))
        step()
    return claim_id, times


def test_a_claim_goes_from_opening_through_mediation_to_its_refund(
    app: DisputesApplication, clock: FakeClock
) -> None:
    claim_id = open_claim(app)
    statuses = [app.get_claim(BUYER, claim_id).status]

    clock.tick()
    result = app.respond(MERCHANT, claim_id, decision=MerchantDecision.REJECT, amount=None, message="no")
    statuses.append(result.claim.status)
    clock.tick()
    statuses.append(app.request_mediation(BUYER, claim_id, reason="refused").claim.status)
    clock.tick()
    assigned = app.assign_mediator(MEDIATOR, claim_id, mediator_id=None)
    assert assigned.claim.mediator_id == MEDIATOR.id
    clock.tick()
    decided = app.decide_claim(
        MEDIATOR, claim_id, outcome=Outcome.PARTIAL_REFUND, amount="30.00", rationale="half was broken"
    )
    statuses.append(decided.claim.status)
    clock.tick()
    refunded = app.refund(MERCHANT, claim_id, amount="30.00", payment_reference="pay-1")
    statuses.append(refunded.claim.status)

    assert statuses == [
        S.AWAITING_MERCHANT,
        S.MERCHANT_REJECTED,
        S.UNDER_MEDIATION,
        S.REFUND_PENDING,
        S.REFUNDED,
    ]
    claim = app.get_claim(MEDIATOR, claim_id)
    assert claim.version == 6
    assert claim.agreed_amount is not None and claim.agreed_amount.amount == Decimal("30.00")
    assert claim.refunded_amount.amount == Decimal("30.00")
    assert claim.outcome == "partial_refund"
    assert claim.payment_references == ["pay-1"]


def test_each_command_reports_a_later_notification_position(
    app: DisputesApplication, clock: FakeClock
) -> None:
    opened = open_with_order(
        app,
        BUYER,
        order_id="order-1",
        merchant_id=MERCHANT.id,
        kind=ClaimKind.REFUND_ONLY,
        reason=ClaimReason.DAMAGED,
        order_amount="10",
        claimed_amount="10",
        currency="USD",
        delivered_at=None,
        description="",
    )
    clock.tick()
    posted = app.post_message(BUYER, str(opened.claim.id), body="hello")

    assert opened.position is not None and posted.position is not None
    assert posted.position > opened.position


def test_the_history_lists_every_event_in_order_with_its_actor_and_time(
    app: DisputesApplication, refunded_claim: tuple[str, list[datetime]]
) -> None:
    claim_id, times = refunded_claim

    records = app.history(MERCHANT, claim_id)

    assert [(r.version, r.type, r.actor) for r in records] == [
        (1, "ClaimOpened", BUYER),
        (2, "MerchantResponded", MERCHANT),
        (3, "MediationRequested", BUYER),
        (4, "MediatorAssigned", MEDIATOR),
        (5, "Mediated", MEDIATOR),
        (6, "Refunded", MERCHANT),
    ]
    assert [r.recorded_at for r in records] == times
    assert all(r.claim_id == claim_id for r in records)
    assert records[4].data["amount"] == {"amount": "30.00", "currency": "USD"}
    assert records[4].data["outcome"] == "partial_refund"
    assert records[4].data["policy_version"] == "2026-11"
    assert records[5].data["amount"] == {"amount": "30.00", "currency": "USD"}
    assert records[5].data["payment_reference"] == "pay-1"
    assert records[0].data["order_amount"] == {"amount": "100.00", "currency": "USD"}
    assert records[0].as_dict()["recorded_at"] == "2026-11-02T09:00:00Z"
    assert records[0].as_dict()["actor"] == {"role": "buyer", "id": BUYER.id}


@pytest.mark.parametrize("reader", [MEDIATOR, AUDITOR])
def test_a_claim_is_read_as_it_stood_at_each_version(
    app: DisputesApplication, refunded_claim: tuple[str, list[datetime]], reader: Actor
) -> None:
    claim_id, _ = refunded_claim

    statuses = [app.get_claim_at_version(reader, claim_id, v).status for v in range(1, 7)]

    assert statuses == [
        S.AWAITING_MERCHANT,
        S.MERCHANT_REJECTED,
        S.UNDER_MEDIATION,
        S.UNDER_MEDIATION,
        S.REFUND_PENDING,
        S.REFUNDED,
    ]
    assert app.get_claim_at_version(reader, claim_id, 3).mediator_id is None
    assert app.get_claim_at_version(reader, claim_id, 4).mediator_id == MEDIATOR.id


@pytest.mark.parametrize("version", [0, -1, 7, 100])
def test_a_version_the_claim_never_had_is_not_found(
    app: DisputesApplication, refunded_claim: tuple[str, list[datetime]], version: int
) -> None:
    claim_id, _ = refunded_claim

    with pytest.raises(errors.VersionNotFound):
        app.get_claim_at_version(AUDITOR, claim_id, version)


def test_a_claim_is_read_as_it_stood_at_a_moment(
    app: DisputesApplication, refunded_claim: tuple[str, list[datetime]]
) -> None:
    claim_id, times = refunded_claim

    at_each_event = [app.get_claim_as_of(AUDITOR, claim_id, t).version for t in times]
    just_before_each_later_event = [
        app.get_claim_as_of(AUDITOR, claim_id, t - timedelta(microseconds=1)).version for t in times[1:]
    ]
    long_after = app.get_claim_as_of(AUDITOR, claim_id, times[-1] + timedelta(days=365))

    assert at_each_event == [1, 2, 3, 4, 5, 6]
    assert just_before_each_later_event == [1, 2, 3, 4, 5]
    assert long_after.version == 6
    assert app.get_claim_as_of(MEDIATOR, claim_id, times[2]).status == S.UNDER_MEDIATION


def test_a_moment_may_be_given_in_any_time_zone(
    app: DisputesApplication, refunded_claim: tuple[str, list[datetime]]
) -> None:
    claim_id, times = refunded_claim
    shanghai = timezone(timedelta(hours=8))

    assert app.get_claim_as_of(AUDITOR, claim_id, times[3].astimezone(shanghai)).version == 4


def test_a_moment_without_a_time_zone_is_refused(
    app: DisputesApplication, refunded_claim: tuple[str, list[datetime]]
) -> None:
    claim_id, times = refunded_claim

    with pytest.raises(errors.InvalidValue):
        app.get_claim_as_of(AUDITOR, claim_id, times[3].replace(tzinfo=None))


def test_there_is_no_claim_before_it_was_opened(
    app: DisputesApplication, refunded_claim: tuple[str, list[datetime]]
) -> None:
    claim_id, times = refunded_claim

    with pytest.raises(errors.VersionNotFound):
        app.get_claim_as_of(AUDITOR, claim_id, times[0] - timedelta(microseconds=1))


@pytest.mark.parametrize("party", [BUYER, MERCHANT])
def test_the_parties_may_not_read_a_claim_as_it_stood_in_the_past(
    app: DisputesApplication, refunded_claim: tuple[str, list[datetime]], party: Actor
) -> None:
    claim_id, times = refunded_claim

    with pytest.raises(errors.NotPermitted):
        app.get_claim_at_version(party, claim_id, 2)
    with pytest.raises(errors.NotPermitted):
        app.get_claim_as_of(party, claim_id, times[2])


# ===================================================================================================
# who may see a claim
# ===================================================================================================


@pytest.mark.parametrize("reader", [BUYER, MERCHANT, MEDIATOR, AUDITOR])
def test_the_parties_mediators_and_auditors_see_the_claim(
    app: DisputesApplication, new_claim: str, reader: Actor
) -> None:
    assert str(app.get_claim(reader, new_claim).id) == new_claim
    assert [r.type for r in app.history(reader, new_claim)] == ["ClaimOpened"]


@pytest.mark.parametrize(
    "stranger", [OTHER_BUYER, OTHER_MERCHANT, REGULATOR, ADMIN, Actor(Role.MERCHANT, BUYER.id)]
)
def test_a_claim_is_not_found_by_those_who_may_not_see_it(
    app: DisputesApplication, new_claim: str, stranger: Actor
) -> None:
    with pytest.raises(errors.ClaimNotFound):
        app.get_claim(stranger, new_claim)
    with pytest.raises(errors.ClaimNotFound):
        app.history(stranger, new_claim)
    with pytest.raises(errors.ClaimNotFound):
        app.get_claim_at_version(stranger, new_claim, 1)
    with pytest.raises(errors.ClaimNotFound):
        app.get_claim_as_of(stranger, new_claim, T0)


def test_a_stranger_acting_on_a_claim_learns_nothing_of_it(app: DisputesApplication, new_claim: str) -> None:
    with pytest.raises(errors.ClaimNotFound):
        app.respond(OTHER_MERCHANT, new_claim, decision=MerchantDecision.ACCEPT, amount=None, message="")
    with pytest.raises(errors.ClaimNotFound):
        app.withdraw(OTHER_BUYER, new_claim, reason="not mine")

    assert history_of(app, new_claim) == [(1, "ClaimOpened", BUYER)]


def test_a_party_that_may_see_but_not_act_is_refused(app: DisputesApplication, new_claim: str) -> None:
    with pytest.raises(errors.NotClaimMerchant):
        app.respond(BUYER, new_claim, decision=MerchantDecision.ACCEPT, amount=None, message="")

    assert history_of(app, new_claim) == [(1, "ClaimOpened", BUYER)]


@pytest.mark.parametrize(
    "claim_id",
    ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "", "12345678-1234-5678-1234-567812345678"],
)
def test_a_claim_that_does_not_exist_is_not_found(app: DisputesApplication, claim_id: str) -> None:
    with pytest.raises(errors.ClaimNotFound):
        app.get_claim(AUDITOR, claim_id)
    with pytest.raises(errors.ClaimNotFound):
        app.post_message(BUYER, claim_id, body="hello?")


# ===================================================================================================
# If-Match, and two commands racing
# ===================================================================================================


@pytest.mark.parametrize("expected_version", [0, 2, 5])
def test_a_command_on_a_stale_version_is_refused_and_records_nothing(
    app: DisputesApplication, clock: FakeClock, new_claim: str, expected_version: int
) -> None:
    clock.tick()
    with pytest.raises(errors.StaleVersion) as raised:
        app.respond(
            MERCHANT,
            new_claim,
            decision=MerchantDecision.ACCEPT,
            amount=None,
            message="",
            expected_version=expected_version,
        )

    assert raised.value.claim_id == new_claim
    assert history_of(app, new_claim) == [(1, "ClaimOpened", BUYER)]
    assert app.get_claim(MERCHANT, new_claim).status == S.AWAITING_MERCHANT


def test_a_command_on_the_current_version_applies(
    app: DisputesApplication, clock: FakeClock, new_claim: str
) -> None:
    clock.tick()
    result = app.respond(
        MERCHANT, new_claim, decision=MerchantDecision.ACCEPT, amount=None, message="", expected_version=1
    )

    assert result.claim.version == 2
    clock.tick()
    with pytest.raises(errors.StaleVersion):
        app.refund(MERCHANT, new_claim, amount="80.00", payment_reference="p", expected_version=1)
    app.refund(MERCHANT, new_claim, amount="80.00", payment_reference="p", expected_version=2)
    assert app.get_claim(BUYER, new_claim).status == S.REFUNDED


def test_a_refused_command_records_nothing(
    app: DisputesApplication, clock: FakeClock, new_claim: str
) -> None:
    clock.tick()
    with pytest.raises(errors.OfferExceedsClaim):
        app.respond(MERCHANT, new_claim, decision=MerchantDecision.OFFER, amount="90.00", message="")

    assert history_of(app, new_claim) == [(1, "ClaimOpened", BUYER)]


def test_of_two_applications_deciding_the_same_claim_the_first_to_save_wins(
    make_app: Callable[..., DisputesApplication], clock: FakeClock, claim_under_mediation: str
) -> None:
    first, second = make_app(), make_app()
    clock.tick()

    claim_in_first = first.decide(MEDIATOR, claim_under_mediation, None, decide_partial_refund)
    claim_in_second = second.decide(
        MEDIATOR,
        claim_under_mediation,
        None,
        lambda c, at: c.decide(
            actor=MEDIATOR,
            outcome=Outcome.CLAIM_REJECTED,
            amount=None,
            rationale="no damage shown",
            policy_version="2026-11",
            at=at,
        ),
    )
    first.save_claim(claim_in_first)
    with pytest.raises(errors.ConcurrentUpdate) as raised:
        second.save_claim(claim_in_second)

    assert raised.value.claim_id == claim_under_mediation
    history = history_of(second, claim_under_mediation)
    assert [t for _, t, _ in history].count("Mediated") == 1
    assert [v for v, _, _ in history] == [1, 2, 3, 4, 5]
    reloaded = second.get_claim(AUDITOR, claim_under_mediation)
    assert reloaded.outcome == "partial_refund"
    assert reloaded.status == S.REFUND_PENDING
    # Retried on the fresh state, the loser's command is judged on what actually happened.
    with pytest.raises(errors.MediationRequired):
        second.decide_claim(
            MEDIATOR, claim_under_mediation, outcome=Outcome.CLAIM_REJECTED, amount=None, rationale="late"
        )


# ===================================================================================================
# snapshots
# ===================================================================================================


def test_a_claim_loaded_from_snapshots_equals_the_claim_replayed_from_all_its_events(
    make_app: Callable[..., DisputesApplication], clock: FakeClock
) -> None:
    app = make_app(snapshot_interval=2)
    claim_id = open_claim(app, kind=ClaimKind.RETURN_AND_REFUND)
    commands: list[Callable[[], object]] = [
        lambda: app.respond(MERCHANT, claim_id, decision=MerchantDecision.OFFER, amount="40.00", message=""),
        lambda: app.answer_offer(BUYER, claim_id, accept=False),
        lambda: app.post_message(BUYER, claim_id, body="I want it all"),
        lambda: app.request_mediation(BUYER, claim_id, reason="offer too low"),
        lambda: app.assign_mediator(MEDIATOR, claim_id, mediator_id=None),
        lambda: app.request_evidence(
            MEDIATOR, claim_id, from_party=Party.BUYER, description="photos", due_at=None
        ),
        lambda: app.request_evidence(
            MEDIATOR,
            claim_id,
            from_party=Party.MERCHANT,
            description="packing",
            due_at=clock.now + timedelta(days=2),
        ),
        lambda: app.add_evidence(
            BUYER,
            claim_id,
            kind=EvidenceKind.PHOTO,
            description="box",
            sha256="a" * 64,
            size_bytes=10,
            uri=None,
        ),
        *[lambda i=i: app.post_message(MERCHANT, claim_id, body=f"note {i}") for i in range(5)],
        lambda: app.decide_claim(
            MEDIATOR, claim_id, outcome=Outcome.RETURN_THEN_REFUND, amount="75.50", rationale="return it"
        ),
        lambda: app.ship_return(BUYER, claim_id, carrier="SF", tracking_number="SF1"),
        lambda: app.receive_return(MERCHANT, claim_id, condition=ReturnCondition.AS_SENT),
        lambda: app.refund(MERCHANT, claim_id, amount="25.50", payment_reference="pay-1"),
        lambda: app.refund(MEDIATOR, claim_id, amount="50", payment_reference="pay-2"),
    ]
    for command in commands:
        clock.tick()
        command()

    events = list(app.events.get(UUID(claim_id)))
    assert app.snapshots is not None
    snapshots = list(app.snapshots.get(events[0].originator_id))
    assert len(events) == 19
    assert [s.originator_version for s in snapshots] == list(range(2, 19, 2))

    loaded = make_app(snapshot_interval=2).get_claim(AUDITOR, claim_id)
    replayed = replay(events)
    assert state(loaded) == state(replayed)
    assert loaded.status == S.REFUNDED
    assert loaded.refunded_amount.amount == Decimal("75.50")
    assert loaded.payment_references == ["pay-1", "pay-2"]

    for version in range(1, len(events) + 1):
        at_version = app.get_claim_at_version(AUDITOR, claim_id, version)
        expected = replay(events[:version])
        assert state(at_version) == state(expected), f"version {version}"


# ===================================================================================================
# values survive the store
# ===================================================================================================


@pytest.mark.parametrize(
    ("currency", "order", "claimed", "order_shown", "shown"),
    [
        ("USD", "100", "12.5", "100.00", "12.50"),
        ("JPY", "20000", "1500", "20000", "1500"),
        ("KWD", "10", "1.23", "10.000", "1.230"),
    ],
)
def test_amounts_come_back_as_decimals_at_the_currency_precision(
    make_app: Callable[..., DisputesApplication],
    clock: FakeClock,
    currency: str,
    order: str,
    claimed: str,
    order_shown: str,
    shown: str,
) -> None:
    app = make_app()
    claim_id = open_claim(app, currency=currency, order_amount=order, claimed_amount=claimed)
    clock.tick()
    app.respond(MERCHANT, claim_id, decision=MerchantDecision.ACCEPT, amount=None, message="")
    clock.tick()
    app.refund(MERCHANT, claim_id, amount=claimed, payment_reference="pay-1")

    claim = make_app().get_claim(AUDITOR, claim_id)

    for money in (claim.claimed_amount, claim.agreed_amount, claim.refunded_amount):
        assert money is not None
        assert isinstance(money.amount, Decimal)
        assert str(money.amount) == shown
        assert money.currency == currency
    assert str(claim.order_amount.amount) == order_shown
    refunded = app.history(AUDITOR, claim_id)[-1]
    assert refunded.data["amount"] == {"amount": shown, "currency": currency}


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


def test_times_stay_timezone_aware_utc_through_the_store(
    make_app: Callable[..., DisputesApplication], database_url: str
) -> None:
    shanghai = timezone(timedelta(hours=8))
    local_clock = FakeClock(T0.astimezone(shanghai))  # a clock that answers in local time
    app = build_application(Settings(database_url=database_url), clock=local_clock)
    try:
        claim_id = open_claim(app, delivered_at=datetime(2026, 11, 1, 20, 0, tzinfo=shanghai))
        local_clock.tick()
        app.respond(MERCHANT, claim_id, decision=MerchantDecision.REJECT, amount=None, message="")
        local_clock.tick()
        app.request_mediation(BUYER, claim_id, reason="r")
        local_clock.tick()
        app.assign_mediator(MEDIATOR, claim_id, mediator_id=None)
        local_clock.tick()
        due = datetime(2026, 11, 9, 12, 0, tzinfo=shanghai)
        app.request_evidence(MEDIATOR, claim_id, from_party=Party.BUYER, description="d", due_at=due)
    finally:
        app.close()

    claim = make_app().get_claim(AUDITOR, claim_id)

    for value in (
        claim.opened_at,
        claim.status_since,
        claim.created_on,
        claim.modified_on,
        claim.delivered_at,
    ):
        assert value is not None
        assert_utc(value)
    assert claim.opened_at == T0
    assert claim.delivered_at == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert claim.evidence_due == {"buyer": due}
    assert_utc(claim.evidence_due["buyer"])
    for record in make_app().history(AUDITOR, claim_id):
        assert_utc(record.recorded_at)
        assert record.as_dict()["recorded_at"].endswith("Z")
    deadline = claim.deadlines(make_app().windows)
    assert [(d.name, d.due_at) for d in deadline if d.name.startswith("evidence")] == [("evidence_from_buyer", due)]


# ===================================================================================================
# PostgreSQL: two threads race to decide the same claim
# ===================================================================================================


@pytest.mark.postgres
@pytest.mark.parametrize("round_", range(3))
def test_of_two_threads_deciding_the_same_claim_at_once_exactly_one_wins(
    postgres_url: str, round_: int
) -> None:
    clock = FakeClock()
    apply_migrations(DatabaseUrl.parse(postgres_url))
    app = build_application(Settings(database_url=postgres_url, snapshot_interval=50), clock=clock)
    try:
        claim_id = open_claim(app)
        clock.tick()
        app.respond(MERCHANT, claim_id, decision=MerchantDecision.REJECT, amount=None, message="no")
        app.request_mediation(BUYER, claim_id, reason="r")
        app.assign_mediator(MEDIATOR, claim_id, mediator_id=None)
        clock.tick()

        # Each command reads the clock after loading the claim: both have loaded before either decides.
        clock.barrier = threading.Barrier(2)

        def decide(outcome: Outcome, amount: str | None) -> CommandResult:
            return app.decide_claim(
                MEDIATOR, claim_id, outcome=outcome, amount=amount, rationale=str(outcome)
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [
                pool.submit(decide, Outcome.PARTIAL_REFUND, "30.00"),
                pool.submit(decide, Outcome.CLAIM_REJECTED, None),
            ]
            outcomes: list[BaseException | CommandResult] = []
            for future in futures:
                try:
                    outcomes.append(future.result(timeout=60))
                except errors.ConcurrentUpdate as lost:
                    outcomes.append(lost)
        clock.barrier = None

        winners = [o for o in outcomes if isinstance(o, CommandResult)]
        losers = [o for o in outcomes if isinstance(o, errors.ConcurrentUpdate)]
        assert (len(winners), len(losers)) == (1, 1), outcomes
        history = history_of(app, claim_id)
        assert [t for _, t, _ in history].count("Mediated") == 1
        assert [v for v, _, _ in history] == [1, 2, 3, 4, 5]
        assert app.get_claim(AUDITOR, claim_id).outcome == winners[0].claim.outcome
    finally:
        app.close()
