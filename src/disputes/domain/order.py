"""The Order aggregate: the platform's facts about one order, and the refund ledger of its claims.

A claim is judged by the order the platform recorded (buyer, merchant, currency, lines, delivery), not
by what its buyer types in. The order also keeps the ledger that bounds money across its claims: every
refund paid on them, allocated to lines. However many
claims an order has, their refunds never add up to more than its total, nor a line's to more than that
line's value. A refund saves the claim and the order together (one transaction, optimistic
concurrency on both), so two claims refunding at the same moment cannot both pass the cap.

Where the platform sends no orders (``order_facts = "claimant"``), the first claim's own statement of
the order makes its ledger, keyed by buyer, merchant and order id: the facts are the buyer's word, the
ledger still holds. The ledger is the order's; the claims filed on it are found by their ids, which
follow the order's numbering (``claim_id_on``), so a new claim records nothing on the order.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from disputes.domain import errors
from disputes.domain.money import Money
from disputes.domain.parties import Actor, Role

ORDER_ID_NAMESPACE = UUID("0b6a4f07-3f8e-4c53-9d1c-6a9a4d0e2f71")
WHOLE_ORDER = "whole-order"
"""The one line of an order stated by a claimant (no lines known)."""
PLATFORM, CLAIMANT = "platform", "claimant"


def order_id_for(order_id: str) -> UUID:
    """The aggregate id of the platform's order ``order_id``."""
    return uuid5(ORDER_ID_NAMESPACE, f"platform:{order_id}")


def claimant_order_id_for(buyer_id: str, merchant_id: str, order_id: str) -> UUID:
    """The aggregate id of an order as claimants state it (keyed by buyer and merchant: a stranger naming
    someone else's order id gets a ledger of their own, and learns nothing)."""
    return uuid5(ORDER_ID_NAMESPACE, f"claimant:{buyer_id}/{merchant_id}/{order_id}")


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Money

    @property
    def value(self) -> Money:
        return Money(self.unit_price.amount * self.quantity, self.unit_price.currency)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "sku": self.sku,
            "title": self.title,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
        }

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> OrderLine:
        return cls(
            str(data["line_id"]), str(data["sku"]), str(data["title"]), int(data["quantity"]), data["unit_price"]
        )


@dataclass(frozen=True)
class OrderFacts:
    """What the platform states about an order: every field but the delivery is fixed once recorded."""

    buyer_id: str
    merchant_id: str
    currency: str
    total_amount: Money
    placed_at: datetime
    lines: tuple[OrderLine, ...]

    @classmethod
    def parse(
        cls,
        *,
        buyer_id: str,
        merchant_id: str,
        currency: str,
        total_amount: str,
        placed_at: datetime,
        lines: Sequence[Mapping[str, Any]],
    ) -> OrderFacts:
        """Validated facts: known parties' ids, amounts of the currency, a total that is the lines' sum."""
        Actor(Role.BUYER, buyer_id)
        Actor(Role.MERCHANT, merchant_id)
        total = Money.positive(total_amount, currency, "total_amount")
        parsed: list[OrderLine] = []
        seen: set[str] = set()
        for i, line in enumerate(lines):
            line_id = str(line["line_id"])
            if line_id in seen:
                raise errors.InvalidValue(f"lines[{i}]: line_id {line_id!r} appears twice")
            seen.add(line_id)
            quantity = line["quantity"]
            if not isinstance(quantity, int) or quantity < 1:
                raise errors.InvalidValue(f"lines[{i}]: quantity must be a whole number of at least 1")
            price = Money.positive(line["unit_price"], currency, f"lines[{i}].unit_price")
            parsed.append(OrderLine(line_id, str(line["sku"]), str(line["title"]), quantity, price))
        if not parsed:
            raise errors.InvalidValue("an order needs at least one line")
        summed = sum((line.value.amount for line in parsed), Money.zero(currency).amount)
        if summed != total.amount:
            raise errors.OrderTotalMismatch(
                f"total_amount {total} is not the sum of quantity x unit_price over the lines ({summed} {currency})"
            )
        return cls(buyer_id, merchant_id, currency, total, _utc(placed_at, "placed_at"), tuple(parsed))

    def differences(self, other: OrderFacts) -> list[str]:
        """The fields in which ``other`` states the order otherwise."""
        names = ("buyer_id", "merchant_id", "currency", "total_amount", "placed_at", "lines")
        return [name for name in names if getattr(self, name) != getattr(other, name)]


@dataclass(frozen=True)
class ClaimedLine:
    line_id: str
    quantity: int


