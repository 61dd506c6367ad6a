"""Read model "claims": one row per claim for ``GET /claims`` (filters, visibility, cursor pages).

Newest first (by opening time, then id). Who sees what is :func:`disputes.application.visibility.claim_scope`:
a buyer its own claims, a merchant the claims against it, mediators and auditors every claim (the same
principals that may read a claim one by one). Regulators and admins list nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from disputes.application.visibility import claim_scope
from disputes.domain.parties import Actor
from disputes.domain.policy import Deadline
from projections.changes import Change, ClaimState
from projections.runner import Projection
from projections.store import Table, ViewConnection, ViewStore, amount_text, text_time, time_text

_COLUMNS = (
    "claim_id, version, position, status, kind, reason, order_id, buyer_id, merchant_id, mediator_id, "
    "currency, order_amount, claimed_amount, agreed_amount, refunded_amount, outcome, deadlines, "
    "opened_at, updated_at"
)
_FIXED = frozenset(
    ["kind", "reason", "order_id", "buyer_id", "merchant_id", "currency", "order_amount", "claimed_amount", "opened_at"]
)
"""Columns a claim never changes. They stay out of the upsert's SET list, so that the database leaves
the indexes on them alone when a claim moves on."""
class InvalidCursor(ValueError):
    """A cursor this API did not issue."""


class ClaimsListView:
    """The SQL of the claims list."""

    TABLE = Table("read_claims", tuple(_COLUMNS.split(", ")), ("claim_id",), _FIXED)
    SELECT = f"SELECT {_COLUMNS} FROM read_claims"
    ORDER = " ORDER BY opened_at DESC, claim_id DESC LIMIT ?"
    AFTER_CURSOR = "(opened_at < ? OR (opened_at = ? AND claim_id < ?))"
    COUNT = "SELECT COUNT(*) FROM read_claims"
    BUYER_OPENINGS = (
        "SELECT opened_at FROM read_claims WHERE buyer_id = ? AND opened_at > ? ORDER BY opened_at DESC LIMIT ?"
    )

    @staticmethod
    def row(state: ClaimState, position: int) -> tuple[Any, ...]:
        return (
            state.claim_id,
            state.version,
            position,
            state.status,
            state.kind,
            state.reason,
            state.order_id,
            state.buyer_id,
            state.merchant_id,
            state.mediator_id,
            state.currency,
            amount_text(state.order_amount),
            amount_text(state.claimed_amount),
            None if state.agreed_amount is None else amount_text(state.agreed_amount),
            amount_text(state.refunded_amount),
            state.outcome,
            deadlines_json(state.deadlines),
            time_text(state.opened_at),
            time_text(state.updated_at),
        )


@lru_cache(maxsize=4096)
def deadlines_json(deadlines: tuple[Deadline, ...]) -> str:
    return json.dumps(
        [
            {"name": d.name, "due_at": time_text(d.due_at), "rule": d.rule, "policy_version": d.policy_version}
            for d in deadlines
        ]
    )


class ClaimsListProjection(Projection):
    name = "claims"
    tables = ("read_claims",)

    def process(self, changes: Sequence[Change], tx: ViewConnection) -> None:
        # Only each claim's last state in the batch matters: one upsert per claim.
        last: dict[str, Change] = {}
        for change in changes:
            last[change.after.claim_id] = change
        tx.upsert_rows(ClaimsListView.TABLE, [ClaimsListView.row(c.after, c.position) for c in last.values()])


# --- queries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimFilters:
    status: str | None = None
    merchant_id: str | None = None
    buyer_id: str | None = None


@dataclass(frozen=True)
class ClaimPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(opened_at: str, claim_id: str) -> str:
    raw = json.dumps([opened_at, claim_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API issued") from None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise InvalidCursor("the cursor is not one this API issued")
    return value[0], value[1]


def list_claims(
    conn: ViewConnection, actor: Actor, filters: ClaimFilters, limit: int, cursor: str | None
) -> ClaimPage:
    """One page of the claims this actor may see, newest first."""
    where: list[str] = []
    params: list[Any] = []
    scope = claim_scope(actor)
    if scope.nothing:
        return ClaimPage([], None)
    if scope.buyer_id is not None:
        where.append("buyer_id = ?")
        params.append(scope.buyer_id)
    if scope.merchant_id is not None:
        where.append("merchant_id = ?")
        params.append(scope.merchant_id)
    for column, value in (
        ("status", filters.status),
        ("merchant_id", filters.merchant_id),
        ("buyer_id", filters.buyer_id),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if cursor is not None:
        opened_at, claim_id = decode_cursor(cursor)
        where.append(ClaimsListView.AFTER_CURSOR)
        params += [opened_at, opened_at, claim_id]
    sql = ClaimsListView.SELECT + (" WHERE " + " AND ".join(where) if where else "") + ClaimsListView.ORDER
    rows = conn.query(sql, [*params, limit + 1])
    items = [summary(row) for row in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1][17], rows[limit - 1][0]) if len(rows) > limit else None
    return ClaimPage(items, next_cursor)


def summary(row: Sequence[Any]) -> dict[str, Any]:
    names = _COLUMNS.split(", ")
    item = dict(zip(names, row, strict=True))
    item["id"] = item.pop("claim_id")
    item.pop("position")
    item["deadlines"] = json.loads(item["deadlines"])
    return item


class BuyerOpenings:
    """When a buyer opened its claims since a moment, from this view (the claim-rate limit counts them).

    The view follows the log: a claim opened within its lag (a fraction of a second) is not counted yet.
    """

    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def __call__(self, buyer_id: str, since: datetime, most: int) -> list[datetime]:
        """The latest ``most`` of them, oldest first: all the limit needs, however many there are."""
        with self.store.reading() as conn:
            rows = conn.query(ClaimsListView.BUYER_OPENINGS, (buyer_id, time_text(since), most))
        return [text_time(str(opened_at)) for (opened_at,) in reversed(rows)]
