"""Principals and their tokens (``/principals``, admins)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, StrictInt, model_validator

from disputes.adapters.principals import TokenRecord
from disputes.api.schemas.common import PrincipalId, RequestBody, Time
from disputes.domain.parties import TOKEN_ROLES


class TokenRole(StrEnum):
    """The roles a token may be issued for (every role but the platform's own ``system``)."""

    BUYER = "buyer"
    MERCHANT = "merchant"
    MEDIATOR = "mediator"
    AUDITOR = "auditor"
    REGULATOR = "regulator"
    ADMIN = "admin"
    PLATFORM = "platform"


assert {r.value for r in TokenRole} == {r.value for r in TOKEN_ROLES}
MAX_TTL_SECONDS = 10 * 366 * 24 * 3600


class PrincipalCreate(RequestBody):
    """A principal to issue a token for; the token expires at ``expires_at``, after ``ttl_seconds``, or never."""

    role: TokenRole
    id: PrincipalId
    expires_at: Time | None = Field(default=None, description="RFC 3339, in the future")
    ttl_seconds: StrictInt | None = Field(
        default=None, ge=1, le=MAX_TTL_SECONDS, description="seconds from now until the token expires"
    )

    @model_validator(mode="after")
    def _one_expiry(self) -> PrincipalCreate:
        if self.expires_at is not None and self.ttl_seconds is not None:
            raise ValueError("give expires_at or ttl_seconds, not both")
        return self


class PrincipalPublic(BaseModel):
    """A token as the admins see it: whose it is and its life, never the token nor its digest."""

    token_id: str
    role: TokenRole
    id: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    status: Literal["active", "revoked", "expired"]

    @classmethod
    def of(cls, record: TokenRecord, now: datetime) -> PrincipalPublic:
        return cls(
            token_id=record.token_id,
            role=TokenRole(record.role.value),
            id=record.principal_id,
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
            status=record.status(now),
        )


class PrincipalCreated(PrincipalPublic):
    token: str = Field(description="the bearer token: shown in this answer only, never again")
