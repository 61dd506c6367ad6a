"""Tools of the read-side tests: a hand-turned clock, actors, a helper that drives claims through their
lifecycle as the API would, and a way to compare every view's rows."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from disputes.application.claims import DisputesApplication
from disputes.bootstrap import Container, build_runner
from disputes.domain.parties import Actor, Role
from projections import catalog
from projections.changes import CLAIM_TOPIC_PREFIX
from projections.runner import reset
from projections.store import ViewConnection, ViewStore
from support import START, ManualClock, given_order  # noqa: F401 - re-exported to the tests of this folder


def buyer(id_: str = "b1") -> Actor:
    return Actor(Role.BUYER, id_)


def merchant(id_: str = "m1") -> Actor:
    return Actor(Role.MERCHANT, id_)


def mediator(id_: str = "med1") -> Actor:
    return Actor(Role.MEDIATOR, id_)


SYSTEM = Actor(Role.SYSTEM, "deadlines")
_orders = itertools.count(1)


class Claims:
    """Drives claims through the application, as the API would, one command at a time."""

    def __init__(self, app: DisputesApplication, clock: ManualClock) -> None:
        self.app = app
        self.clock = clock

    def open(self, who: str = "b1", merchant_id: str = "m1", **fields: Any) -> str:
        body: dict[str, Any] = {
            "order_id": f"order-{next(_orders)}",
            "merchant_id": merchant_id,
            "kind": "refund_only",
            "reason": "damaged",
            "order_amount": "120.00",
            "claimed_amount": "80.00",
            "currency": "USD",
            "delivered_at": self.clock() - timedelta(days=1),
            "description": "The vase arrived broken.",
        }
        body.update(fields)
        given_order(
            self.app,
            body["order_id"],
            buyer_id=who,
            merchant_id=body["merchant_id"],
            total=body["order_amount"],
            currency=body["currency"],
            delivered_at=body["delivered_at"],
        )
        return str(self.app.open_claim(buyer(who), **body).claim.id)

    def rejected_then_mediated(self, claim_id: str, *, merchant_id: str = "m1", who: str = "b1") -> None:
        self.app.respond(
            merchant(merchant_id), claim_id, decision="reject", amount=None, message="Packed well."
        )
        self.clock.advance(hours=1)
        self.app.request_mediation(buyer(who), claim_id, reason="It is broken.")
        self.clock.advance(hours=1)
        self.app.assign_mediator(mediator(), claim_id, mediator_id=None)

    def decide(self, claim_id: str, outcome: str, amount: str | None = None) -> int | None:
        self.clock.advance(hours=1)
        return self.app.decide_claim(
            mediator(), claim_id, outcome=outcome, amount=amount, rationale="Photos show the damage."
        ).position

    def refund(
        self, claim_id: str, amount: str, who: Actor | None = None, reference: str | None = None
    ) -> int | None:
        self.clock.advance(hours=1)
        return self.app.refund(
            who or mediator(), claim_id, amount=amount, payment_reference=reference or f"pay-{next(_orders)}"
        ).position


VIEW_TABLES = {
    "read_claims": "claim_id",
    "read_queue": "claim_id",
    "read_timeline": "claim_id, version",
    "read_timeline_heads": "claim_id",
    "read_scorecard_facts": "position, seq",
    "read_audit_facts": "position, seq",
    "read_deadlines": "claim_id, name",
    "read_signal_claims": "claim_id",
    "read_signal_evidence": "position, seq",
    "read_signal_deliveries": "ledger_id",
}


def dump_views(conn: ViewConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view, in key order: what two ways of building the views must agree on."""
    return {table: conn.query(f"SELECT * FROM {table} ORDER BY {key}") for table, key in VIEW_TABLES.items()}


def positions(conn: ViewConnection) -> dict[str, int]:
    return {
        name: int(position)
        for name, position in conn.query("SELECT name, position FROM projection_positions")
    }


def lifecycle_mix(claims: Claims, clock: ManualClock, count: int = 4) -> list[str]:
    """A few claims in different states: open, offered, rejected and mediated, refunded, withdrawn."""
    ids = []
    for n in range(count):
        claim_id = claims.open(who=f"b{n % 2 + 1}", merchant_id=f"m{n % 2 + 1}")
        ids.append(claim_id)
        clock.advance(minutes=30)
        step = n % 4
        if step == 1:
            claims.app.respond(
                merchant(f"m{n % 2 + 1}"), claim_id, decision="offer", amount="30.00", message=""
            )
        elif step == 2:
            claims.rejected_then_mediated(claim_id, merchant_id=f"m{n % 2 + 1}", who=f"b{n % 2 + 1}")
            claims.decide(claim_id, "partial_refund", "50.00")
            claims.refund(claim_id, "20.00")
            claims.refund(claim_id, "30.00")
        elif step == 3:
            claims.app.withdraw(buyer(f"b{n % 2 + 1}"), claim_id, reason="Found it.")
    return ids


def rebuilt_views(container: Container, views: ViewConnection) -> dict[str, list[tuple[object, ...]]]:
    """Every view emptied and built again from the whole store, as the views' rows then are."""
    reset(ViewStore(container.settings.database), catalog.select())
    runner = build_runner(container)
    try:
        runner.run_until_caught_up()
    finally:
        runner.close()
    return dump_views(views)


def claim_events(app: DisputesApplication, upto: int | None = None) -> int:
    """How many claim events the log holds (up to position ``upto``): the timeline's rows. The orders'
    ledger events (a refund books one) sit among them in the log."""
    count = 0
    for notification in app.recorder.select_notifications(None, 1_000_000, stop=upto, inclusive_of_start=True):
        count += notification.topic.startswith(CLAIM_TOPIC_PREFIX)
    return count
