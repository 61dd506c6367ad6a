"""A claim's states, replayed event by event: what each event changed (before, after).

The claim is rebuilt from its first event, each event applied to the state the one before left (the
aggregate's own mutators, so replay is the domain's, not a copy of it), and the public fields of
successive states are compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from disputes.event_data import EventRecord, event_record, plain

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
