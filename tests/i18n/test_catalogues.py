"""The message catalogues: every message in every language, with the same fields; every problem type
has its words; Accept-Language picks among ours."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from disputes.api.problems import _HTTP_CODES
from disputes.domain import errors
from disputes.domain.vocabulary import LANGUAGES
from disputes.i18n import CATALOGUES, Catalogues, negotiate
from disputes.i18n.catalogues import groups

DOCS = Path(__file__).resolve().parents[2] / "docs" / "problems.md"


def _error_codes(cls: type[errors.DisputesError]) -> set[str]:
    found = {cls.code}
    for sub in cls.__subclasses__():
        found |= _error_codes(sub)
    return found


def test_every_message_exists_in_every_language_with_the_same_fields() -> None:
    assert set(CATALOGUES.messages) == set(LANGUAGES)
    assert {"timeline", "problems", "validation", "access", "policy", "casefile", "queue"} <= set(groups())
    assert CATALOGUES.problems() == []


def test_a_catalogue_missing_a_message_or_a_field_in_one_language_is_refused() -> None:
    english = {"demo": {"demo.hello": "Hello {name}.", "demo.bye": "Bye."}}
    chinese = {"demo": {"demo.hello": "你好。"}}

    found = Catalogues({"en": english, "zh-CN": chinese}).problems()

    assert "zh-CN/demo.po: no text for 'demo.bye'" in found
    assert any("'demo.hello' fills []" in line and "['name']" in line for line in found)


def test_every_problem_type_has_a_title_and_a_detail_in_every_language() -> None:
    documented = set(re.findall(r"`/problems/([a-z0-9-]+)`", DOCS.read_text(encoding="utf-8")))
    codes = documented | _error_codes(errors.DisputesError) | {code for code, _ in _HTTP_CODES.values()}
    for language in LANGUAGES:
        for code in sorted(codes):
            for part in ("title", "detail"):
                assert CATALOGUES.has(f"problems.{code}.{part}"), f"problems.{code}.{part}"
                assert CATALOGUES.text(language, f"problems.{code}.{part}").strip()


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-CN,zh;q=0.9", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, zh-CN;q=0.5", "zh-CN"),
        ("zh-CN;q=0.2, en;q=0.8", "en"),
        ("fr", "en"),
        ("", "en"),
        ("zh-CN;q=0", "en"),
    ],
)
def test_accept_language_chooses_among_our_languages(header: str, language: str) -> None:
    assert negotiate(header) == language


def test_without_a_language_of_ours_the_default_is_used() -> None:
    assert negotiate("fr, de", default="zh-CN") == "zh-CN"
    assert negotiate(None, default="zh-CN") == "zh-CN"
