"""Read model "timeline": each claim's progress, with what happens next and by when.

The rows hold message codes and their parameters, never words (:mod:`projections.wording`); a read
tells them to its reader in the reader's language (:mod:`projections.narration`). Served at
``GET /claims/{id}/timeline`` to whoever may read the claim: its buyer and merchant, mediators and
auditors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from disputes.application.history import DEFAULT_PAGE
from disputes.application.visibility import may_see_claim
from disputes.domain.parties import Actor
from disputes.domain.policy import Policy
from disputes.i18n import DEFAULT_LANGUAGE
from projections.changes import Change
from projections.narration import Narrator
from projections.runner import Projection
from projections.store import Table, ViewConnection, time_text
from projections.wording import ROLE_VALUES, describe, next_steps

DEFAULT = Policy()


class TimelineView:
    ENTRIES = Table(
        "read_timeline",
        ("claim_id", "version", "position", "at", "type", "actor_role", "actor_id", "status", "code", "params"),
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
        "SELECT version, at, type, actor_role, actor_id, status, code, params "
        "FROM read_timeline WHERE claim_id = ? AND version > ? ORDER BY version LIMIT ?"
    )
    """One page of a claim's entries after a version (its key: ``claim_id, version``)."""


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
                    *_worded(change),
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


def _worded(change: Change) -> tuple[str, str]:
    code, params = describe(change)
    return code, json.dumps(params, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Timeline:
    claim_id: str
    version: int
    status: str
    updated_at: str
    entries: list[dict[str, Any]]
    next: list[dict[str, Any]]
    next_after: int | None = None
    """The ``after_version`` of the next page of entries, or None when this page is the last."""


def claim_timeline(
    conn: ViewConnection,
    actor: Actor,
    claim_id: str,
    *,
    language: str = DEFAULT_LANGUAGE,
    policy: Policy = DEFAULT,
    after_version: int = 0,
    limit: int = DEFAULT_PAGE,
) -> Timeline | None:
    """The claim's timeline told to ``actor`` in ``language``, or None when there is none it may see:
    its head, and up to ``limit`` entries after ``after_version`` (one more is read, to tell whether
    another page follows)."""
    head = conn.one(TimelineView.SELECT_HEAD, (claim_id,))
    if head is None or not may_see_claim(actor, buyer_id=head[2], merchant_id=head[3]):
        return None
    narrator = Narrator(actor, head[2], head[3], head[4], language, policy)
    entries = [
        {
            "version": version,
            "at": at,
            "type": type_,
            "actor": {"role": role, "id": actor_id},
            "status": status,
            "when": narrator.when(at),
            "code": code,
            "text": narrator.event(code, json.loads(params), role, actor_id),
        }
        for version, at, type_, role, actor_id, status, code, params in conn.query(
            TimelineView.SELECT_ENTRIES, (claim_id, after_version, limit + 1)
        )
    ]
    more = len(entries) > limit
    del entries[limit:]
    return Timeline(
        claim_id=head[0],
        version=head[1],
        status=head[5],
        updated_at=head[7],
        entries=entries,
        next=[narrator.step(step) for step in json.loads(head[6])],
        next_after=entries[-1]["version"] if more else None,
    )
