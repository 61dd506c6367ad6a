"""Read model "queue": the mediators' work queue, most urgent first (``GET /queue``).

A claim is in the queue when the platform must act on it now (``needs_platform``):

| status | action |
|---|---|
| under_mediation, no mediator | assign a mediator |
| under_mediation, evidence requested | await the requested evidence, then decide |
| under_mediation | decide |
| under_appeal | decide the appeal (a mediator other than the one who decided) |
| escalated_to_legal | record the legal outcome |
| legal_concluded, claim_rejected | close the case |
| refunded, fulfilment_pending, with a mediator | confirm and close the case |

or, whatever its status, once its next deadline has passed (the platform acts on a missed deadline).
Withdrawn and closed claims leave the queue. Urgency: flagged cases first (the deadline engine flags a
case whose decision is late, or that it sent to mediation because a refund is late; ``flag`` names the
policy rule, and any change of status clears it), then nearest deadline first (none last), then the
oldest claim, then the largest claimed amount (compared as a number, whatever the currency), then id.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from disputes.domain.vocabulary import TERMINAL_STATUSES, ClaimStatus
from disputes.i18n import DEFAULT_LANGUAGE, text
from projections.changes import Change, ClaimState
from projections.runner import Projection
from projections.store import Table, ViewConnection, amount_text, time_text

S = ClaimStatus
UNASSIGNED = "-"
"""``assigned_to=-``: only claims no mediator has taken (``-`` can start no principal id)."""

_COLUMNS = (
    "claim_id, version, position, status, needs_platform, action, mediator_id, buyer_id, merchant_id, "
    "kind, reason, currency, claimed_amount, next_deadline_name, next_deadline_at, opened_at, "
    "updated_at, urgency"
)
_NAMES = _COLUMNS.split(", ")
_FIXED = frozenset(["buyer_id", "merchant_id", "kind", "reason", "currency", "claimed_amount", "opened_at"])
_NO_DEADLINE = "~"  # sorts after every time text
_AMOUNT_CEILING = Decimal(10) ** 14


class InvalidCursor(ValueError):
    """A cursor this API did not issue."""


FLAG_EVENTS = frozenset({"MediationForced", "Flagged"})
"""Events that flag a case (their ``flag`` attribute); any other change of status clears the flag."""
_RANK = "(CASE WHEN flag IS NULL THEN 1 ELSE 0 END)"


class QueueView:
    TABLE = Table("read_queue", tuple(_NAMES), ("claim_id",), _FIXED)
    TABLE_WITH_FLAG = Table("read_queue", (*_NAMES, "flag"), ("claim_id",), _FIXED)
    """For the claims whose flag changed in a batch; the others' upserts leave the flag as it is."""
    DELETE = "DELETE FROM read_queue WHERE claim_id = ?"
    SELECT = (
        f"SELECT {_COLUMNS}, flag, {_RANK} FROM read_queue WHERE (needs_platform = 1 OR next_deadline_at <= ?)"
    )
    AFTER_CURSOR = f" AND ({_RANK} > ? OR ({_RANK} = ? AND urgency > ?))"
    ORDER = f" ORDER BY {_RANK}, urgency LIMIT ?"


def action(state: ClaimState) -> tuple[bool, str]:
    """Whether the platform must act now, and the code of what the claim waits for (``queue.action.<code>``
    in the catalogues: the row holds no words)."""
    status = state.status
    if status == S.UNDER_MEDIATION:
        if state.mediator_id is None:
            return True, "assign_mediator"
        if any(d.name.startswith("evidence_from_") for d in state.deadlines):
            return True, "await_evidence"
        return True, "decide"
    if status == S.UNDER_APPEAL:
        return True, "decide_appeal"
    if status == S.ESCALATED_TO_LEGAL:
        return True, "record_legal_outcome"
    if status in (S.LEGAL_CONCLUDED, S.CLAIM_REJECTED):
        return True, "close_case"
    if status in (S.REFUNDED, S.FULFILMENT_PENDING) and state.mediator_id is not None:
        return True, "confirm_and_close"
    return False, "wait.other" if status in TERMINAL_STATUSES else f"wait.{status}"


def urgency(state: ClaimState) -> str:
    due = time_text(state.deadlines[0].due_at) if state.deadlines else _NO_DEADLINE
    # Larger amounts first: the complement to a fixed ceiling, zero-padded, sorts in reverse.
    inverted = (_AMOUNT_CEILING - state.claimed_amount).quantize(Decimal("0.0001"))
    return f"{due}|{time_text(state.opened_at)}|{inverted:0>20}|{state.claim_id}"


class QueueProjection(Projection):
    name = "queue"
    tables = ("read_queue",)

    def process(self, changes: Sequence[Change], tx: ViewConnection) -> None:
        last: dict[str, Change] = {}
        flags: dict[str, str | None] = {}
        for change in changes:
            claim_id = change.after.claim_id
            last[claim_id] = change
            if change.type in FLAG_EVENTS:
                flags[claim_id] = change.attr("flag")
            elif change.before is not None and change.before.status_since != change.after.status_since:
                flags[claim_id] = None
        upserts, flagged, deletes = [], [], []
        for claim_id, change in last.items():
            state = change.after
            if state.status in TERMINAL_STATUSES:
                deletes.append((claim_id,))
            elif claim_id in flags:
                flagged.append((*self.row(state, change.position), flags[claim_id]))
            else:
                upserts.append(self.row(state, change.position))
        tx.executemany(QueueView.DELETE, deletes)
        tx.upsert_rows(QueueView.TABLE, upserts)
        tx.upsert_rows(QueueView.TABLE_WITH_FLAG, flagged)

    @staticmethod
    def row(state: ClaimState, position: int) -> tuple[Any, ...]:
        needs_platform, what = action(state)
        first = state.deadlines[0] if state.deadlines else None
        return (
            state.claim_id,
            state.version,
            position,
            state.status,
            1 if needs_platform else 0,
            what,
            state.mediator_id,
            state.buyer_id,
            state.merchant_id,
            state.kind,
            state.reason,
            state.currency,
            amount_text(state.claimed_amount),
            None if first is None else first.name,
            None if first is None else time_text(first.due_at),
            time_text(state.opened_at),
            time_text(state.updated_at),
            urgency(state),
        )


