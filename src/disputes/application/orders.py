"""Orders: the platform records them; claims are judged by them; their ledgers bound refunds.

:class:`Orders` holds the order commands and queries of the HTTP contract (``PUT /orders/{id}``,
``POST /orders/{id}/delivery``, ``GET /orders/{id}``) and finds the ledger a claim is judged and paid
against: the platform's order (``DISPUTES_ORDER_FACTS=platform``) or, where the platform sends none,
the order as its buyer stated it (``claimant``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from disputes.application.visibility import may_see_order
from disputes.domain import errors
from disputes.domain.claim import Claim, claim_id_for, claim_id_on
from disputes.domain.money import Money
from disputes.domain.order import PLATFORM, Order, OrderFacts, claimant_order_id_for, order_id_for
from disputes.domain.parties import Actor, Role

if TYPE_CHECKING:
    from disputes.application.claims import DisputesApplication

MAX_PRIOR_CLAIMS = 1000
"""How far back the claims an order had before ledgers existed are looked for (numbered from 1)."""
CLAIMS_READ_TOGETHER = 8
"""An order's claims are read this many numbers at a time, in one query (most orders have one or none)."""
UNSET: Any = object()
"""A fact the claimant did not state (``None`` is a statement: not delivered)."""


@dataclass(frozen=True)
class OrderResult:
    """The order after a command; ``created``: recorded now for the first time; the position of its last
    new event (None when the command changed nothing)."""

    order: Order
    position: int | None
    created: bool = False


@dataclass(frozen=True)
class OrderView:
    order: Order
    claims: list[tuple[str, str]]
    """(claim id, status) of every claim filed on the order, in filing order."""


