"""The problem types clients branch on are all documented."""

from __future__ import annotations

from pathlib import Path

from disputes.domain import errors

DOC = Path(__file__).resolve().parents[2] / "docs" / "problems.md"


def _all_errors(cls: type[errors.DisputesError]) -> list[type[errors.DisputesError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_errors(sub)]
    return found


def test_every_domain_error_has_a_unique_code_and_is_documented() -> None:
    classes = _all_errors(errors.DisputesError)
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes)), "two errors share a problem type"
    text = DOC.read_text(encoding="utf-8")
    missing = [code for code in codes if f"`/problems/{code}`" not in text]
    assert missing == []
