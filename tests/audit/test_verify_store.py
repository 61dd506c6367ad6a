"""verify-store recomputes the chain from the stored events and names the first position that differs
from the seal: altered, removed or reordered rows, on every backend (PostgreSQL with its append-only
guard switched off, as a superuser could)."""

from __future__ import annotations

import pytest

from disputes.adapters.database import DatabaseUrl
from disputes.application.claims import DisputesApplication
from disputes.audit.chain import seal_new_events, seal_reader
from disputes.audit.verify_store import StoreReport, verify_store
from support.audit import BUYER, Clock, Tamper, busy_store


def check(
    app: DisputesApplication, db: DatabaseUrl, start: int | None = None, stop: int | None = None
) -> StoreReport:
    with seal_reader(db) as reader:
        return verify_store(app, reader, start, stop)


@pytest.fixture
def sealed(app: DisputesApplication, db: DatabaseUrl, clock: Clock) -> list[str]:
    """Three claims of five events each (positions 1..15, claims interleaved), all sealed."""
    ids = busy_store(app, clock)
    seal_new_events(app, db)
    return ids


def test_an_untouched_store_matches_its_seal(
    app: DisputesApplication, db: DatabaseUrl, sealed: list[str]
) -> None:
    report = check(app, db)

    assert report.ok, report.summary()
    assert (report.first_position, report.last_position, report.checked, report.unsealed) == (1, 15, 15, 0)
    assert "OK, 15 events at positions 1..15" in report.summary()


def test_an_altered_event_is_named_by_its_position(
    app: DisputesApplication, db: DatabaseUrl, sealed: list[str], tamper: Tamper
) -> None:
    tamper.replace_in_state(7, b"Not enough", b"Fine, okay")

    report = check(app, db)

    assert report.fault is not None
    assert (report.fault.position, report.fault.code) == (7, "altered")
    assert report.summary().startswith("verify-store: position 7 altered:")
    assert report.checked == 6


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_a_fault_among_small_pages_read_ahead_is_named_as_one_page_names_it(
    app: DisputesApplication, db: DatabaseUrl, sealed: list[str], tamper: Tamper, batch: int
) -> None:
    tamper.replace_in_state(7, b"Not enough", b"Fine, okay")
    tamper.delete(11)

    with seal_reader(db) as reader:
        report = verify_store(app, reader, batch=batch)  # the walk stops with the next pages in flight

    assert report.fault is not None
    assert (report.fault.position, report.fault.code, report.checked) == (7, "altered", 6)
    with seal_reader(db) as reader:
        rest = verify_store(app, reader, 8, batch=batch)
    assert rest.fault is not None and (rest.fault.position, rest.fault.code) == (11, "removed")


def test_a_removed_event_is_named_by_its_position(
    app: DisputesApplication, db: DatabaseUrl, sealed: list[str], tamper: Tamper
) -> None:
    tamper.delete(5)

    fault = check(app, db).fault

    assert fault is not None
    assert (fault.position, fault.code) == (5, "removed")
    assert f"claim {sealed[1]} version 2 is sealed but not stored" in fault.detail


def test_removing_the_last_events_is_found_too(
    app: DisputesApplication, db: DatabaseUrl, sealed: list[str], tamper: Tamper
) -> None:
    tamper.delete(15)

    fault = check(app, db).fault

    assert fault is not None
    assert (fault.position, fault.code) == (15, "removed")


def test_two_swapped_events_are_reported_as_reordered(
    app: DisputesApplication, db: DatabaseUrl, sealed: list[str], tamper: Tamper
) -> None:
    tamper.swap(4, 9)

    fault = check(app, db).fault

    assert fault is not None
    assert (fault.position, fault.code) == (4, "reordered")
    assert "sealed at position 9" in fault.detail


def test_a_range_is_checked_from_the_seal_of_the_position_before_it(
    app: DisputesApplication, db: DatabaseUrl, sealed: list[str], tamper: Tamper
) -> None:
    tamper.replace_in_state(3, b"100.00", b"999.00")

    assert check(app, db, start=4).ok
    assert check(app, db, start=4, stop=10).checked == 7
    fault = check(app, db, start=2, stop=5).fault
    assert fault is not None and fault.position == 3


def test_events_recorded_after_the_seal_are_chained_and_counted_as_unsealed(
    app: DisputesApplication, db: DatabaseUrl, sealed: list[str]
) -> None:
    app.post_message(BUYER, sealed[0], body="any news?")

    report = check(app, db)

    assert report.ok
    assert (report.checked, report.unsealed, report.sealed_head) == (16, 1, 15)
    assert "1 not sealed yet" in report.summary()