class Orders:
    """Order commands and queries, and the ledgers claims are paid against, on the application's store."""

    def __init__(self, app: DisputesApplication) -> None:
        self.app = app

    # --- the platform's commands ---------------------------------------------------------------------
    def record(
        self, actor: Actor, order_id: str, facts: OrderFacts, delivered_at: datetime | None
    ) -> OrderResult:
        """Record an order; the same facts again change nothing; other fixed facts are refused (409).

        A delivery time sent with facts already recorded is recorded as ``POST .../delivery`` would be.
        """
        at = self.app.now()
        existing = self.find(order_id_for(order_id))
        if existing is None:
            order = Order.record(actor=actor, order_id=order_id, facts=facts, delivered_at=delivered_at, at=at)
            return OrderResult(order, self.app.record(order, what="order"), created=True)
        if actor.role is not Role.PLATFORM:
            raise errors.NotPermitted("only the platform records orders")
        existing.require_same_facts(facts)
        if delivered_at is not None:
            existing.record_delivery(actor=actor, delivered_at=delivered_at, at=at)
        return OrderResult(existing, self.app.record(existing, what="order"))

    def record_delivery(self, actor: Actor, order_id: str, delivered_at: datetime) -> OrderResult:
        order = self.find(order_id_for(order_id))
        if order is None:
            raise errors.OrderUnknown(f"no order {order_id} is recorded")
        order.record_delivery(actor=actor, delivered_at=delivered_at, at=self.app.now())
        return OrderResult(order, self.app.record(order, what="order"))

    # --- queries -------------------------------------------------------------------------------------
    def get(self, actor: Actor, order_id: str) -> OrderView:
        """The order with its claims and ledger, if this principal may see it (else: not found)."""
        order = self.find(order_id_for(order_id))
        if order is None or not may_see_order(actor, buyer_id=order.buyer_id, merchant_id=order.merchant_id):
            raise errors.OrderUnknown(f"no order {order_id} for you")
        return self.view(order)

    def view(self, order: Order) -> OrderView:
        """The order with the current status of each of its claims."""
        return OrderView(order, [(str(claim.id), claim.status) for claim in self.claims_of(order)])

    def find_recorded(self, order_id: str) -> Order | None:
        """The platform's order ``order_id``, if recorded."""
        return self.find(order_id_for(order_id))

    def find(self, aggregate_id: UUID) -> Order | None:
        try:
            order: object = self.app.replayed(aggregate_id)
        except AggregateNotFoundError:
            return None
        return order if isinstance(order, Order) else None

    # --- the ledger a claim is judged and paid against ----------------------------------------------
    def for_new_claim(
        self,
        actor: Actor,
        order_id: str,
        *,
        merchant_id: str | None,
        currency: str | None,
        order_amount: str | None,
        delivered_at: Any,
    ) -> Order:
        """The order a buyer's new claim names: the platform's, whose facts any the claimant states must
        equal; or, in claimant mode, the order as its buyers state it (its ledger is recorded with its
        first refund)."""
        if self.app.order_facts == PLATFORM:
            order = self.find(order_id_for(order_id))
            if order is None or order.buyer_id != actor.id:
                raise errors.OrderNotFound(f"no order {order_id} of yours is recorded by the platform")
            _require_stated_facts(order, merchant_id, currency, order_amount, delivered_at)
            return order
        if merchant_id is None or currency is None or order_amount is None:
            raise errors.InvalidValue(
                "without the platform's orders (DISPUTES_ORDER_FACTS=claimant) a claim states "
                "merchant_id, order_amount and currency"
            )
        Actor(Role.MERCHANT, merchant_id)
        total = Money.positive(order_amount, currency, "order_amount")
        order = self.find(claimant_order_id_for(actor.id, merchant_id, order_id))
        if order is None:
            return self._stated(actor.id, merchant_id, order_id, total)
        if order.total_amount != total:
            raise errors.OrderFactsMismatch(
                f"order {order_id} was claimed with order_amount {order.total_amount}, not {total}"
            )
        return order

    def ledger_of(self, claim: Claim) -> Order:
        """The ledger that bounds the claim's refunds (not yet recorded when the claim's order is known
        only from claims and none was refunded). A claim recorded before ledgers existed is paid
        against its platform order if one is recorded for its parties, else the order as claimed."""
        if claim.ledger_id is not None:
            found = self.find(UUID(claim.ledger_id))
            if found is not None:
                return found
            return self._stated(claim.buyer_id, claim.merchant_id, claim.order_id, claim.order_amount)
        order = self.find(order_id_for(claim.order_id))
        if order is not None and (order.buyer_id, order.merchant_id) == (claim.buyer_id, claim.merchant_id):
            return order
        order = self.find(claimant_order_id_for(claim.buyer_id, claim.merchant_id, claim.order_id))
        if order is not None:
            return order
        return self._stated(claim.buyer_id, claim.merchant_id, claim.order_id, claim.order_amount)

    def _stated(self, buyer_id: str, merchant_id: str, order_id: str, total: Money) -> Order:
        return Order.stated_by_claimant(
            actor=Actor(Role.BUYER, buyer_id),
            order_id=order_id,
            merchant_id=merchant_id,
            total_amount=total,
            delivered_at=None,
            at=self.app.now(),
        )

    def claims_of(self, order: Order) -> list[Claim]:
        """Every claim of the order, in the order they were opened: those recorded before ledgers existed
        (numbered per buyer, merchant and order), then those numbered on its ledger. A claim id follows
        from its number, so this loads the claims and one id past each numbering, nothing more."""
        def before_ledgers(number: int) -> UUID:
            return claim_id_for(order.buyer_id, order.merchant_id, order.order_id, number)

        def on_ledger(number: int) -> UUID:
            return claim_id_on(str(order.id), number)

        found: dict[Callable[[int], UUID], list[Claim]] = {before_ledgers: [], on_ledger: []}
        looking, start = [before_ledgers, on_ledger], 1
        while looking and start <= MAX_PRIOR_CLAIMS:  # the ids of CLAIMS_READ_TOGETHER numbers at a time
            numbers = range(start, min(start + CLAIMS_READ_TOGETHER, MAX_PRIOR_CLAIMS + 1))
            recorded = self.app.replayed_many([ids(n) for ids in looking for n in numbers])
            for ids in list(looking):
                for number in numbers:
                    claim = recorded.get(ids(number))
                    if claim is None:
                        looking.remove(ids)
                        break
                    if isinstance(claim, Claim):
                        found[ids].append(claim)
            start += CLAIMS_READ_TOGETHER
        return [*found[before_ledgers], *found[on_ledger]]

    def prior_refunds(self, order: Order) -> list[dict[str, Any]] | None:
        """For an order's first refund: the refunds of its claims recorded before ledgers existed."""
        if order.prior_claims_counted:
            return None
        return [
            {"claim_id": str(claim.id), "refunded_amount": claim.refunded_amount}
            for claim in self.claims_of(order)
            if claim.ledger_id is None and claim.refunded_amount.amount > 0 and claim.currency == order.currency
        ]


def _require_stated_facts(
    order: Order, merchant_id: str | None, currency: str | None, order_amount: str | None, delivered_at: Any
) -> None:
    """Facts a claimant states must be the recorded order's (422 order-facts-mismatch, naming them)."""
    differ: list[str] = []
    if merchant_id is not None and merchant_id != order.merchant_id:
        differ.append("merchant_id")
    if currency is not None and currency != order.currency:
        differ.append("currency")
    if order_amount is not None:
        try:
            stated = Money.of(order_amount, order.currency)
        except errors.InvalidValue:
            stated = None
        if stated != order.total_amount:
            differ.append("order_amount")
    if delivered_at is not UNSET and delivered_at != order.delivered_at:
        differ.append("delivered_at")
    if differ:
        raise errors.OrderFactsMismatch(
            f"{', '.join(differ)} {'differs' if len(differ) == 1 else 'differ'} from order {order.order_id} "
            "as the platform recorded it; "
            "send only order_id (and lines), the rest comes from the order"
        )
