"""README.md's walkthrough ("Examples by role"), run as a script against a fresh server, so that every
example stays copy-pasteable in order. Each ``sh`` block of the section runs, except the ones marked
``<!-- walkthrough: not run ... -->`` on the line before (the server's own start, and what needs a state
the walkthrough does not reach); every ``curl`` must get a 2xx answer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.processes import cli_environment, run_cli, serving_process

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_API = "http://127.0.0.1:8000"
SKIP = "<!-- walkthrough: not run"
PRELUDE = """set -euo pipefail
# As pasted, but a refused request stops the script and says why.
curl() { command curl --fail-with-body --show-error "$@"; echo; }
"""


def walkthrough_blocks(text: str) -> list[str]:
    """The ``sh`` blocks of the README's "Examples by role" section that the walkthrough runs."""
    section = text.split("## Examples by role", 1)[1].split("\n## ", 1)[0]
    blocks = []
    for found in re.finditer(r"^```sh\n(.*?)^```$", section, flags=re.S | re.M):
        before = section[: found.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if not before.startswith(SKIP):
            blocks.append(found.group(1))
    return blocks


def test_the_walkthrough_has_every_role_and_ends_with_the_claim_closed() -> None:
    script = "\n".join(walkthrough_blocks(README.read_text(encoding="utf-8")))
    for step in ("/orders/o-1001", "CLAIM=$(", "merchant-response", "mediation-request", "/decision", "/refunds", "/closure", "/exports", "/principals"):
        assert step in script, step
    # Mediation is asked for after the merchant's answer, and the claim is closed last.
    assert script.index("merchant-response") < script.index("mediation-request") < script.index("/closure")
    assert "2026-" not in script, "dates are relative to today"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough needs curl (apt-get install curl)")
def test_the_readme_walkthrough_runs_as_written_against_a_fresh_server(tmp_path: Path) -> None:
    # The reader's directory: a checkout with its .venv, on a database of its own.
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "tools").symlink_to(ROOT / "tools")
    url = f"sqlite:///{tmp_path / 'var' / 'disputes.sqlite'}"
    assert run_cli(url, "migrate").returncode == 0
    keys = run_cli(url, "keys", "generate", "--out", str(tmp_path / "keys"))
    assert keys.returncode == 0, keys.stderr
    env = {"DISPUTES_SIGNING_KEY_FILE": "keys/signing-key.pem", "DISPUTES_LOG_LEVEL": "WARNING"}
    with serving_process(url, log=tmp_path / "server.log", cwd=tmp_path, **env) as base_url:
        script = PRELUDE + "\n".join(walkthrough_blocks(README.read_text(encoding="utf-8")))
        script = script.replace(README_API, base_url)
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env={**cli_environment(url), "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    assert "closed" in done.stdout.splitlines()
    assert "idempotent-replayed: true" in done.stdout.lower()
    assert (tmp_path / "recent.zip").is_file()
