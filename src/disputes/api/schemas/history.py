"""A claim's (or a standing's) history: every event, with who recorded it, and what it changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from disputes.api.schemas.common import ActorPublic
from disputes.application.records import EventRecord, plain


class HistoryEntry(BaseModel):
    version: int
    type: str = Field(examples=["ClaimOpened"])
    recorded_at: datetime
    actor: ActorPublic
    data: dict[str, Any]

    @classmethod
    def of(cls, record: EventRecord) -> HistoryEntry:
        return cls(
            version=record.version,
            type=record.type,
            recorded_at=record.recorded_at,
            actor=ActorPublic(**record.actor.as_dict()),
            data=plain(record.data),
        )


class FieldChange(BaseModel):
    before: Any
    after: Any


class HistoryChangesEntry(HistoryEntry):
    """A history entry with the claim's public fields that this event changed."""

    changes: dict[str, FieldChange]
