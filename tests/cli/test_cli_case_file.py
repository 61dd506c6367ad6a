"""``disputes case-file CLAIM_ID --out FILE.html`` as a process: the case file in the chosen language;
an unknown claim or an unwritable file is one line and a non-zero exit, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from disputes.application.claims import DisputesApplication
from support import audit_fixtures
from support.audit import Clock, busy_store
from support.processes import assert_one_line_error, run_cli

app, clock, container = audit_fixtures.app, audit_fixtures.clock, audit_fixtures.container


@pytest.fixture
def claims(app: DisputesApplication, clock: Clock) -> list[str]:
    return busy_store(app, clock, claims=1)


def test_the_case_file_is_written_in_chinese_as_one_printable_html_file(
    database_url: str, claims: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "case.html"

    result = run_cli(database_url, "case-file", claims[0], "--out", str(out), "--language", "zh-CN")

    assert result.returncode == 0, result.stderr
    assert claims[0] in result.stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html
    assert f"案卷：申请 {claims[0]}" in html and "如何核验本案卷" in html and "@media print" in html


def test_the_case_file_of_an_unknown_claim_is_one_line_and_writes_nothing(
    database_url: str, claims: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "case.html"
    missing = "7c56f2b1-dcee-4d1a-b357-9a387335c434"

    result = run_cli(database_url, "case-file", missing, "--out", str(out))

    assert_one_line_error(result, missing, status=2)
    assert not out.exists()
