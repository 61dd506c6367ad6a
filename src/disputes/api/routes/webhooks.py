"""Webhook subscriptions (admins): subscribe, list, unsubscribe, see the deliveries, replay from a position.

The secret is shown once, in the answer that creates the subscription. Deliveries are the delivery
workers' (``disputes serve`` in process, or ``disputes deliver``): docs/events.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status

from disputes.adapters.webhook_sender import parse_target
from disputes.api.deps import ContainerDep, CurrentActor
from disputes.api.responses import problem_responses
from disputes.api.schemas.webhooks import (
    DeliveryList,
    DeliveryPublic,
    Redelivery,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)

router = APIRouter(prefix="/webhooks", tags=["events"])
WebhookId = Annotated[str, Path(pattern=r"^wh_[0-9a-f]{32}$", description="the subscription's id")]
DESCRIBED = {
    403: "only admins manage webhooks",
    404: "no subscription with this id",
    422: "malformed input, or a URL that is not https on a public address",
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(DESCRIBED, 403, 422),
    summary="Subscribe a URL to events (admins); the signing secret is shown only in this answer",
)
def create_webhook(body: WebhookCreate, container: ContainerDep, actor: CurrentActor) -> WebhookCreated:
    """Subscribe a URL to events recorded from now on (admins); the signing secret is shown only here."""
    parse_target(body.url, allow_private=container.settings.webhook_allow_private)
    subscription, secret = container.webhooks.add(
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        created_by=str(actor),
        position=int(container.app.recorder.max_notification_id() or 0),
        now=container.clock(),
    )
    return WebhookCreated(**WebhookPublic.of(subscription).model_dump(), secret=secret)


@router.get("", responses=problem_responses(DESCRIBED, 403), summary="Every subscription, never a secret (admins)")
def list_webhooks(container: ContainerDep, actor: CurrentActor) -> list[WebhookPublic]:
    """Every subscription, oldest first, never a secret (admins)."""
    return [WebhookPublic.of(s) for s in container.webhooks.subscriptions()]


@router.get("/{webhook_id}", responses=problem_responses(DESCRIBED, 403, 404), summary="One subscription (admins)")
def get_webhook(webhook_id: WebhookId, container: ContainerDep, actor: CurrentActor) -> WebhookPublic:
    """One subscription, never its secret (admins)."""
    return WebhookPublic.of(container.webhooks.get(webhook_id))


@router.delete(
    "/{webhook_id}",
    responses=problem_responses(DESCRIBED, 403, 404),
    summary="Unsubscribe (admins): no further deliveries; its record and deliveries stay",
)
def delete_webhook(webhook_id: WebhookId, container: ContainerDep, actor: CurrentActor) -> WebhookPublic:
    """Unsubscribe (admins): no further deliveries; its record and deliveries stay."""
    return WebhookPublic.of(container.webhooks.delete(webhook_id, container.clock()))


@router.get(
    "/{webhook_id}/deliveries",
    responses=problem_responses(DESCRIBED, 403, 404, 422),
    summary="The subscription's deliveries in store order, with their attempts (admins)",
)
def list_deliveries(
    webhook_id: WebhookId,
    container: ContainerDep,
    actor: CurrentActor,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    after: Annotated[int, Query(ge=0, description="store position to list after")] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> DeliveryList:
    """The subscription's deliveries in store order, with their attempts (admins)."""
    found = container.webhooks.deliveries(webhook_id, status=status, after=after, limit=limit)
    return DeliveryList(
        items=[DeliveryPublic.of(d) for d in found],
        next_after=found[-1].position if len(found) == limit else None,
    )


@router.post(
    "/{webhook_id}/redelivery",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(DESCRIBED, 403, 404, 422),
    summary="Deliver again every event from a store position on (admins)",
)
def redeliver(webhook_id: WebhookId, body: Redelivery, container: ContainerDep, actor: CurrentActor) -> WebhookPublic:
    """Deliver again every event from ``from_position`` on, in order, with the same ids (admins)."""
    container.webhooks.rewind(webhook_id, body.from_position)
    return WebhookPublic.of(container.webhooks.get(webhook_id))
