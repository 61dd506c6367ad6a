"""The ``process_*`` and ``python_*`` figures of every process of ``disputes serve --workers N``.

In prometheus_client's multiprocess mode the client's own process and Python collectors are left out:
they would show only the process that happens to answer the scrape. Here each process of the server
(the serving ones and the background one) announces itself with a file ``process_<pid>.live`` in the
metrics directory (:func:`announce`); whichever process answers ``/metrics`` reads every live one's
figures from ``/proc/<pid>`` at the scrape (prometheus_client's ``ProcessCollector``, pointed at that
pid) and shows them once per name, labelled ``pid``. A process that died is dropped (its file
removed). ``python_info`` is shown once: every process runs the same interpreter. The garbage
collector's figures (``python_gc_*``) cannot be read from another process, and are not shown.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import PlatformCollector, ProcessCollector
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

MARK_SUFFIX = ".live"


def _mark(directory: Path, pid: int) -> Path:
    return directory / f"process_{pid}{MARK_SUFFIX}"


def announce(directory: str | Path, pid: int | None = None) -> None:
    """Say that this process (or ``pid``) writes to the metrics ``directory``: its figures are shown."""
    _mark(Path(directory), os.getpid() if pid is None else pid).touch()


def forget_all(directory: Path) -> None:
    """Remove every announcement (of an earlier run) from ``directory``."""
    for mark in directory.glob(f"process_*{MARK_SUFFIX}"):
        mark.unlink(missing_ok=True)


def _alive(pid: int, proc: Path) -> bool:
    """The process runs (a zombie, ended but not yet reaped, does not)."""
    try:
        state = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class ProcessesCollector(Collector):
    """Every announced live process's ``process_*`` figures, labelled ``pid``, and ``python_info``."""

    def __init__(self, directory: str | Path, proc: str | Path = "/proc") -> None:
        self.directory = Path(directory)
        self.proc = Path(proc)

    def pids(self) -> list[int]:
        """The announced processes that run; the others' announcements are removed."""
        found = []
        for mark in self.directory.glob(f"process_*{MARK_SUFFIX}"):
            try:
                pid = int(mark.name[len("process_") : -len(MARK_SUFFIX)])
            except ValueError:
                continue
            if _alive(pid, self.proc):
                found.append(pid)
            else:
                mark.unlink(missing_ok=True)
        return sorted(found)

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for pid in self.pids():
            collector = ProcessCollector(pid=functools.partial(int, pid), proc=str(self.proc), registry=None)
            for family in collector.collect():
                merged = families.get(family.name)
                if merged is None:
                    merged = families[family.name] = Metric(family.name, family.documentation, family.type)
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        yield from families.values()
        yield from PlatformCollector(registry=None).collect()