# --- queries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = None
    assigned_to: str | None = None
    due_before: datetime | None = None
    signal: str | None = None
    """Only claims carrying this signal (computed per claim as the queue is read: see ``work_queue``)."""


SignalNames = Callable[[Sequence[str]], Mapping[str, Sequence[str]]]
"""The signal names of each of these claims (``projections.signals.SignalReader.names``)."""
SIGNAL_SCAN = 200
"""Queue rows read at a time while looking for claims that carry the asked-for signal."""


@dataclass(frozen=True)
class QueuePage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(rank: int, urgency_key: str) -> str:
    return base64.urlsafe_b64encode(f"{rank}|{urgency_key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The (flag rank, urgency) after which the next page starts; older cursors carry no rank."""
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API issued") from None
    if key.count("|") == 3:
        return 1, key
    rank, _, urgency_key = key.partition("|")
    if rank not in ("0", "1") or urgency_key.count("|") != 3:
        raise InvalidCursor("the cursor is not one this API issued")
    return int(rank), urgency_key


def work_queue(
    conn: ViewConnection,
    filters: QueueFilters,
    limit: int,
    cursor: str | None,
    now: datetime,
    language: str = DEFAULT_LANGUAGE,
    signals: SignalNames | None = None,
) -> QueuePage:
    """The claims the platform must act on, most urgent first, each ``action`` in ``language``; with
    ``signals``, each item names its
    signals. The ``signal`` filter reads the queue in urgency order, SIGNAL_SCAN rows at a time, until a
    page of claims carrying the signal is found (or the queue ends): its cost grows with how far down
    the queue the matches are."""
    if signals is None or filters.signal is None:
        page = _queue_page(conn, filters, limit, cursor, now, language)
        if signals is not None:
            names = signals([item["claim_id"] for item in page.items])
            for item in page.items:
                item["signals"] = list(names.get(item["claim_id"], ()))
        return page
    now_text = time_text(now)
    matched: list[tuple[Sequence[Any], list[str]]] = []
    after = cursor
    while len(matched) <= limit:
        rows = _queue_rows(conn, filters, SIGNAL_SCAN, after, now_text)
        names = signals([str(row[0]) for row in rows])
        for row in rows:
            carried = list(names.get(str(row[0]), ()))
            if filters.signal in carried:
                matched.append((row, carried))
                if len(matched) > limit:
                    break
        if len(rows) < SIGNAL_SCAN:
            break
        after = encode_cursor(int(rows[-1][-1]), rows[-1][-3])
    items = []
    for row, carried in matched[:limit]:
        item = _item(row, now_text, language)
        item["signals"] = carried
        items.append(item)
    last = matched[limit - 1][0] if len(matched) > limit else None
    return QueuePage(items, None if last is None else encode_cursor(int(last[-1]), last[-3]))


def _queue_page(
    conn: ViewConnection, filters: QueueFilters, limit: int, cursor: str | None, now: datetime, language: str
) -> QueuePage:
    now_text = time_text(now)
    rows = _queue_rows(conn, filters, limit + 1, cursor, now_text)
    items = [_item(row, now_text, language) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = None if last is None else encode_cursor(int(last[-1]), last[-3])
    return QueuePage(items, next_cursor)


def _queue_rows(
    conn: ViewConnection, filters: QueueFilters, count: int, cursor: str | None, now_text: str
) -> list[Any]:
    """Up to ``count`` queue rows after the cursor, most urgent first."""
    sql = QueueView.SELECT
    params: list[Any] = [now_text]
    if filters.status is not None:
        sql += " AND status = ?"
        params.append(filters.status)
    if filters.assigned_to == UNASSIGNED:
        sql += " AND mediator_id IS NULL"
    elif filters.assigned_to is not None:
        sql += " AND mediator_id = ?"
        params.append(filters.assigned_to)
    if filters.due_before is not None:
        sql += " AND next_deadline_at < ?"
        params.append(time_text(filters.due_before))
    if cursor is not None:
        rank, after = decode_cursor(cursor)
        sql += QueueView.AFTER_CURSOR
        params.extend([rank, rank, after])
    return conn.query(sql + QueueView.ORDER, [*params, count])


def _item(row: Sequence[Any], now_text: str, language: str) -> dict[str, Any]:
    item = dict(zip((*_NAMES, "flag", "rank"), row, strict=True))
    item["action_code"] = item["action"]
    item["action"] = text(language, "queue.action." + item["action"])
    item.pop("rank")
    due_name, due_at = item.pop("next_deadline_name"), item.pop("next_deadline_at")
    item["next_deadline"] = None if due_name is None else {"name": due_name, "due_at": due_at}
    item["overdue"] = due_at is not None and due_at <= now_text
    item["needs_platform"] = bool(item["needs_platform"])
    item.pop("position")
    item.pop("urgency")
    return item
