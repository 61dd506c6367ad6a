"""The CLI's progress bar: redrawn in place on a terminal, a line at every tenth elsewhere (a log)."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    """``label [#####.....] 50% 5,000/10,000 events 1,234/s`` on ``stream``; ``enabled=False`` silences it."""

    WIDTH = 30

    def __init__(self, stream: TextIO, label: str, *, total: int = 0, enabled: bool = True) -> None:
        self.stream, self.label, self.total, self.enabled = stream, label, total, enabled
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._shown = -1.0
        self._tenth = -1
        self._drawn = False

    def update(self, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        total = self.total if total is None else total
        done = min(done, total) if total else done
        fraction = done / total if total else 1.0
        now = time.monotonic()
        rate = done / max(now - self.started, 1e-9)
        bar = "#" * int(fraction * self.WIDTH)
        line = f"{self.label} [{bar:<{self.WIDTH}}] {fraction:4.0%} {done:,}/{total:,} events {rate:,.0f}/s"
        if self.tty:
            if now - self._shown >= 0.1 or done >= total:
                self.stream.write("\r" + line)
                self.stream.flush()
                self._shown, self._drawn = now, True
        elif int(fraction * 10) > self._tenth:
            self._tenth = int(fraction * 10)
            self.stream.write(line + "\n")
            self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
