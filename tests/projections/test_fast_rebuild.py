"""A rebuild's partitions take shortcuts that must change nothing: each selects its own events in SQL
(by the same rule as ``Partition.owns``), decodes them with orjson into the events the library's mapper
makes, and folds them into the claims the library's ``mutate`` makes."""

from __future__ import annotations

from typing import Any

import pytest

from disputes.adapters.event_store import StoredRow
from disputes.bootstrap import Container, build_runner
from disputes.cli.rebuild import rebuild
from disputes.domain.vocabulary import EvidenceKind, Party
from projections import catalog
from projections.decoding import EventDecoder
from projections.fold import Fold
from projections.partitions import Partition, PartitionReader, partitions
from projections.store import ViewConnection
from support.views import (
    Claims,
    ManualClock,
    buyer,
    dump_views,
    lifecycle_mix,
    mediator,
    merchant,
    positions,
    rebuilt_views,
)

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def varied_mix(claims: Claims, clock: ManualClock) -> None:
    """The lifecycle mix, and claims with messages, an offer declined and accepted, evidence asked for
    and added (the opening, a response, mediation, decisions, refunds, a withdrawal, ledger events)."""
    lifecycle_mix(claims, clock, 8)
    app = claims.app
    for n in range(3):
        claim_id = claims.open(who="b3", merchant_id="m3")
        clock.advance(minutes=10)
        app.post_message(buyer("b3"), claim_id, body=f"Is it broken? «{n}» — 花瓶\n")
        app.respond(merchant("m3"), claim_id, decision="offer", amount="40.00", message="Half?")
        clock.advance(minutes=10)
        app.answer_offer(buyer("b3"), claim_id, accept=n == 0)
        if n:
            app.request_mediation(buyer("b3"), claim_id, reason="We disagree.")
            app.assign_mediator(mediator(), claim_id, mediator_id=None)
            app.request_evidence(
                mediator(), claim_id, from_party=Party.MERCHANT, description="Photos.", due_at=None
            )
            clock.advance(hours=2)
            app.add_evidence(
                merchant("m3"), claim_id, kind=EvidenceKind.PHOTO, description="Packed.", sha256=SHA,
                size_bytes=1000, uri=None,
            )


def stored_rows(container: Container) -> list[StoredRow]:
    recorder: Any = container.app.recorder
    head = int(recorder.max_notification_id() or 0)
    return list(recorder.select_rows(0, head, head + 1))


@pytest.mark.parametrize("count", [2, 3, 4])
def test_each_partition_selects_in_sql_exactly_the_events_of_the_aggregates_it_owns(
    container: Container, claims: Claims, clock: ManualClock, count: int
) -> None:
    varied_mix(claims, clock)
    rows = stored_rows(container)
    head = rows[-1].id
    decode = container.app.mapper.to_domain_event

    selected: list[int] = []
    shares = []
    for partition in partitions(count):
        reader = PartitionReader(container.app.recorder, partition, container.settings.database.dialect)
        mine = reader.select(0, head, len(rows))
        assert all(partition.owns(decode(row).originator_id) for row in mine)
        selected += [row.id for row in mine]
        shares.append((len(mine), reader, mine))

    assert sorted(selected) == [row.id for row in rows]  # each event in exactly one partition
    _, reader, mine = max(shares, key=lambda share: share[0])  # a share may hold a single claim's events
    assert reader.select(mine[0].id, mine[1].id, len(rows)) == [mine[1]]  # up to the stop
    assert reader.select(mine[0].id, head, 1) == [mine[1]]  # no more than asked for


