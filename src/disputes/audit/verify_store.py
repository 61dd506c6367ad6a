"""Recompute the chain from the stored events and compare it with the seal, position by position.

The first difference is reported by position and kind: ``altered`` (the stored event no longer hashes
to its seal, or no longer decodes), ``removed`` (a sealed position is missing from the store),
``reordered`` (a position holds an event sealed at another position) or ``inserted`` (a stored event
inside the sealed range that was never sealed). Events after the sealed head are chained too, and
counted as unsealed: nothing to compare them with yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from disputes.adapters.database import DatabaseUrl
from disputes.application.claims import DisputesApplication
from disputes.audit import IntegrityFault
from disputes.audit.canonical import ZERO_HASH, chain_record, line
from disputes.audit.chain import (
    DEFAULT_BATCH,
    SealedRow,
    SealReader,
    as_notification,
    decode,
    iter_stored,
    seal_reader,
)
from disputes.audit.raw_records import chain_line, raw_decoder

Progress = Callable[[int], None]


def fault(kind: str, position: int, detail: str) -> IntegrityFault:
    """A fault of the store at ``position``: altered, removed, reordered, inserted or unsealed."""
    return IntegrityFault(f"position {position} {kind}: {detail}", position=position, code=kind)


def _describe(row: SealedRow) -> str:
    return f"claim {row.claim_id} version {row.version}"


def walk_sealed(
    app: DisputesApplication,
    reader: SealReader,
    after: int,
    stop: int,
    prev_hash: str,
    *,
    batch: int = DEFAULT_BATCH,
    allow_unsealed: bool = False,
) -> Iterator[dict[str, Any]]:
    """Chain records of the stored events in (after, stop], each checked against the seal.

    ``prev_hash`` is the hash of the event before ``after``. Raises :class:`IntegrityFault` at the first
    difference. With ``allow_unsealed``, stored events after the sealed head are yielded unchecked;
    otherwise they are a fault too.
    """
    for record, _ in walk_sealed_lines(
        app, reader, after, stop, prev_hash, batch=batch, allow_unsealed=allow_unsealed
    ):
        yield record


def walk_sealed_lines(
    app: DisputesApplication,
    reader: SealReader,
    after: int,
    stop: int,
    prev_hash: str,
    *,
    batch: int = DEFAULT_BATCH,
    allow_unsealed: bool = False,
) -> Iterator[tuple[dict[str, Any], bytes]]:
    """:func:`walk_sealed`, each record with its events.jsonl line (hashed and written once).

    Each stored event is read straight from its stored state when :mod:`disputes.audit.raw_records`
    is sure to read it as the aggregate layer does, else decoded through the aggregate layer.
    """
    head = reader.head().position
    store = iter_stored(app, after, stop, batch)
    seal = reader.rows(after, min(stop, head), batch)
    raw = raw_decoder(app)
    try:
        pending_seal = next(seal, None)
        for notification in store:
            position = notification.id
            if pending_seal is not None and pending_seal.position < position:
                raise fault(
                    "removed", pending_seal.position, f"{_describe(pending_seal)} is sealed but not stored"
                )
            fast = raw(notification)
            if fast is not None:
                chained, text = chain_line(position, fast, prev_hash)
            else:
                try:
                    record = decode(app, as_notification(app, notification))
                except Exception as exc:
                    raise fault(
                        "altered", position, f"the stored event no longer decodes ({type(exc).__name__})"
                    ) from None
                chained = chain_record(position, record, prev_hash)
                text = line(chained)
            if pending_seal is None or pending_seal.position > position:
                if position <= head:
                    raise fault(
                        "inserted",
                        position,
                        f"claim {chained['claim_id']} version {chained['version']} was never sealed",
                    )
                if not allow_unsealed:
                    raise fault("unsealed", position, "the event is not sealed yet")
            else:
                sealed = pending_seal
                pending_seal = next(seal, None)
                claim_id, version = chained["claim_id"], chained["version"]
                if (claim_id, version) != (sealed.claim_id, sealed.version):
                    elsewhere = reader.at_version(claim_id, version)
                    if elsewhere is not None:
                        raise fault(
                            "reordered",
                            position,
                            f"holds claim {claim_id} version {version}, sealed at position {elsewhere.position}",
                        )
                    raise fault("altered", position, f"sealed as {_describe(sealed)}, stored event differs")
                if chained["hash"] != sealed.hash:
                    raise fault("altered", position, f"{_describe(sealed)} does not match its seal")
            prev_hash = chained["hash"]
            yield chained, text
        if pending_seal is not None:
            raise fault(
                "removed", pending_seal.position, f"{_describe(pending_seal)} is sealed but not stored"
            )
    finally:  # now, not when the fault is dropped: a read in flight, a connection held
        store.close()
        seal.close()


@dataclass(frozen=True)
class StoreReport:
    first_position: int | None
    last_position: int | None
    checked: int
    unsealed: int
    sealed_head: int
    last_hash: str
    fault: IntegrityFault | None

    @property
    def ok(self) -> bool:
        return self.fault is None

    def summary(self) -> str:
        if self.fault is not None:
            return f"verify-store: {self.fault.detail}"
        if not self.checked:
            return f"verify-store: OK, no events in range (sealed head {self.sealed_head})"
        unsealed = f", {self.unsealed} not sealed yet" if self.unsealed else ""
        return (
            f"verify-store: OK, {self.checked} events at positions {self.first_position}..{self.last_position} "
            f"match the seal{unsealed}; last hash {self.last_hash}"
        )


def verify_store(
    app: DisputesApplication,
    reader: SealReader,
    start: int | None = None,
    stop: int | None = None,
    *,
    batch: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> StoreReport:
    """Recompute the chain over positions [start, stop] (default: the whole store) against the seal.

    The chain enters the range with the sealed hash of the position before ``start``; the whole store is
    recomputed when that position is not sealed (or ``start`` is not given).
    """
    sealed_head = reader.head().position
    after = 0 if start is None else max(start - 1, 0)
    prev = ZERO_HASH
    if after and after <= sealed_head:
        prev = reader.hash_before(after + 1)
    elif after:
        after = 0  # nothing sealed to enter from: recompute from the beginning, report from start
    stop = stop if stop is not None else max(app.recorder.max_notification_id() or 0, sealed_head)
    first = last = None
    checked = unsealed = 0
    last_hash = prev
    try:
        for record in walk_sealed(app, reader, after, stop, prev, batch=batch, allow_unsealed=True):
            last_hash = record["hash"]
            if start is not None and record["position"] < start:
                continue
            first = record["position"] if first is None else first
            last = record["position"]
            checked += 1
            unsealed += record["position"] > sealed_head
            if progress is not None and checked % batch == 0:
                progress(checked)
    except IntegrityFault as fault:
        return StoreReport(first, last, checked, unsealed, sealed_head, last_hash, fault)
    return StoreReport(first, last, checked, unsealed, sealed_head, last_hash, None)


def verify_store_at(
    app: DisputesApplication, db: DatabaseUrl, start: int | None = None, stop: int | None = None
) -> StoreReport:
    with seal_reader(db) as reader:
        return verify_store(app, reader, start, stop)