class Order(Aggregate):
    """One order and its ledger. Amounts are Money in the order's currency."""

    # --- recording the platform's facts --------------------------------------------------------------
    @classmethod
    def record(
        cls, *, actor: Actor, order_id: str, facts: OrderFacts, delivered_at: datetime | None, at: datetime
    ) -> Order:
        if actor.role is not Role.PLATFORM:
            raise errors.NotPermitted("only the platform records orders")
        return cls._new(order_id_for(order_id), actor, order_id, facts, delivered_at, PLATFORM, at)

    @classmethod
    def stated_by_claimant(
        cls,
        *,
        actor: Actor,
        order_id: str,
        merchant_id: str,
        total_amount: Money,
        delivered_at: datetime | None,
        at: datetime,
    ) -> Order:
        """The ledger of an order known only from its buyer's claim (``DISPUTES_ORDER_FACTS=claimant``)."""
        line = OrderLine(WHOLE_ORDER, "", "the whole order", 1, total_amount)
        facts = OrderFacts(actor.id, merchant_id, total_amount.currency, total_amount, at, (line,))
        aggregate_id = claimant_order_id_for(actor.id, merchant_id, order_id)
        return cls._new(aggregate_id, actor, order_id, facts, delivered_at, CLAIMANT, at)

    @classmethod
    def _new(
        cls,
        aggregate_id: UUID,
        actor: Actor,
        order_id: str,
        facts: OrderFacts,
        delivered_at: datetime | None,
        source: str,
        at: datetime,
    ) -> Order:
        if delivered_at is not None:
            delivered_at = _check_delivery(delivered_at, facts.placed_at, at)
        if facts.placed_at > at:
            raise errors.InvalidValue(f"placed_at {facts.placed_at.isoformat()} is in the future")
        return cls(
            id=aggregate_id,
            actor=actor,
            order_id=order_id,
            buyer_id=facts.buyer_id,
            merchant_id=facts.merchant_id,
            total_amount=facts.total_amount,
            placed_at=facts.placed_at,
            delivered_at=delivered_at,
            lines=[line.as_dict() for line in facts.lines],
            source=source,
            timestamp=at,
        )

    @event("OrderRecorded")
    def __init__(
        self,
        *,
        id: UUID,
        actor: Actor,
        order_id: str,
        buyer_id: str,
        merchant_id: str,
        total_amount: Money,
        placed_at: datetime,
        delivered_at: datetime | None,
        lines: list[dict[str, Any]],
        source: str,
        timestamp: datetime,
    ) -> None:
        self.order_id = order_id
        self.buyer_id = buyer_id
        self.merchant_id = merchant_id
        self.currency = total_amount.currency
        self.total_amount = total_amount
        self.placed_at = placed_at
        self.delivered_at = delivered_at
        self.lines = lines
        self.source = source
        self.recorded_at = timestamp
        self.refunded_amount = Money.zero(total_amount.currency)
        self.refunded_lines: dict[str, Money] = {}
        """Refunded per line, across every claim."""
        self.refunded_by_claim: dict[str, dict[str, Money]] = {}
        """Refunded per claim and line."""
        self.prior_claims_counted = False
        """Whether the refunds of the claims recorded before ledgers existed are booked (at the first refund)."""

    @property
    def facts(self) -> OrderFacts:
        return OrderFacts(
            self.buyer_id,
            self.merchant_id,
            self.currency,
            self.total_amount,
            self.placed_at,
            tuple(OrderLine.of(line) for line in self.lines),
        )

    def line(self, line_id: str) -> OrderLine | None:
        for data in self.lines:
            if data["line_id"] == line_id:
                return OrderLine.of(data)
        return None

    def require_same_facts(self, facts: OrderFacts) -> None:
        """The same facts again change nothing; others are refused (409 order-facts-differ)."""
        differ = self.facts.differences(facts)
        if differ:
            raise errors.OrderFactsDiffer(
                f"order {self.order_id} is recorded with other {', '.join(differ)}; "
                "an order's buyer, merchant, currency, total, placing time and lines never change"
            )

    # --- delivery ------------------------------------------------------------------------------------
    def record_delivery(self, *, actor: Actor, delivered_at: datetime, at: datetime) -> bool:
        """Record when the order was delivered, once; the same time again changes nothing (False)."""
        if actor.role is not Role.PLATFORM:
            raise errors.NotPermitted("only the platform records deliveries")
        delivered_at = _check_delivery(delivered_at, self.placed_at, at)
        if self.delivered_at is not None:
            if self.delivered_at == delivered_at:
                return False
            raise errors.DeliveryAlreadyRecorded(
                f"order {self.order_id} was delivered at {self.delivered_at.isoformat()}; a delivery is "
                "recorded once"
            )
        self._delivery_recorded(actor=actor, delivered_at=delivered_at, timestamp=at)
        return True

    @event("DeliveryRecorded")
    def _delivery_recorded(self, actor: Actor, delivered_at: datetime, timestamp: datetime) -> None:
        self.delivered_at = delivered_at

    # --- the ledger ----------------------------------------------------------------------------------
    def claimed_lines(self, requested: Sequence[Mapping[str, Any]] | None) -> tuple[ClaimedLine, ...]:
        """The lines a claim names (default: every line, whole), checked against the order."""
        if not requested:
            return tuple(ClaimedLine(line["line_id"], int(line["quantity"])) for line in self.lines)
        found: dict[str, int] = {}
        for item in requested:
            line_id, quantity = str(item["line_id"]), item["quantity"]
            line = self.line(line_id)
            if line is None:
                raise errors.OrderLinesInvalid(f"order {self.order_id} has no line {line_id!r}")
            if line_id in found:
                raise errors.OrderLinesInvalid(f"line {line_id!r} is named twice")
            if not isinstance(quantity, int) or not 1 <= quantity <= line.quantity:
                raise errors.OrderLinesInvalid(
                    f"line {line_id!r}: the quantity claimed must be 1 to {line.quantity}, the quantity ordered"
                )
            found[line_id] = quantity
        return tuple(ClaimedLine(line_id, quantity) for line_id, quantity in found.items())

    def refundable(self, lines: Sequence[ClaimedLine]) -> Money:
        """What is left to refund on these lines: their claimed value, at most each line's unrefunded rest."""
        zero = Money.zero(self.currency)
        total = zero
        for claimed in lines:
            line = self._line(claimed.line_id)
            value = Money(line.unit_price.amount * claimed.quantity, self.currency)
            rest = line.value - self.refunded_lines.get(claimed.line_id, zero)
            total = total + max(zero, min(value, rest))
        return total

    def require_claimable(self, lines: Sequence[ClaimedLine], claimed_amount: Money) -> None:
        """A new claim on these lines may claim only what they have left to refund."""
        refundable = self.refundable(lines)
        if claimed_amount > refundable:
            raise errors.ClaimExceedsRefundable(
                f"claimed amount {claimed_amount} is above {refundable}, what the claimed lines have left "
                "to refund"
            )

    def room_for(self, claim_id: str, lines: Mapping[str, int]) -> Money:
        """The most the claim (of these lines: {line_id: quantity}) may still be refunded: on each line,
        what it claimed of it and the line has left; never more than the order has left in all."""
        zero = Money.zero(self.currency)
        by_claim = self.refunded_by_claim.get(claim_id, {})
        room = zero
        for line_id, quantity in lines.items():
            line = self._line(line_id)
            claimed_value = Money(line.unit_price.amount * int(quantity), self.currency)
            mine = claimed_value - by_claim.get(line_id, zero)
            left = line.value - self.refunded_lines.get(line_id, zero)
            room = room + max(zero, min(mine, left))
        return min(room, self.total_amount - self.refunded_amount)

    def count_refund(
        self,
        *,
        actor: Actor,
        claim_id: str,
        lines: Mapping[str, int],
        amount: Money,
        payment_reference: str,
        at: datetime,
        prior: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Book a refund of a claim of these lines ({line_id: quantity}): allocated to them in turn, each
        up to what the claim claimed of it and what the line has left; refused past a line's value or
        the order's total (409 refund-exceeds-order, nothing recorded).

        ``prior``: on an order's first refund, the claims its buyer recorded before ledgers existed
        ({claim_id, refunded_amount}), whose refunds count too (on the whole order).
        """
        booked: list[dict[str, Any]] | None = None
        trial = self
        if not self.prior_claims_counted:
            booked = [dict(p) for p in prior or ()]
            trial = self._with_prior(booked)
        allocation = trial._allocation(claim_id, lines, amount)
        self._refund_counted(
            actor=actor,
            claim_id=claim_id,
            amount=amount,
            allocation=allocation,
            payment_reference=payment_reference,
            prior=booked,
            timestamp=at,
        )

    @event("RefundCounted")
    def _refund_counted(
        self,
        actor: Actor,
        claim_id: str,
        amount: Money,
        allocation: dict[str, Money],
        payment_reference: str,
        timestamp: datetime,
        prior: list[dict[str, Any]] | None = None,
    ) -> None:
        if prior is not None:
            self._book_prior(prior)
        self._book(claim_id, allocation)

    def _with_prior(self, prior: Sequence[Mapping[str, Any]]) -> Order:
        """A copy of the ledger with the refunds of claims recorded before ledgers existed booked."""
        trial = copy.copy(self)
        trial.refunded_lines = dict(self.refunded_lines)
        trial.refunded_by_claim = dict(self.refunded_by_claim)
        trial._book_prior(prior)
        return trial

    def _book_prior(self, prior: Sequence[Mapping[str, Any]]) -> None:
        self.prior_claims_counted = True
        zero = Money.zero(self.currency)
        for claim in prior:
            left: Money = claim["refunded_amount"]
            allocation: dict[str, Money] = {}
            for line in self.lines:
                if left.amount <= 0:
                    break
                rest = OrderLine.of(line).value - self.refunded_lines.get(line["line_id"], zero)
                share = min(rest, left)
                if share.amount > 0:
                    allocation[line["line_id"]] = share
                    left = left - share
            self._book(str(claim["claim_id"]), allocation)

    def _allocation(self, claim_id: str, lines: Mapping[str, int], amount: Money) -> dict[str, Money]:
        zero = Money.zero(self.currency)
        by_claim = self.refunded_by_claim.get(claim_id, {})
        left = amount
        allocation: dict[str, Money] = {}
        for line_id, quantity in lines.items():
            if left.amount <= 0:
                break
            line = self._line(line_id)
            claimed_value = Money(line.unit_price.amount * int(quantity), self.currency)
            room = min(claimed_value - by_claim.get(line_id, zero), line.value - self.refunded_lines.get(line_id, zero))
            if room.amount <= 0:
                continue
            share = min(room, left)
            allocation[line_id] = share
            left = left - share
        if left.amount > 0 or self.refunded_amount + amount > self.total_amount:
            raise errors.RefundExceedsOrder(
                f"a refund of {amount} would take the refunds of order {self.order_id} past what its lines "
                f"allow: {self.refunded_amount} of {self.total_amount} is refunded already",
                claim_id=claim_id,
            )
        return allocation

    def _book(self, claim_id: str, allocation: Mapping[str, Money]) -> None:
        zero = Money.zero(self.currency)
        mine = dict(self.refunded_by_claim.get(claim_id, {}))
        lines = dict(self.refunded_lines)
        for line_id, share in allocation.items():
            mine[line_id] = mine.get(line_id, zero) + share
            lines[line_id] = lines.get(line_id, zero) + share
            self.refunded_amount = self.refunded_amount + share
        self.refunded_lines = lines
        self.refunded_by_claim = {**self.refunded_by_claim, claim_id: mine}

    def _line(self, line_id: str) -> OrderLine:
        line = self.line(line_id)
        if line is None:
            raise errors.OrderLinesInvalid(f"order {self.order_id} has no line {line_id!r}")
        return line

    def view(self) -> dict[str, Any]:
        """The order as the API shows it (the claims' statuses are the application's to add)."""
        zero = Money.zero(self.currency)
        return {
            "order_id": self.order_id,
            "buyer_id": self.buyer_id,
            "merchant_id": self.merchant_id,
            "currency": self.currency,
            "total_amount": str(self.total_amount.amount),
            "placed_at": self.placed_at,
            "delivered_at": self.delivered_at,
            "source": self.source,
            "lines": [
                {
                    **{k: v for k, v in line.items() if k != "unit_price"},
                    "unit_price": str(line["unit_price"].amount),
                    "refunded_amount": str(self.refunded_lines.get(line["line_id"], zero).amount),
                }
                for line in self.lines
            ],
            "refunded_amount": str(self.refunded_amount.amount),
            "version": self.version,
        }


def _check_delivery(delivered_at: datetime, placed_at: datetime, at: datetime) -> datetime:
    delivered_at = _utc(delivered_at, "delivered_at")
    if delivered_at > at:
        raise errors.DeliveryInFuture(f"delivered_at {delivered_at.isoformat()} is in the future")
    if delivered_at < placed_at:
        raise errors.InvalidValue(
            f"delivered_at {delivered_at.isoformat()} is before the order was placed ({placed_at.isoformat()})"
        )
    return delivered_at


def _utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise errors.InvalidValue(f"{what} must carry a time zone")
    return value.astimezone(UTC)
