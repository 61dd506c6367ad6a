"""The case file for a court: one printable HTML document (inline CSS, no external assets, print styles)
in the chosen language, rendered by headless Chromium to a PDF whose text holds the order, the parties,
the timeline, the evidence digest, the decision, the refund, the chain hashes and how to verify."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from disputes.audit.chain import seal_reader
from disputes.bootstrap import build_runner
from support.http import Api

DIGEST = "a3f1" * 16
INSTALL = "apt-get install chromium fonts-wqy-zenhei (Debian), or put a Chromium named chromium on PATH"


def chromium() -> str:
    """The headless browser, or a skip that says how to install it (a failure under CI)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"no chromium on PATH under CI: {INSTALL}")
    pytest.skip(f"no chromium on PATH: {INSTALL}")


def to_pdf(html: str, folder: Path) -> str:
    """The PDF text of ``html`` as Chromium prints it (no network: the file must stand alone)."""
    source, pdf = folder / "case.html", folder / "case.pdf"
    source.write_text(html, encoding="utf-8")
    subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", source.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    return "\n".join(page.extract_text() or "" for page in PdfReader(pdf).pages)


def decided_and_refunded(api: Api) -> dict[str, Any]:
    claim = api.open_claim(currency="CNY", claimed_amount="80.00")
    on = claim["id"]
    api.act("b1", on, "evidence", {"kind": "photo", "description": "Broken vase", "sha256": DIGEST, "size_bytes": 2048})
    api.act("m1", on, "merchant-response", {"decision": "reject", "message": "Packed well."})
    api.act("b1", on, "mediation-request", {"reason": "Please decide."})
    api.act("med1", on, "assignment")
    api.act("med1", on, "decision", {"outcome": "partial_refund", "amount": "50.00", "rationale": "Damage shown."})
    api.act("med1", on, "refunds", {"amount": "50.00", "payment_reference": "pay-77821"})
    return claim


def test_a_mediator_prints_the_case_file_in_chinese_for_a_court(api: Api, tmp_path: Path) -> None:
    claim = decided_and_refunded(api)
    runner = build_runner(api.container)  # the seal projection writes each event's chain hash
    try:
        runner.run_until_caught_up()
    finally:
        runner.close()
    with seal_reader(api.container.settings.database) as seal:
        hashes = [row.hash for row in seal.claim_rows(claim["id"])]

    answer = api.get("med1", f"/claims/{claim['id']}/case-file", headers={"Accept-Language": "zh-CN"})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["Content-Language"] == "zh-CN"
    html = answer.text
    assert "<style>" in html and "@media print" in html
    assert "src=" not in html and "<link" not in html and "@import" not in html
    text = to_pdf(html, tmp_path)
    flat = "".join(text.split())
    for expected in ("案卷", claim["id"], "买家", "b1", "商家", "m1", "调解员", "med1", "¥50.00", "pay-77821",
                     "部分退款", "如何核验本案卷", "verify_bundle.py", DIGEST):
        assert expected.replace(" ", "") in flat, expected
    assert len(hashes) == len(api.history(claim["id"])) == 7
    for sealed in hashes:
        assert sealed in flat, sealed  # every event's chain hash, as printed
    assert "尚未密封" not in flat


def test_the_case_file_is_in_english_for_the_merchant_and_hidden_from_others(api: Api, tmp_path: Path) -> None:
    claim = decided_and_refunded(api)

    answer = api.get("m1", f"/claims/{claim['id']}/case-file", headers={"Accept-Language": "en"})

    assert answer.status_code == 200
    assert "Case file: claim " + claim["id"] in answer.text and "How to verify this file" in answer.text
    assert "CN¥50.00" in answer.text
    assert api.get("m2", f"/claims/{claim['id']}/case-file").status_code == 404
    assert api.get("reg1", f"/claims/{claim['id']}/case-file").status_code == 404
