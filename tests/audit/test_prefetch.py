"""Pages read ahead by a thread come in order; the source's error is raised in the reader, in order; a
reader that stops early stops the thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from disputes.audit.prefetch import prefetched


def test_items_read_ahead_come_in_their_order() -> None:
    assert list(prefetched(iter(range(1000)), depth=2)) == list(range(1000))


def test_an_error_of_the_source_is_raised_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise LookupError("the database went away")

    seen = []
    with pytest.raises(LookupError, match="went away"):
        for item in prefetched(source()):
            seen.append(item)
    assert seen == [1, 2]


def test_a_reader_that_stops_early_stops_the_thread_reading_ahead() -> None:
    before = threading.active_count()
    reading = prefetched(iter(range(10**9)), depth=2)
    assert next(reading) == 0
    reading.close()

    assert threading.active_count() == before
