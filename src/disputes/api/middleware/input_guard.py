"""Hostile input, refused before anything reads the body: size, depth, control characters, Unicode.

An ASGI middleware placed outside the idempotency middleware, so a key's fingerprint is taken over
the body the routes will see:

* a body over ``MAX_BODY_BYTES`` (declared by Content-Length or streamed) is a 413 problem;
* a JSON body nested deeper than ``MAX_DEPTH`` is a 422 ``json-too-deep`` problem (checked on the
  bytes, before any parser recurses);
* a JSON string (member name or value) holding a control character other than tab, line feed and
  carriage return, or a lone surrogate, is a 422 ``invalid-characters`` problem;
* every JSON string is put in Unicode normalisation form C, so "é" typed two ways is one value;
* a body sent without ``Content-Type: application/json`` (or a ``+json`` type) is a 415 problem naming
  ``application/json``; a body that is not JSON is a 422 ``invalid-json`` problem naming the character
  where it goes wrong.

The problems are worded in the request's language (``LanguageMiddleware`` runs outside this one).
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from disputes.api.middleware.idempotency import _replaying
from disputes.api.middleware.language import scope_language
from disputes.api.problems import problem
from disputes.i18n import text

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 16
# C0 controls but tab, LF and CR; DEL; C1 controls; lone surrogates (which cannot be encoded).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_FORBIDDEN_IN_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class InputRefused(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str, *, localised: bool = False) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.localised = localised


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def wrong_media_type(content_type: str | None, language: str) -> InputRefused:
    if content_type is None:
        detail = text(language, "validation.content_type_missing")
    else:
        shown = content_type if content_type.isascii() and content_type.isprintable() else "?"
        detail = text(language, "validation.content_type", got=shown[:100])
    return InputRefused(415, "unsupported-media-type", "Unsupported media type", detail, localised=True)


def invalid_json(error: json.JSONDecodeError | UnicodeDecodeError, language: str) -> InputRefused:
    if isinstance(error, UnicodeDecodeError):
        detail = text(language, "validation.invalid_json_encoding")
    else:
        detail = text(
            language,
            "validation.invalid_json",
            position=error.pos,
            line=error.lineno,
            column=error.colno,
            reason=error.msg,
        )
    return InputRefused(422, "invalid-json", "Invalid JSON", detail, localised=True)


def too_large() -> InputRefused:
    return InputRefused(
        413, "payload-too-large", "Payload too large", f"the body may not exceed {MAX_BODY_BYTES} bytes"
    )


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (strings skipped); cheap and non-recursive."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def clean(value: Any, where: str = "body") -> Any:
    """The value with every string in NFC; InputRefused if one holds a forbidden character."""
    if isinstance(value, str):
        if _FORBIDDEN.search(value):
            raise _bad_characters(where)
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [clean(item, f"{where}.{i}") for i, item in enumerate(value)]
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for name, item in value.items():
            if _FORBIDDEN_IN_NAMES.search(name):
                raise _bad_characters(where)
            cleaned[unicodedata.normalize("NFC", name)] = clean(item, f"{where}.{name}")
        return cleaned
    return value


def _bad_characters(where: str) -> InputRefused:
    # The name is the client's own and may itself be hostile: name the place only when it is plain.
    shown = where if where.isascii() and where.isprintable() and len(where) <= 200 else "body"
    return InputRefused(
        422,
        "invalid-characters",
        "Invalid characters",
        f"{shown}: control characters and lone surrogates are not allowed in strings",
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def checked_body(body: bytes, content_type: str | None = "application/json", language: str = "en") -> bytes:
    """The body to hand on: NFC strings, or InputRefused (not JSON, or not sent as JSON)."""
    if len(body) > MAX_BODY_BYTES:
        raise too_large()
    if not body.strip():
        return body
    if content_type is None or not _is_json(content_type):
        raise wrong_media_type(content_type, language)
    if json_depth(body) > MAX_DEPTH:
        raise InputRefused(
            422, "json-too-deep", "JSON nested too deeply", f"arrays and objects may nest {MAX_DEPTH} deep"
        )
    try:
        parsed = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise invalid_json(error, language) from None
    except (ValueError, RecursionError):
        # e.g. an integer of more digits than Python converts
        raise InputRefused(
            422, "invalid-json", "Invalid JSON", "the body is JSON this server does not accept"
        ) from None
    cleaned = clean(parsed)
    if cleaned == parsed:
        return body
    return json.dumps(cleaned, ensure_ascii=False, allow_nan=False).encode()


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            declared = _content_length(scope)
            if declared is not None and declared > MAX_BODY_BYTES:
                raise too_large()
            content_type = Headers(scope=scope).get("content-type")
            body = checked_body(await _read_capped(receive), content_type, scope_language(scope))
        except InputRefused as exc:
            answer = problem(
                exc.status,
                exc.code,
                exc.title,
                exc.detail,
                claim_id=_claim_in_path(scope.get("path", "")),
                language=scope_language(scope),
                localised=exc.localised,
            )
            await answer(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        scope["headers"] = headers  # in place: the outer middlewares read what the router adds to it
        await self.app(scope, _replaying(body, receive), send)


_CLAIM_PATH = re.compile(r"^/claims/([^/]{1,200})(?:/|$)")


def _claim_in_path(path: str) -> str | None:
    """The claim a refused request's path names (routing has not run yet)."""
    match = _CLAIM_PATH.match(path)
    return match[1] if match and match[1].isprintable() else None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read_capped(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
