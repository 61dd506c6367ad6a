"""A keyed command is marked committed in the transaction of its events: a key whose run died after
that commit is never run again, on both stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from disputes.adapters.idempotency import IN_FLIGHT_LEASE, PURGE_EVERY, IdempotencyAnswerLost, fingerprint
from disputes.adapters.keyed_runs import RUNNING, Attempt
from disputes.bootstrap import Container
from disputes.domain.parties import Actor, Role
from disputes.settings import Settings
from support import START, ManualClock, given_order, migrated_container

BUYER = Actor(Role.BUYER, "b1")
AFTER_THE_LEASE = START + IN_FLIGHT_LEASE + timedelta(seconds=1)


@pytest.fixture
def container(database_url: str) -> Iterator[Container]:
    settings = Settings(database_url=database_url, projections_in_process=False, deadlines_in_process=False)
    with migrated_container(settings, ManualClock(START)) as built:
        yield built


def begun(container: Container, key: str) -> Attempt:
    attempt = container.idempotency.begin(BUYER, key, fingerprint("POST", "/claims", None, key.encode()), START)
    assert isinstance(attempt, Attempt)
    return attempt


def again(container: Container, key: str) -> object:
    """The key asked for again once its first run's lease is over, that run having died unanswered."""
    return container.idempotency.begin(BUYER, key, fingerprint("POST", "/claims", None, key.encode()), AFTER_THE_LEASE)


def open_claim_as(container: Container, attempt: Attempt, order_id: str) -> None:
    running = RUNNING.set(attempt)
    try:
        container.app.open_claim(BUYER, order_id=order_id, kind="refund_only", reason="damaged",  # type: ignore[arg-type]
                                 claimed_amount="10.00", description="Broken.")
    finally:
        RUNNING.reset(running)


def test_a_key_whose_command_was_recorded_before_its_run_died_is_answered_lost_and_never_run_again(
    container: Container,
) -> None:
    given_order(container.app, "o1", delivered_at=START - timedelta(days=1), buyer_id="b1")
    open_claim_as(container, begun(container, "k-1"), "o1")  # ... and the process dies before it answers

    for _ in range(2):  # every retry, not only the first
        with pytest.raises(IdempotencyAnswerLost):
            again(container, "k-1")
    order = container.app.orders.find_recorded("o1")
    assert order is not None and len(container.app.orders.claims_of(order)) == 1


def test_a_key_whose_run_died_before_recording_anything_runs_again(container: Container) -> None:
    begun(container, "k-2")  # the process dies before the command is saved

    assert isinstance(again(container, "k-2"), Attempt)


def test_a_key_whose_save_lost_its_race_is_not_marked_and_runs_again(container: Container) -> None:
    given_order(container.app, "o2", delivered_at=START - timedelta(days=1), buyer_id="b1")
    container.app.open_claim(BUYER, order_id="o2", kind="refund_only", reason="damaged",  # type: ignore[arg-type]
                             claimed_amount="10.00", description="Broken.")
    with pytest.raises(Exception, match="open claim"):  # refused before anything is saved
        open_claim_as(container, begun(container, "k-3"), "o2")

    assert isinstance(again(container, "k-3"), Attempt)


def test_keyed_commands_committed_together_in_one_batch_are_each_marked(container: Container) -> None:
    orders = [f"o-batch-{i}" for i in range(12)]
    for order_id in orders:
        given_order(container.app, order_id, delivered_at=START - timedelta(days=1), buyer_id="b1")
    attempts = [begun(container, f"k-batch-{i}") for i in range(12)]
    start = threading.Barrier(12)
    batches_before = container.app.recorder.group.batches  # type: ignore[attr-defined]

    def run(i: int) -> None:
        start.wait()
        open_claim_as(container, attempts[i], orders[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert container.app.recorder.group.batches - batches_before < 12  # type: ignore[attr-defined]
    for i in range(12):
        with pytest.raises(IdempotencyAnswerLost):
            again(container, f"k-batch-{i}")


def test_a_key_whose_command_was_recorded_and_then_failed_is_answered_lost_not_run_again(
    container: Container,
) -> None:
    given_order(container.app, "o4", delivered_at=START - timedelta(days=1), buyer_id="b1")
    attempt = begun(container, "k-4")
    open_claim_as(container, attempt, "o4")
    container.idempotency.abandon(attempt)  # e.g. a 503 from a read after the commit

    with pytest.raises(IdempotencyAnswerLost):
        container.idempotency.begin(BUYER, "k-4", fingerprint("POST", "/claims", None, b"k-4"), START)


def test_the_purge_of_expired_keys_keeps_a_recorded_run_whose_process_died(container: Container) -> None:
    given_order(container.app, "o5", delivered_at=START - timedelta(days=1), buyer_id="b1")
    open_claim_as(container, begun(container, "k-5"), "o5")  # ... and the process dies
    later = START + PURGE_EVERY + timedelta(seconds=1)
    other = container.idempotency.begin(BUYER, "k-6", fingerprint("POST", "/claims", None, b"k-6"), later)
    assert isinstance(other, Attempt)  # another key's first run, after the lease: it purged expired rows

    with pytest.raises(IdempotencyAnswerLost):
        container.idempotency.begin(BUYER, "k-5", fingerprint("POST", "/claims", None, b"k-5"), later)
