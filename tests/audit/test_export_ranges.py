"""A period exported by worker processes, range by range, on every backend: the same bundle, byte for byte,
as the export in one process; the first fault of the period refused as in one process; one process when
workers cannot start."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from disputes.adapters.database import DatabaseUrl
from disputes.application.claims import DisputesApplication
from disputes.audit import IntegrityFault, export_ranges
from disputes.audit.bundle import Period, export_bundle
from disputes.audit.chain import seal_new_events, seal_reader
from disputes.audit.format import CLAIMS, EVENTS, MANIFEST, MEMBERS
from disputes.audit.keys import SigningKey
from disputes.audit.verify_store import walk_sealed_lines
from support.audit import START, Clock, Tamper, busy_store, verify_both

EVERYTHING = Period(START - timedelta(days=1), START + timedelta(days=30))
NOW = datetime(2026, 12, 1, tzinfo=UTC)
RANGE = 4
"""Sealed events per range in these tests: the 15 events of the store make four ranges."""


@pytest.fixture
def claims(app: DisputesApplication, clock: Clock) -> list[str]:
    """Three claims, five events each, interleaved in the log: positions 1..15, one hour apart."""
    return busy_store(app, clock)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in MEMBERS}


Export = Callable[[str, Period, int], dict[str, bytes]]


@pytest.fixture
def export(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, claims: list[str], tmp_path: Path
) -> Export:
    """Export a period of the sealed store to ``tmp_path / name`` with so many workers: the bundle's members."""
    seal_new_events(app, db)

    def run(name: str, period: Period, workers: int) -> dict[str, bytes]:
        out = tmp_path / name
        export_bundle(app, db, key, out, period=period, now=NOW, workers=workers, range_events=RANGE)
        return members(out)

    return run


@pytest.mark.parametrize(
    "period",
    [
        EVERYTHING,
        # from position 5 on: the claims opened before the period get their opening facts all the same
        Period(START + timedelta(hours=4), EVERYTHING.end),
    ],
    ids=["everything", "opened-before"],
)
def test_a_period_made_by_worker_processes_is_the_same_bundle_as_in_one_process(
    app: DisputesApplication, db: DatabaseUrl, export: Export, tmp_path: Path, period: Period
) -> None:
    alone = export("one.zip", period, 1)
    shared = export("workers.zip", period, 2)

    assert shared == alone  # every member, the manifest and its signature included
    first = 1 if period == EVERYTHING else 5
    with seal_reader(db) as reader:
        lines = walk_sealed_lines(app, reader, first - 1, 15, reader.hash_before(first))
        assert shared[EVENTS] == b"".join(text for _, text in lines)
    assert shared[CLAIMS].count(b"\r\n") == 1 + 3
    assert b'"last_position": 15' in shared[MANIFEST]
    assert verify_both(tmp_path / "workers.zip") is None


def test_the_seal_splits_a_period_into_ranges_that_start_from_the_hash_before_them(
    app: DisputesApplication, db: DatabaseUrl, claims: list[str]
) -> None:
    seal_new_events(app, db)
    with seal_reader(db) as reader:
        ranges = reader.split(2, 15, reader.hash_before(3), RANGE)
        assert [(r.after, r.stop) for r in ranges] == [(2, 6), (6, 10), (10, 14), (14, 15)]
        assert [r.prev_hash for r in ranges] == [reader.hash_before(r.after + 1) for r in ranges]


def test_a_tampered_period_made_by_workers_is_refused_at_its_first_damaged_position(
    export: Export, tmp_path: Path, tamper: Tamper
) -> None:
    tamper.replace_in_state(14, b"We disagree", b"We agree")  # in the last range
    tamper.delete(7)  # in the second: the first fault of the period

    with pytest.raises(IntegrityFault) as refused:
        export("refused.zip", EVERYTHING, 2)
    assert refused.value.position == 7
    assert refused.value.detail.startswith("position 7 removed")
    assert not (tmp_path / "refused.zip").exists()
    assert list(tmp_path.glob("*.part")) == []


def test_a_period_is_made_in_one_process_when_workers_cannot_start(
    export: Export, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = export("one.zip", EVERYTHING, 1)

    def no_processes(*args: object, **kwargs: object) -> None:
        raise OSError("no more processes")

    monkeypatch.setattr(export_ranges, "ProcessPoolExecutor", no_processes)
    assert export("fallback.zip", EVERYTHING, 2) == alone


def worker_dies(part: object, batch: int) -> None:
    """A range's task that ends its worker process at once."""
    os._exit(3)


def test_a_period_whose_worker_dies_is_finished_in_one_process_the_same_bundle(
    export: Export, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = export("one.zip", EVERYTHING, 1)

    monkeypatch.setattr(export_ranges, "_make_range", worker_dies)
    assert export("finished.zip", EVERYTHING, 2) == alone
