"""A value sampled at most once per period, whatever the number of callers.

The health routes (``/readyz``, ``/metrics``) answer anyone, unauthenticated: a flood of them must not
become a flood of database work. Each keeps its figures in a :class:`Sampled`; one caller at a time
takes a new sample when the last one is older than the period (the others wait for it and share it), and
every caller within the period gets the last sample without touching the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Sampled(Generic[T]):
    """``compute()``'s result, taken again only once it is ``period`` seconds old.

    A ``compute`` that raises leaves no sample: the next caller tries again (a failure worth keeping,
    such as "the store is down", is a value ``compute`` returns).
    """

    def __init__(
        self, compute: Callable[[], T], period: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._compute = compute
        self.period = period
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._taken: float | None = None

    def fresh(self) -> T | None:
        """The last sample while it is younger than the period, else None (never blocks, never samples)."""
        taken = self._taken
        if taken is None or self._clock() - taken >= self.period:
            return None
        return self._value

    def get(self) -> T:
        """The last sample, or a new one when it is too old (one caller takes it; the others wait)."""
        value = self.fresh()
        if value is not None:
            return value
        with self._lock:
            value = self.fresh()  # another caller took it while this one waited
            if value is not None:
                return value
            value = self._compute()
            self._value, self._taken = value, self._clock()
            return value
