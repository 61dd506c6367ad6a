"""Webhook subscriptions (``/webhooks``, admins) and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt, StringConstraints, field_validator

from disputes.adapters.webhooks import Delivery, Subscription
from disputes.api.schemas.common import RequestBody

EventType = Annotated[
    str,
    StringConstraints(pattern=r"^(\*|(disputes\.)?[A-Z][A-Za-z]{1,63})$"),
    Field(description='an event name as in the history ("ClaimOpened", "DeadlineReminder"), or "*"'),
]


class WebhookCreate(RequestBody):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] = Field(
        description="https URL that receives the deliveries (a public address)"
    )
    event_types: list[EventType] = Field(default=["*"], min_length=1, max_length=100)
    description: Annotated[str, StringConstraints(max_length=500)] = ""

    @field_validator("event_types")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return [name.removeprefix("disputes.") for name in value]


class WebhookPublic(BaseModel):
    """A subscription as listed: never its secret."""

    id: str
    url: str
    event_types: list[str]
    description: str
    status: Literal["active", "deleted"]
    position: int = Field(description="the last store position queued for it")
    created_at: datetime
    deleted_at: datetime | None

    @classmethod
    def of(cls, subscription: Subscription) -> WebhookPublic:
        return cls(
            id=subscription.id,
            url=subscription.url,
            event_types=list(subscription.event_types),
            description=subscription.description,
            status="deleted" if subscription.status == "deleted" else "active",
            position=subscription.position,
            created_at=subscription.created_at,
            deleted_at=subscription.deleted_at,
        )


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="the signing secret (whsec_ + base64): shown in this answer only, never again")


class DeliveryPublic(BaseModel):
    event_id: str
    type: str
    subject: str
    position: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryPublic:
        return cls(
            event_id=delivery.event_id,
            type=delivery.event_type,
            subject=delivery.subject,
            position=delivery.position,
            status=delivery.status,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
        )


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")


class Redelivery(RequestBody):
    from_position: StrictInt = Field(ge=1, description="deliver again every event from this store position on")
