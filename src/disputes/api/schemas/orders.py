"""Orders as the platform records them (``PUT /orders/{order_id}``) and as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from disputes.api.schemas.common import TEXT_PATTERN, Amount, Currency, LineId, PrincipalId, RequestBody, Time
from disputes.domain.order import Order, OrderFacts
from disputes.domain.vocabulary import ClaimStatus

ShortLabel = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=TEXT_PATTERN)]


class OrderLineCreate(RequestBody):
    line_id: LineId
    sku: ShortLabel
    title: ShortLabel
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    unit_price: Amount


class OrderRecord(RequestBody):
    """An order's facts. total_amount is the sum of quantity x unit_price over the lines."""

    buyer_id: PrincipalId
    merchant_id: PrincipalId
    currency: Currency
    total_amount: Amount
    placed_at: Time
    delivered_at: Time | None = Field(default=None, description="null until delivered")
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=500)

    def facts(self) -> OrderFacts:
        """The facts, validated (amounts of the currency, a total that is the lines' sum)."""
        return OrderFacts.parse(
            buyer_id=self.buyer_id,
            merchant_id=self.merchant_id,
            currency=self.currency,
            total_amount=self.total_amount,
            placed_at=self.placed_at,
            lines=[line.model_dump() for line in self.lines],
        )


class DeliveryCreate(RequestBody):
    delivered_at: Time


class OrderLinePublic(BaseModel):
    line_id: str
    sku: str
    title: str
    quantity: int
    unit_price: str
    refunded_amount: str = Field(description="refunded on this line across every claim of the order")


class OrderClaimPublic(BaseModel):
    id: str
    status: ClaimStatus


class OrderPublic(BaseModel):
    order_id: str
    version: int
    buyer_id: str
    merchant_id: str
    currency: str
    total_amount: str
    placed_at: datetime
    delivered_at: datetime | None
    lines: list[OrderLinePublic]
    claims: list[OrderClaimPublic]
    refunded_amount: str = Field(description="refunded across every claim of the order: never above total_amount")
    source: str = Field(description="platform: recorded by the platform; claimant: as its buyer's claims state it")

    @classmethod
    def of(cls, order: Order, claims: list[tuple[str, str]]) -> OrderPublic:
        view: dict[str, Any] = order.view()
        return cls.model_validate(
            {**view, "claims": [{"id": claim_id, "status": status} for claim_id, status in claims]}
        )
