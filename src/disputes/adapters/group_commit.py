"""Group commit: concurrent saves of one process written together, in one transaction.

Each command is decided on its own, by its own thread; only the write is shared. A thread that saves
hands its events to :meth:`GroupCommit.submit` and waits. If no batch is being written, it becomes the
*leader*: it takes every save waiting at that moment (up to ``max_batch``), writes them in one
transaction through the ``write`` function, hands each waiting thread its own outcome, and then passes
the lead to the oldest save that arrived meanwhile, so that no thread writes for others for longer than
one batch. Nothing waits on a timer: a save that arrives while nothing is being written is written at
once, alone; saves that arrive while a batch is written form the next one. Under load the batches grow
with the load, and so does the number of commands per transaction (and per commit's flush to disk).

``write`` answers one outcome per item, in order: the item's result, or the exception for that item
alone (a lost race refuses one command, never its batch). If ``write`` itself raises (the database is
away, a connection broke), every item of that batch gets that exception: none of them is acknowledged.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

Write = Callable[[Sequence[Item]], Sequence["Result | BaseException"]]


class _Waiting(Generic[Item, Result]):
    __slots__ = ("item", "leads", "outcome", "settled", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.outcome: Result | BaseException | None = None
        self.settled = False
        self.leads = False
        self.wake = threading.Event()


class GroupCommit(Generic[Item, Result]):
    """Batches concurrent :meth:`submit` calls into calls of ``write`` (see the module's text)."""

    def __init__(self, write: Write[Item, Result], *, max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._write = write
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: deque[_Waiting[Item, Result]] = deque()
        self._leading = False
        self.batches = 0
        """Batches written so far (for the metrics and the tests)."""
        self.items = 0
        """Items written so far, in those batches."""

    def submit(self, item: Item) -> Result:
        """Write ``item`` with whatever else is waiting; its own result, or its own exception."""
        me: _Waiting[Item, Result] = _Waiting(item)
        with self._lock:
            self._queue.append(me)
            if not self._leading:
                self._leading = me.leads = True
        while not me.leads and not me.settled:
            me.wake.wait()
            me.wake.clear()
        if not me.settled:
            self._lead()
        outcome = me.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]

    def _lead(self) -> None:
        """Write one batch (the leader's own save is in it), then pass the lead on."""
        with self._lock:
            batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
        try:
            outcomes: Sequence[Result | BaseException] = self._write([w.item for w in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"the batch writer answered {len(outcomes)} outcomes for {len(batch)} items")
        except BaseException as failure:  # every save of the batch fails with it
            outcomes = [failure] * len(batch)
        with self._lock:
            self.batches += 1
            self.items += len(batch)
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.outcome, waiting.settled = outcome, True
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._leading = False
            else:
                successor.leads = True
        for waiting in batch:
            waiting.wake.set()
        if successor is not None:
            successor.wake.set()
