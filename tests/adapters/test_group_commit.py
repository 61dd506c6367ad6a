"""Group commit: concurrent saves of one process written in one transaction, each accepted or refused
on its own, on both stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from disputes.adapters.event_store import lost_races
from disputes.adapters.migrations import apply_migrations
from disputes.bootstrap import Container, bootstrap
from disputes.settings import Settings

TOPIC = "tests.group_commit:Noted"


@pytest.fixture
def container(database_url: str) -> Iterator[Container]:
    settings = Settings(database_url=database_url, projections_in_process=False, deadlines_in_process=False)
    apply_migrations(settings.database)
    built = bootstrap(settings)
    try:
        yield built
    finally:
        built.close()


def events(originator: UUID, *versions: int) -> list[StoredEvent]:
    return [StoredEvent(originator, v, TOPIC, f'{{"v":{v}}}'.encode()) for v in versions]


def all_at_once(saves: Sequence[Sequence[StoredEvent]], recorder: object) -> list[object]:
    """Each save from a thread of its own, all released together; each save's positions or its error."""
    outcomes: list[object] = [None] * len(saves)
    start = threading.Barrier(len(saves))

    def run(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = recorder.insert_events(saves[i])  # type: ignore[attr-defined]
        except IntegrityError as refused:
            outcomes[i] = refused

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(saves))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_saves_are_written_in_batches_and_each_gets_the_positions_of_its_own_events(
    container: Container,
) -> None:
    recorder = container.app.recorder
    saves = [events(uuid4(), 1, 2) for _ in range(48)]
    outcomes = all_at_once(saves, recorder)

    assert all(isinstance(o, list) and len(o) == 2 for o in outcomes), outcomes
    group = recorder.group  # type: ignore[attr-defined]
    assert group.items == 48 and group.batches < 48  # saves shared transactions
    recorded = {n.id: (n.originator_id, n.originator_version) for n in recorder.select_notifications(1, 1000)}
    assert len(recorded) == 96
    for save, positions in zip(saves, outcomes, strict=True):
        assert [recorded[p] for p in positions] == [(e.originator_id, e.originator_version) for e in save]  # type: ignore[union-attr]


def test_a_save_that_lost_a_race_is_refused_alone_and_its_batch_is_recorded(container: Container) -> None:
    recorder = container.app.recorder
    contested = uuid4()
    recorder.insert_events(events(contested, 1))
    racing = [events(contested, 2, 3) for _ in range(6)]
    others = [events(uuid4(), 1) for _ in range(24)]
    outcomes = all_at_once([*racing, *others], recorder)

    won = [o for o in outcomes[:6] if not isinstance(o, IntegrityError)]
    assert len(won) == 1  # one of the six saves of versions 2 and 3 won; the others lost, alone
    assert all(isinstance(o, list) and len(o) == 1 for o in outcomes[6:])
    versions = [e.originator_version for e in recorder.select_events(contested)]
    assert versions == [1, 2, 3]
    assert len(recorder.select_notifications(1, 1000)) == 1 + 2 + 24


def test_a_save_behind_the_recorded_version_or_behind_an_earlier_save_of_its_batch_lost_its_race() -> None:
    a, b = uuid4(), uuid4()
    latest = {a: 3}
    lost = lost_races([events(a, 3), events(a, 4, 5), events(a, 5), events(b, 1), events(b, 1)], latest)
    assert lost == [True, False, True, False, True]
    assert latest == {a: 5, b: 1}