def test_the_fast_decoder_makes_the_events_the_library_s_mapper_makes(
    container: Container, claims: Claims, clock: ManualClock
) -> None:
    varied_mix(claims, clock)
    rows = stored_rows(container)
    decoder = EventDecoder(container.app)
    library = container.app.mapper.to_domain_event

    for row in rows:
        fast, reference = decoder.decode(row), library(row)
        assert type(fast) is type(reference)
        assert fast.__dict__ == reference.__dict__
        assert {k: type(v) for k, v in fast.__dict__.items()} == {k: type(v) for k, v in reference.__dict__.items()}

    assert decoder.fallbacks == 0
    assert len({type(library(row)).__name__ for row in rows}) >= 12


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"role":"buyer"', b'"role":"emperor"'),  # an actor that no longer validates
        (b'"_type_":"datetime_iso"', b'"_type_":"sundial"'),  # a transcoding nobody registered
        (b'"description":"The vase', b'"description":1.5,"x":"The vase'),  # a float
        (b'"order_id":"', b'"class_version":1,"order_id":"'),  # a class version to upcast from
        (b'"description":"The vase', b'"description":123456789012345678901234567890,"x":"The vase'),
        (b'"_data_":"2026', b'"_data_":"not a time 2026'),  # a time that does not parse
    ],
)
def test_a_stored_state_the_fast_decoder_is_unsure_of_is_left_to_the_library(
    container: Container, claims: Claims, clock: ManualClock, old: bytes, new: bytes
) -> None:
    claims.open()
    row = next(row for row in stored_rows(container) if old in row.state)
    changed = row._replace(state=row.state.replace(old, new, 1))
    decoder = EventDecoder(container.app)
    library = container.app.mapper.to_domain_event

    try:
        reference: Any = library(changed)
    except Exception as error:
        with pytest.raises(type(error)):
            decoder.decode(changed)
    else:
        assert decoder.decode(changed).__dict__ == reference.__dict__
    assert decoder.fallbacks == 1


def test_the_fold_leaves_each_claim_as_the_library_s_mutate_does_after_every_event(
    container: Container, claims: Claims, clock: ManualClock
) -> None:
    varied_mix(claims, clock)
    decode = container.app.mapper.to_domain_event
    claim_events = [decode(row) for row in stored_rows(container) if row.topic.startswith("disputes.domain.claim:")]
    fold = Fold()
    folded: dict[Any, Any] = {}
    mutated: dict[Any, Any] = {}

    for event in claim_events:
        folded[event.originator_id] = fold(event, folded.get(event.originator_id))
        mutated[event.originator_id] = event.mutate(mutated.get(event.originator_id))
        assert vars(folded[event.originator_id]) == vars(mutated[event.originator_id])

    assert len({type(e).__name__ for e in claim_events}) >= 10


def test_the_fold_leaves_an_event_that_does_not_follow_its_claim_to_the_library_s_error(
    container: Container, claims: Claims, clock: ManualClock
) -> None:
    claim_id = claims.open()
    claims.app.post_message(buyer(), claim_id, body="Hello.")
    claims.app.post_message(buyer(), claim_id, body="Again.")
    decode = container.app.mapper.to_domain_event
    opened, first, second = (decode(row) for row in stored_rows(container) if row.topic.startswith("disputes.domain.claim:"))
    fold = Fold()
    claim = fold(opened, None)

    with pytest.raises(Exception) as by_mutate:
        second.mutate(claim)
    with pytest.raises(type(by_mutate.value)):
        fold(second, claim)
    assert fold(first, claim).version == 2


def test_a_partition_needs_the_position_it_rebuilds_up_to(container: Container) -> None:
    with pytest.raises(ValueError, match="stop is needed"):
        build_runner(container, ["claims"], partition=Partition(0, 2))


def test_a_rebuild_in_partitions_of_small_batches_builds_the_views_an_incremental_build_does(
    container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    varied_mix(claims, clock)
    incremental = rebuilt_views(container, views)
    head = container.app.recorder.max_notification_id()

    # Three of its own events a batch: the last batch of each partition finds fewer than it asks for
    # and moves its positions past the other partition's events, to the head.
    read = rebuild(container, workers=2, batch_size=3, catchup_batch_size=3)

    assert read == head
    assert dump_views(views) == incremental
    assert positions(views) == dict.fromkeys(catalog.NAMES, head)
