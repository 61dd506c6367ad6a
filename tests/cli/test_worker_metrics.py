"""The deadline worker as a process serves its own Prometheus metrics (its automatic outcomes)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.processes import cli_command, cli_environment, free_port, run_cli

pytestmark = pytest.mark.slow


def test_the_deadline_worker_serves_its_metrics_on_the_port_it_is_given(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'disputes.sqlite'}"
    assert run_cli(url, "migrate").returncode == 0
    port = free_port()
    worker = subprocess.Popen(
        cli_command("deadlines", "--metrics-port", str(port)),
        env=cli_environment(url, DISPUTES_LOG_LEVEL="WARNING"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert worker.poll() is None, "the worker stopped"
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "no metrics within 30 seconds"
                time.sleep(0.2)
        names = {family.name for family in text_string_to_metric_families(answer.text)}
        assert {"disputes_automatic_outcomes", "process_cpu_seconds", "python_info"} <= names
    finally:
        worker.terminate()
        worker.wait(timeout=10)
