"""Read model "deadlines": the open deadlines of every claim, which the deadline engine watches.

One row per (claim, deadline). A claim's rows follow its deadlines as they open, move and close; a
deadline that the claim recorded missed but that stays open (a late decision the engine flagged, a
``record_only`` rule) keeps its row with ``fired = 1``, so that the engine does not look at it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from projections.changes import Change
from projections.runner import Projection
from projections.store import ViewConnection, time_text


class DeadlinesView:
    DELETE_CLAIM = "DELETE FROM read_deadlines WHERE claim_id = ?"
    DELETE_OTHERS = "DELETE FROM read_deadlines WHERE claim_id = ? AND name NOT IN ({names})"
    """A claim's rows but those of its open deadlines (``names``: one ``?`` per open deadline)."""
    UPSERT = (
        "INSERT INTO read_deadlines (claim_id, name, due_at, status, position, fired, rule, policy_version) "
        "VALUES (?, ?, ?, ?, ?, 0, ?, ?) "
        "ON CONFLICT (claim_id, name) DO UPDATE SET status = excluded.status, position = excluded.position, "
        "fired = CASE WHEN read_deadlines.due_at = excluded.due_at THEN read_deadlines.fired ELSE 0 END, "
        "due_at = excluded.due_at, rule = excluded.rule, policy_version = excluded.policy_version"
    )
    FIRED = "UPDATE read_deadlines SET fired = 1 WHERE claim_id = ? AND name = ? AND due_at = ?"
    DUE = (
        "SELECT claim_id, name, due_at FROM read_deadlines WHERE fired = 0 AND due_at <= ? "
        "AND (due_at > ? OR (due_at = ? AND (claim_id > ? OR (claim_id = ? AND name > ?)))) "
        "ORDER BY due_at, claim_id, name LIMIT ?"
    )
    """A page of the due deadlines after a (due_at, claim_id, name) key: every one is reached, however
    many the engine cannot fire stand before it."""
    NEXT = "SELECT MIN(due_at) FROM read_deadlines WHERE fired = 0"
    UPCOMING = (
        "SELECT claim_id, name, due_at FROM read_deadlines WHERE fired = 0 AND due_at > ? AND due_at <= ? "
        "ORDER BY due_at, claim_id, name LIMIT ?"
    )
    """Open deadlines still ahead, up to a horizon (what the reminder engine looks at)."""
    UNFIXED = "SELECT DISTINCT claim_id FROM read_deadlines WHERE rule IS NULL ORDER BY claim_id LIMIT ?"


class DeadlinesProjection(Projection):
    name = "deadlines"
    tables = ("read_deadlines",)

    def process(self, changes: Sequence[Change], tx: ViewConnection) -> None:
        last: dict[str, Change] = {}
        missed: dict[str, list[tuple[str, datetime]]] = {}
        for change in changes:
            before, after = change.before, change.after
            if change.type == "DeadlineMissed":
                missed.setdefault(after.claim_id, []).append((change.attr("deadline"), change.attr("due_at")))
            elif before is not None and before.deadlines is after.deadlines:
                continue  # nothing the deadlines depend on moved
            last[after.claim_id] = change
        # One statement per kind of write for the whole batch (a round trip per claim is what costs on
        # PostgreSQL): first the rows of deadlines no longer open, grouped by how many stay open, then
        # the open ones. The two touch different rows, so their order does not matter.
        closing: dict[int, list[tuple[str, ...]]] = {}
        upserts = []
        for claim_id, change in last.items():
            state = change.after
            if change.before is not None:  # a new claim has no rows yet
                names = tuple(dict.fromkeys(d.name for d in state.deadlines))
                closing.setdefault(len(names), []).append((claim_id, *names))
            upserts += [
                (claim_id, d.name, time_text(d.due_at), state.status, change.position, d.rule, d.policy_version)
                for d in state.deadlines
            ]
        for count, rows in closing.items():
            tx.executemany(delete_others_sql(count), rows)
        tx.executemany(DeadlinesView.UPSERT, upserts)
        tx.executemany(
            DeadlinesView.FIRED,
            [(claim_id, name, time_text(due)) for claim_id, pairs in missed.items() for name, due in pairs],
        )


@lru_cache(maxsize=16)
def delete_others_sql(open_count: int) -> str:
    """The statement that deletes a claim's rows but those of its ``open_count`` open deadlines."""
    if open_count == 0:
        return DeadlinesView.DELETE_CLAIM
    return DeadlinesView.DELETE_OTHERS.format(names=", ".join("?" * open_count))


@dataclass(frozen=True)
class DueDeadline:
    claim_id: str
    name: str
    due_at: str


BEFORE_ALL = DueDeadline("", "", "")
"""The key before every due deadline: the first page starts after it."""


def due_deadlines(
    conn: ViewConnection, now: datetime, limit: int = 100, after: DueDeadline = BEFORE_ALL
) -> list[DueDeadline]:
    """Deadlines passed by ``now`` that the engine has not seen recorded, earliest first, from after the
    ``after`` key (the last of the page before)."""
    key = (after.due_at, after.due_at, after.claim_id, after.claim_id, after.name)
    rows: list[Any] = conn.query(DeadlinesView.DUE, (time_text(now), *key, limit))
    return [DueDeadline(str(c), str(n), str(d)) for c, n, d in rows]


def upcoming_deadlines(
    conn: ViewConnection, now: datetime, horizon: datetime, limit: int = 10_000
) -> list[DueDeadline]:
    """Open deadlines due after ``now`` and by ``horizon``, earliest first."""
    rows: list[Any] = conn.query(DeadlinesView.UPCOMING, (time_text(now), time_text(horizon), limit))
    return [DueDeadline(str(c), str(n), str(d)) for c, n, d in rows]


def unfixed_claims(conn: ViewConnection, limit: int = 100) -> list[str]:
    """Claims with an open deadline derived rather than fixed when it opened (recorded before)."""
    return [str(claim_id) for (claim_id,) in conn.query(DeadlinesView.UNFIXED, (limit,))]


def next_due(conn: ViewConnection) -> str | None:
    """The earliest open deadline the engine has yet to fire (RFC 3339 text), if any."""
    rows = conn.query(DeadlinesView.NEXT)
    return None if not rows or rows[0][0] is None else str(rows[0][0])
