"""A claim's history for auditors: its states, replayed event by event, and what each event changed
(before, after).

The claim is rebuilt from its first event, each event applied to the state the one before left (the
aggregate's own mutators, so replay is the domain's, not a copy of it), and the public fields of
successive states are compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from disputes.application.claims import DisputesApplication
from disputes.application.records import EventRecord, event_record, plain
from disputes.domain.claim import claim_id_of

Changes = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Step:
    record: EventRecord
    changes: Changes
    """field -> {"before": value, "after": value}, for each public field the event changed."""


def public_state(aggregate: Any) -> dict[str, Any]:
    """The aggregate's public fields, JSON-ready (private ``_id``, ``_version``... left out)."""
    return {name: plain(value) for name, value in vars(aggregate).items() if not name.startswith("_")}


def diff(before: dict[str, Any], after: dict[str, Any]) -> Changes:
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    }


def replay(domain_events: Iterable[Any]) -> Iterator[Step]:
    """Each event of one claim, in version order, with what it changed."""
    aggregate: Any = None
    before: dict[str, Any] = {}
    for domain_event in domain_events:
        aggregate = domain_event.mutate(aggregate)
        after = public_state(aggregate)
        yield Step(event_record(domain_event), diff(before, after))
        before = after


def history_with_diff(app: DisputesApplication, records: Sequence[EventRecord]) -> list[dict[str, Any]]:
    """History entries (``version, type, recorded_at, actor, data``) each with ``changes``.

    ``records`` are what ``app.history(actor, claim_id)`` returned (so access is already checked);
    ``changes`` maps each public field of the claim the event changed to ``{"before", "after"}``,
    found by replaying the claim's states up to the last record.
    """
    if not records:
        return []
    domain_events = app.events.get(claim_id_of(records[0].claim_id), lte=records[-1].version)
    changes = {step.record.version: step.changes for step in replay(domain_events)}
    entries = []
    for record in records:
        entry = record.as_dict()
        del entry["claim_id"]
        entry["changes"] = changes.get(record.version, {})
        entries.append(entry)
    return entries
