"""Read model "timeline": each claim's progress in plain words, with what happens next and by when.

Served at ``GET /claims/{id}/timeline`` to whoever may read the claim: its buyer and merchant,
mediators and auditors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from disputes.application.visibility import may_see_claim
from disputes.domain.parties import Actor
from projections.changes import Change
from projections.runner import Projection
from projections.store import Table, ViewConnection, time_text
from projections.wording import ROLE_VALUES, describe, next_steps


class TimelineView:
    ENTRIES = Table(
        "read_timeline",
        ("claim_id", "version", "position", "at", "type", "actor_role", "actor_id", "status", "text"),
        ("claim_id", "version"),
    )
    HEADS = Table(
        "read_timeline_heads",
        ("claim_id", "version", "position", "buyer_id", "merchant_id", "mediator_id", "status", "next_steps",
         "updated_at"),
        ("claim_id",),
        frozenset({"buyer_id", "merchant_id"}),
    )
    SELECT_HEAD = (
        "SELECT claim_id, version, buyer_id, merchant_id, mediator_id, status, next_steps, updated_at "
        "FROM read_timeline_heads WHERE claim_id = ?"
    )
    SELECT_ENTRIES = (
        "SELECT version, at, type, actor_role, actor_id, status, text "
        "FROM read_timeline WHERE claim_id = ? ORDER BY version"
    )


class TimelineProjection(Projection):
    name = "timeline"
    tables = ("read_timeline", "read_timeline_heads")

    def process(self, changes: Sequence[Change], tx: ViewConnection) -> None:
        entries = []
        heads: dict[str, Change] = {}
        for change in changes:
            state = change.after
            actor = change.actor
            entries.append(
                (
                    state.claim_id,
                    state.version,
                    change.position,
                    time_text(change.at),
                    change.type,
                    ROLE_VALUES[actor.role],
                    actor.id,
                    state.status,
                    describe(change),
                )
            )
            heads[state.claim_id] = change
        tx.insert_rows(TimelineView.ENTRIES, entries)
        tx.upsert_rows(
            TimelineView.HEADS,
            [
                (
                    c.after.claim_id,
                    c.after.version,
                    c.position,
                    c.after.buyer_id,
                    c.after.merchant_id,
                    c.after.mediator_id,
                    c.after.status,
                    json.dumps(next_steps(c.after)),
                    time_text(c.after.updated_at),
                )
                for c in heads.values()
            ],
        )


@dataclass(frozen=True)
class Timeline:
    claim_id: str
    version: int
    status: str
    updated_at: str
    entries: list[dict[str, Any]]
    next: list[dict[str, Any]]


def claim_timeline(conn: ViewConnection, actor: Actor, claim_id: str) -> Timeline | None:
    """The claim's timeline, or None when there is none this actor may see."""
    head = conn.one(TimelineView.SELECT_HEAD, (claim_id,))
    if head is None or not may_see_claim(actor, buyer_id=head[2], merchant_id=head[3]):
        return None
    entries = [
        {
            "version": version,
            "at": at,
            "type": type_,
            "actor": {"role": role, "id": actor_id},
            "status": status,
            "text": text,
        }
        for version, at, type_, role, actor_id, status, text in conn.query(
            TimelineView.SELECT_ENTRIES, (claim_id,)
        )
    ]
    return Timeline(
        claim_id=head[0],
        version=head[1],
        status=head[5],
        updated_at=head[7],
        entries=entries,
        next=json.loads(head[6]),
    )
