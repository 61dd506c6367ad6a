"""The program as an operator runs it: ``python -m disputes ...`` in a process of its own, configured by
the environment alone, and what its errors must look like."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

import disputes

SOURCE_ROOT = Path(disputes.__file__).resolve().parents[1]
"""``src/``: put on the processes' PYTHONPATH, so they run this checkout's code."""


def cli_environment(database_url: str, **env: str) -> dict[str, str]:
    """This process's environment without any ``DISPUTES_*`` of ours, on ``database_url``, plus ``env``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DISPUTES_")}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE_ROOT), os.environ.get("PYTHONPATH")]))
    environment["DISPUTES_DATABASE_URL"] = database_url
    environment.update(env)
    return environment


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "disputes", *args]


def run_cli(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m disputes ARGS`` with DISPUTES_DATABASE_URL set and nothing else of ours inherited."""
    return subprocess.run(
        cli_command(*args),
        env=cli_environment(database_url, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], *fragments: str, status: int = 2, alone: bool = False
) -> str:
    """The process failed with ``status`` and said why in one ``disputes: error:`` line (``alone``: and
    said nothing else on stderr); every fragment is in that line."""
    assert result.returncode == status, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("disputes: error: ")]
    assert len(errors) == 1, result.stderr
    assert all(line.startswith("disputes: ") for line in lines), result.stderr
    if alone:
        assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_process(
    database_url: str,
    port: int | None = None,
    *,
    log: Path | None = None,
    cwd: Path | None = None,
    workers: int = 1,
    **env: str,
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``disputes serve`` as a process (on ``port``, else a free one) once it answers /healthz: the
    process (a test may kill it) and its base URL. Its output goes to ``log``, else to a temporary
    file (a pipe nobody reads would fill up under load and stop the server), shown if it fails to
    start; ``cwd``: where it runs; ``workers``: its serving processes (one unless a test says more,
    so that the process a test kills is the one that serves)."""
    port = port or free_port()
    with (log.open("w+", encoding="utf-8") if log is not None else tempfile.TemporaryFile(mode="w+")) as output:
        server = subprocess.Popen(
            cli_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
            env=cli_environment(database_url, **{"DISPUTES_ENV": "test", **env}),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if server.poll() is not None:
                    output.seek(0)
                    raise AssertionError(output.read())
                try:
                    httpx.get(f"{base_url}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the server did not start within 30 seconds"
                    time.sleep(0.2)
            yield server, base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@contextmanager
def serving_process(
    database_url: str, *, log: Path | None = None, cwd: Path | None = None, **env: str
) -> Iterator[str]:
    """``disputes serve`` as a process on a free port, once it answers /healthz; its base URL."""
    with server_process(database_url, log=log, cwd=cwd, **env) as (_, base_url):
        yield base_url
