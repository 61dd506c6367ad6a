"""Hostile input over HTTP: size, depth, control characters, Unicode forms, odd JSON; security headers;
failed authentications logged without the token."""

from __future__ import annotations

import json
import logging
import unicodedata

import pytest

from disputes.api.middleware.input_guard import MAX_BODY_BYTES, MAX_DEPTH
from disputes.api.middleware.security import SECURITY_HEADERS
from support.http import Api


def test_a_body_over_the_cap_is_413(api: Api) -> None:
    body = json.dumps({"body": "x" * (MAX_BODY_BYTES + 1)})
    answer = api.post("b1", "/claims", content=body, headers={"Content-Type": "application/json"})
    assert api.problem(answer, 413)["type"] == "/problems/payload-too-large"


def test_a_streamed_body_over_the_cap_is_413(api: Api) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    answer = api.post("b1", "/claims", content=chunks(), headers={"Content-Type": "application/json"})
    assert api.problem(answer, 413)["type"] == "/problems/payload-too-large"


def test_deep_json_is_refused(api: Api) -> None:
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    answer = api.post("b1", "/claims", content=deep, headers={"Content-Type": "application/json"})
    assert api.problem(answer, 422)["type"] == "/problems/json-too-deep"
    very_deep = "[" * 50_000 + "]" * 50_000  # would exhaust a recursive parser's stack
    answer = api.post("b1", "/claims", content=very_deep, headers={"Content-Type": "application/json"})
    assert api.problem(answer, 413)["type"] == "/problems/payload-too-large"


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', '{"a": ' + "9" * 5000 + "}"])
def test_odd_json_is_a_problem_not_a_crash(api: Api, text: str) -> None:
    answer = api.post("b1", "/claims", content=text, headers={"Content-Type": "application/json"})
    assert api.problem(answer, 422)["type"] == "/problems/invalid-json"


@pytest.mark.parametrize("bad", ["nul\x00", "bell\x07", "esc\x1b[31m", "del\x7f", "c1\x85", "lone\ud800"])
def test_control_characters_and_lone_surrogates_are_refused(api: Api, bad: str) -> None:
    claim = api.open_claim()
    body = json.dumps({"body": bad})  # ASCII escapes: the surrogate stays a \\ud800 escape
    answer = api.post("b1", f"/claims/{claim['id']}/messages", content=body, headers={"Content-Type": "application/json"})
    problem = api.problem(answer, 422)
    assert problem["type"] == "/problems/invalid-characters"
    assert bad not in answer.text


def test_control_characters_in_member_names_are_refused(api: Api) -> None:
    answer = api.post("b1", "/claims", content=json.dumps({"a\x00": 1}), headers={"Content-Type": "application/json"})
    assert api.problem(answer, 422)["type"] == "/problems/invalid-characters"


def test_tabs_and_newlines_are_text(api: Api) -> None:
    claim = api.open_claim(description="Line one.\n\tLine two.\r\n")
    assert claim["status"] == "awaiting_merchant"


def test_strings_are_stored_in_nfc(api: Api) -> None:
    decomposed = "Cafe\u0301 jacket"
    claim = api.open_claim(description=decomposed)
    opened = api.history(claim["id"])[0]
    assert opened["data"]["description"] == unicodedata.normalize("NFC", decomposed) == "Caf\u00e9 jacket"


def test_errors_show_no_internals(api: Api) -> None:
    answer = api.post("b1", "/claims", content=b"\xff\xfe{", headers={"Content-Type": "application/json"})
    api.problem(answer, 422)  # checks for tracebacks, SQL and driver names


def test_every_answer_has_the_security_headers(api: Api) -> None:
    for answer in (
        api.get("aud1", "/healthz"),
        api.get(None, "/claims"),
        api.get("aud1", "/nowhere"),
        api.post("b1", "/claims", content="x" * (MAX_BODY_BYTES + 1)),
    ):
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.request.url, name)
    assert "access-control-allow-origin" not in api.get(None, "/healthz", headers={"Origin": "https://x.example"}).headers


def test_failed_authentications_are_logged_as_json_without_the_token(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="disputes.auth")
    secret = "s3cr3t-token-that-must-not-be-logged"
    api.get(None, "/claims", headers={"Authorization": f"Bearer {secret}"})
    api.get(None, "/claims")
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "disputes.auth"]
    assert [r["reason"] for r in records] == ["invalid-token", "missing"]
    assert records[0]["event"] == "authentication_failed" and records[0]["path"] == "/claims"
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_the_openapi_document_is_precise_about_errors_and_text(api: Api) -> None:
    """The fuzzer's first finding: error answers were documented as application/json."""
    document = api.get(None, "/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" in responses and "500" in responses, (method, path)
            if method == "post":
                assert "413" in responses, path
            for status, response in responses.items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
    message = document["components"]["schemas"]["MessageCreate"]["properties"]["body"]
    assert message["maxLength"] == 4000 and "\\x00-\\x08" in message["pattern"]
