"""An iterator read ahead by a thread: the next pages come from the database while this one is worked.

The database drivers (sqlite3, psycopg) let other threads run while they wait, so an export that reads
pages of events and spends CPU on each overlaps the two. At most ``depth`` items wait in memory. The
thread stops when the consumer stops (a fault, an error, the end); an error of the source is raised
in the consumer, in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()
_POLL_SECONDS = 0.1


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items`` in order, read ahead by a thread of their own (``depth`` items at most)."""
    waiting: queue.Queue[object] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed to the consumer, which raises it
            put(_Failed(error))
            return
        put(_END)

    reader = threading.Thread(target=produce, name="disputes-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            item = waiting.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join(timeout=5)
