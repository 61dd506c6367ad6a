"""The audit commands run as an operator runs them: separate processes, configured by environment.

They go through ``python -m disputes``. tools/verify_bundle.py runs as a regulator runs it: without the
server's code importable.
"""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from disputes.application.claims import DisputesApplication
from support import audit_fixtures
from support.audit import START, TOOL, Clock, Tamper, busy_store
from support.processes import assert_one_line_error, run_cli

app, clock, container, db, key, key_dir, tamper = (
    audit_fixtures.app,
    audit_fixtures.clock,
    audit_fixtures.container,
    audit_fixtures.db,
    audit_fixtures.key,
    audit_fixtures.key_dir,
    audit_fixtures.tamper,
)
FROM, TO = (START - timedelta(days=1)).isoformat(), (START + timedelta(days=1)).isoformat()


def run(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(database_url, *args, **env)


def one_error_line(result: subprocess.CompletedProcess[str], status: int, *fragments: str) -> str:
    return assert_one_line_error(result, *fragments, status=status, alone=True)


@pytest.fixture
def claims(app: DisputesApplication, clock: Clock) -> list[str]:
    return busy_store(app, clock)


def test_keys_generate_writes_a_private_key_only_its_owner_may_read(
    database_url: str, tmp_path: Path
) -> None:
    result = run(database_url, "keys", "generate", "--out", str(tmp_path / "keys"))

    assert result.returncode == 0, result.stderr
    private = tmp_path / "keys" / "signing-key.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (tmp_path / "keys" / "signing-key.pub.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert "key id" in result.stdout
    again = run(database_url, "keys", "generate", "--out", str(tmp_path / "keys"))
    one_error_line(again, 2, "refusing to overwrite")


def test_a_period_export_verifies_as_a_process(
    database_url: str, claims: list[str], key_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "november.zip"
    key = {"DISPUTES_SIGNING_KEY_FILE": str(key_dir / "signing-key.pem")}

    exported = run(database_url, "export", "--from", FROM, "--to", TO, "--out", str(out), **key)
    verified = run(database_url, "verify", str(out), "--public-key", str(key_dir / "signing-key.pub.pem"))

    assert exported.returncode == 0, exported.stderr
    assert "Traceback" not in exported.stderr
    assert "exported 15 events of 3 claims" in exported.stdout
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("OK november.zip: period ") and len(verified.stdout.splitlines()) == 1


def test_export_draws_a_progress_bar_on_stderr(
    database_url: str, claims: list[str], key_dir: Path, tmp_path: Path
) -> None:
    result = run(
        database_url,
        "export",
        "--claim",
        claims[0],
        "--out",
        str(tmp_path / "c.zip"),
        "--key",
        str(key_dir / "signing-key.pem"),
    )

    assert result.returncode == 0, result.stderr
    assert "export [" in result.stderr and "5/5 events" in result.stderr and "100%" in result.stderr


def test_verify_names_the_first_fault_of_a_tampered_bundle(
    database_url: str, claims: list[str], key_dir: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.zip"
    run(
        database_url,
        "export",
        "--from",
        FROM,
        "--to",
        TO,
        "--out",
        str(good),
        "--key",
        str(key_dir / "signing-key.pem"),
    )
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "events.jsonl":
                lines = data.splitlines(keepends=True)
                data = b"".join(lines[:4] + lines[5:])
            target.writestr(name, data)

    result = run(database_url, "verify", str(bad))

    one_error_line(result, 1, "events.jsonl line 5 (position 6): prev_hash is not the hash of line 4")


def test_verify_store_names_the_tampered_position(
    database_url: str, app: DisputesApplication, claims: list[str], tamper: Tamper
) -> None:
    assert run(database_url, "seal").returncode == 0
    ok = run(database_url, "verify-store")
    assert ok.returncode == 0 and ok.stdout.startswith("verify-store: OK, 15 events"), ok
    tamper.replace_in_state(9, b"Not enough", b"Very fair!")

    result = run(database_url, "verify-store")
    ranged = run(database_url, "verify-store", "--from", "10", "--to", "15")

    one_error_line(result, 1, "position 9 altered")
    assert ranged.returncode == 0, ranged


def test_an_export_over_a_tampered_store_is_refused_naming_the_position(
    database_url: str, claims: list[str], key_dir: Path, tmp_path: Path, tamper: Tamper
) -> None:
    key = ("--key", str(key_dir / "signing-key.pem"))
    assert run(database_url, "seal").returncode == 0
    tamper.delete(4)

    result = run(database_url, "export", "--from", FROM, "--to", TO, "--out", str(tmp_path / "x.zip"), *key)

    one_error_line(result, 1, "position 4 removed")
    assert list(tmp_path.glob("x.zip*")) == []


def test_replay_prints_the_claims_timeline(database_url: str, claims: list[str]) -> None:
    result = run(database_url, "replay", claims[0])

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"claim {claims[0]}: 5 events, now under_mediation"
    events = [line for line in lines if line.startswith("v")]
    assert [line.split()[3] for line in events] == [
        "ClaimOpened",
        "MerchantResponded",
        "MessagePosted",
        "OfferAnswered",
        "MediationRequested",
    ]
    assert "~ status: awaiting_merchant -> offer_pending" in result.stdout


def test_export_without_a_signing_key_is_a_one_line_error(
    database_url: str, claims: list[str], tmp_path: Path
) -> None:
    result = run(database_url, "export", "--claim", claims[0], "--out", str(tmp_path / "c.zip"))

    one_error_line(result, 2, "no signing key", "DISPUTES_SIGNING_KEY_FILE")


def test_verify_store_on_a_database_never_migrated_says_to_migrate(tmp_path: Path) -> None:
    result = run(f"sqlite:///{tmp_path / 'empty.sqlite'}", "verify-store")

    one_error_line(result, 2, "run 'disputes migrate' first")


# --- the regulator's verifier ---------------------------------------------------------------------------


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    """tools/verify_bundle.py with the server's package made unimportable, as on a regulator's machine."""
    script = (
        "import runpy, sys; sys.modules['disputes'] = None; "
        f"sys.argv = ['verify_bundle.py', *{list(args)!r}]; runpy.run_path({str(TOOL)!r}, run_name='__main__')"
    )
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120
    )


def test_the_standalone_verifier_runs_without_the_server(
    database_url: str, claims: list[str], key_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b.zip"
    run(
        database_url,
        "export",
        "--from",
        FROM,
        "--to",
        TO,
        "--out",
        str(out),
        "--key",
        str(key_dir / "signing-key.pem"),
    )

    good = run_tool(str(out), "--public-key", str(key_dir / "signing-key.pub.pem"))
    ours = run(database_url, "verify", str(out), "--public-key", str(key_dir / "signing-key.pub.pem"))
    missing = run_tool(str(tmp_path / "nothing.zip"))

    assert good.returncode == 0, good.stderr
    assert good.stdout == ours.stdout
    assert missing.returncode == 2 and "no bundle at" in missing.stderr


def test_the_standalone_verifier_needs_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(TOOL.read_text(encoding="utf-8"))
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    roots = {name.split(".")[0] for name in modules}
    assert roots - set(sys.stdlib_module_names) == {"cryptography"}


def test_replay_of_an_unknown_claim_is_a_one_line_error(database_url: str, claims: list[str]) -> None:
    result = run(database_url, "replay", "00000000-0000-0000-0000-000000000000")

    one_error_line(result, 2, "no claim")
