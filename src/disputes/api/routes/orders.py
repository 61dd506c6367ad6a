"""Orders: the platform records them and their delivery; their buyer, merchant, mediators and auditors
read them with their claims and refund ledger. Each route: schema in, one call on ``app.orders``,
schema out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from disputes.api.deps import App, CurrentActor
from disputes.api.responses import problem_responses, tag
from disputes.api.schemas.orders import DeliveryCreate, OrderPublic, OrderRecord
from disputes.application.orders import OrderResult
from disputes.domain.parties import PRINCIPAL_ID_PATTERN

DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "only the platform records orders and deliveries",
    404: "no such order, or not visible to you",
    409: "the order is recorded with other facts, or its delivery with another time",
    422: "malformed input: amounts of the currency, a total that is the sum of the lines, times with a zone",
}
router = APIRouter(prefix="/orders", tags=["orders"])
OrderId = Annotated[str, Path(pattern=PRINCIPAL_ID_PATTERN, description="the platform's order id")]


def _answer(response: Response, app: App, result: OrderResult) -> OrderPublic:
    tag(response, result.order.version, result.position)
    view = app.orders.view(result.order)
    return OrderPublic.of(view.order, view.claims)


@router.put(
    "/{order_id}",
    status_code=status.HTTP_200_OK,
    responses={201: {"description": "recorded for the first time"}, **problem_responses(DESCRIBED, 401, 403, 409, 422)},
    summary="Record an order (the platform); the same facts again change nothing",
)
def record_order(
    order_id: OrderId, body: OrderRecord, response: Response, app: App, actor: CurrentActor
) -> OrderPublic:
    """Record an order (the platform): 201 the first time, 200 for the same facts again, 409 for others."""
    result = app.orders.record(actor, order_id, body.facts(), body.delivered_at)
    if result.created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"/orders/{order_id}"
    return _answer(response, app, result)


@router.post(
    "/{order_id}/delivery",
    responses=problem_responses(DESCRIBED),
    summary="Record when the order was delivered (the platform), once",
)
def record_delivery(
    order_id: OrderId, body: DeliveryCreate, response: Response, app: App, actor: CurrentActor
) -> OrderPublic:
    """Record when the order was delivered (the platform): once; the same time again is 200, another 409."""
    return _answer(response, app, app.orders.record_delivery(actor, order_id, body.delivered_at))


@router.get(
    "/{order_id}",
    responses=problem_responses(DESCRIBED, 401, 404, 422),
    summary="The order, its claims and its refund ledger",
)
def get_order(order_id: OrderId, response: Response, app: App, actor: CurrentActor) -> OrderPublic:
    """The order with its claims and the refunds paid on it, in total and per line."""
    view = app.orders.get(actor, order_id)
    tag(response, view.order.version)
    return OrderPublic.of(view.order, view.claims)
