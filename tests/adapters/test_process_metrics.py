"""The process figures of several processes: each live announced process once, labelled by pid; an
ended one dropped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from disputes.adapters.process_metrics import ProcessesCollector, announce, forget_all


def test_every_announced_live_process_shows_its_own_figures_and_an_ended_one_is_forgotten(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    try:
        for pid in (os.getpid(), sleeper.pid, ended.pid):
            announce(tmp_path, pid)
        collector = ProcessesCollector(tmp_path)
        families = {family.name: family for family in collector.collect()}
        memory = {s.labels["pid"]: s.value for s in families["process_resident_memory_bytes"].samples}
        assert set(memory) == {str(os.getpid()), str(sleeper.pid)}
        assert all(value > 0 for value in memory.values())
        assert "python_info" in families
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            f"process_{pid}.live" for pid in (os.getpid(), sleeper.pid)
        )
        forget_all(tmp_path)
        assert list(tmp_path.iterdir()) == []
    finally:
        sleeper.kill()
        sleeper.wait()
