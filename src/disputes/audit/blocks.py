"""A run of chain records as one block of the bundle: its events.jsonl lines and its claims' rows.

The export writes blocks, in store order, whoever made them: its own process, a page of records at a
time, or a worker process, a whole range of the period at a time (:mod:`disputes.audit.export_ranges`).
A block's claim rows count the claim's events in the block; :meth:`ClaimRows.merge` joins the row of a
later block to the claim's row so far, which gives the same row as counting every event in turn.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from itertools import islice
from typing import Any, NamedTuple

OPENINGS = frozenset({"ClaimOpened", "OrderRecorded"})
"""The first event of a claim, or of an order (a merchant's standing has no opening facts)."""

EVENTS, LAST_VERSION, LAST_POSITION, LAST_EVENT, LAST_RECORDED_AT = 10, 12, 14, 15, 16
"""Places in a claim row (the scratch table's columns: claim, nine opening facts, then the counts)."""


def opening(record: dict[str, Any]) -> tuple[Any, ...]:
    """The opening facts of claims.csv, from a claim's (or an order's) first event."""
    data = record["data"]
    order = data.get("order_amount") or data.get("total_amount") or {}
    claimed = data.get("claimed_amount") or {}
    return (
        data.get("order_id"),
        data.get("buyer_id") or record["actor"]["id"],
        data.get("merchant_id"),
        data.get("kind"),
        data.get("reason"),
        order.get("currency"),
        order.get("amount"),
        claimed.get("amount"),
        record["recorded_at"],
    )


def claim_row(record: dict[str, Any]) -> list[Any]:
    """The row of a claim first seen at ``record``; without its opening facts unless it opens here."""
    facts = opening(record) if record["type"] in OPENINGS else (None,) * 9
    return [
        record["claim_id"],
        *facts,
        1,
        record["version"],
        record["version"],
        record["position"],
        record["position"],
        record["type"],
        record["recorded_at"],
    ]


class ClaimRows(dict[str, list[Any]]):
    """Claim rows by claim id, in first-seen order."""

    def add(self, record: dict[str, Any]) -> None:
        row = self.get(record["claim_id"])
        if row is None:
            self[record["claim_id"]] = claim_row(record)
        else:
            _advance(row, 1, record["version"], record["position"], record["type"], record["recorded_at"])

    def merge(self, later: list[Any]) -> None:
        """Join a row of a later block (the claim's events after those counted here)."""
        row = self.get(later[0])
        if row is None:
            self[later[0]] = later
        else:
            _advance(
                row, *(later[i] for i in (EVENTS, LAST_VERSION, LAST_POSITION, LAST_EVENT, LAST_RECORDED_AT))
            )


def _advance(row: list[Any], events: int, version: int, position: int, kind: str, recorded_at: str) -> None:
    """Count ``events`` more events of the row's claim, the last of them at ``version`` and ``position``."""
    row[EVENTS] += events
    row[LAST_VERSION], row[LAST_POSITION], row[LAST_EVENT], row[LAST_RECORDED_AT] = (
        version,
        position,
        kind,
        recorded_at,
    )


class Block(NamedTuple):
    """Consecutive chain records of the bundle: their lines, their claims' rows, and where they end."""

    lines: bytes
    claims: list[list[Any]]
    events: int
    first_position: int
    last_position: int
    last_hash: str


def blocks(records: Iterator[tuple[dict[str, Any], bytes]], size: int) -> Generator[Block, None, None]:
    """The chain records (each with its line) in blocks of at most ``size``; none when there is none."""
    while True:
        lines: list[bytes] = []
        rows = ClaimRows()
        record: dict[str, Any] | None = None
        first = 0
        for record, text in islice(records, size):
            if not lines:
                first = record["position"]
            lines.append(text)
            rows.add(record)
        if record is None:
            return
        yield Block(
            b"".join(lines), list(rows.values()), len(lines), first, record["position"], record["hash"]
        )
        if len(lines) < size:
            return
