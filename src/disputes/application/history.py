"""A claim's history for auditors: its states, replayed event by event, and what each event changed
(before, after).

The claim is rebuilt from its first event, each event applied to the state the one before left (the
aggregate's own mutators, so replay is the domain's, not a copy of it), and the public fields of
successive states are compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from disputes.application.claims import ClaimRef, DisputesApplication
from disputes.application.records import EventRecord, event_record, plain
from disputes.domain import errors
from disputes.domain.parties import Actor

Changes = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Step:
    record: EventRecord
    changes: Changes
    """field -> {"before": value, "after": value}, for each public field the event changed."""


def public_state(aggregate: Any) -> dict[str, Any]:
    """The aggregate's public fields, JSON-ready (private ``_id``, ``_version``... left out)."""
    return {name: plain(value) for name, value in vars(aggregate).items() if not name.startswith("_")}


def diff_of(before: dict[str, Any], after: dict[str, Any]) -> Changes:
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
        yield Step(event_record(domain_event), diff_of(before, after))
        before = after


DEFAULT_PAGE = 200
"""Events per page of a history when the reader names no ``limit``."""
MAX_PAGE = 1000
"""The most events one page of a history may hold."""


@dataclass(frozen=True)
class HistoryPage:
    """One page of a claim's history: its entries in version order, and whether more follow."""

    entries: list[dict[str, Any]]
    """``version, type, recorded_at, actor, data`` (and ``changes`` when asked for)."""
    next_after: int | None
    """The ``after_version`` of the next page (the last version on this one), or None on the last page."""


def history_page(
    app: DisputesApplication,
    actor: Actor,
    claim_ref: ClaimRef,
    *,
    after_version: int = 0,
    limit: int = DEFAULT_PAGE,
    as_of: datetime | None = None,
    diff: bool = False,
) -> HistoryPage:
    """The events of the claim after ``after_version``, at most ``limit`` of them, read from the store
    page by page (``limit + 1`` events, the one more telling whether another page follows).

    ``as_of``: only what was recorded at or before that moment (mediators and auditors, as for the
    claim as it stood). ``diff``: each entry also has ``changes``, found by replaying the claim's
    states; the replay starts at the first event, so one read takes the events from 1 up to the
    page's end: a page after version ``v`` costs ``v + limit`` events, not ``limit``.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise errors.InvalidValue(f"limit must be from 1 to {MAX_PAGE}, not {limit}")
    if after_version < 0:
        raise errors.InvalidValue(f"after_version must not be negative, not {after_version}")
    claim = app.get_claim(actor, claim_ref)
    if as_of is not None:
        app.require_past_reader(actor, claim)
        if as_of.tzinfo is None or as_of.utcoffset() is None:
            raise errors.InvalidValue("as_of must carry a time zone", claim_id=str(claim.id))
    end = after_version + limit + 1
    if diff:
        events: Iterable[Any] = app.events.get(claim.id, lte=end)
    else:
        events = app.events.get(claim.id, gt=after_version, limit=limit + 1)
    aggregate: Any = None
    before: dict[str, Any] = {}
    entries: list[dict[str, Any]] = []
    more = False
    for domain_event in events:
        if as_of is not None and getattr(domain_event, "timestamp") > as_of:  # noqa: B009 - every claim event has one
            break
        if domain_event.originator_version <= after_version:  # read for the diff's replay only
            aggregate = domain_event.mutate(aggregate)
            continue
        if len(entries) == limit:
            more = True
            break
        entry = event_record(domain_event).as_dict()
        del entry["claim_id"]
        if diff:
            if not entries and aggregate is not None:
                before = public_state(aggregate)  # the state the page starts from
            aggregate = domain_event.mutate(aggregate)
            after = public_state(aggregate)
            entry["changes"] = diff_of(before, after)
            before = after
        entries.append(entry)
    if as_of is not None and not entries and after_version == 0:
        raise errors.VersionNotFound(
            f"claim {claim.id} was opened at {claim.opened_at.isoformat()}, after {as_of.isoformat()}",
            claim_id=str(claim.id),
        )
    return HistoryPage(entries, entries[-1]["version"] if more else None)
