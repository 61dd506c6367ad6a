"""``Idempotency-Key`` on every POST: a retry with the key gets the first answer, and nothing runs again.

An ASGI middleware, so that one place serves every POST route, whichever router declares it, and sees
the answer as the client gets it (errors already turned into problem+json). A POST without the header
passes straight through, and so does one without a valid token: the route answers it 401. Otherwise
the key (scoped to the principal) and the request's fingerprint (method, path, If-Match, body) go to
:class:`disputes.adapters.idempotency.IdempotencyStore` before the route runs. A retry gets the stored status,
headers and body byte for byte, with ``Idempotent-Replayed: true``; a duplicate that arrives while the
first run is still going waits for its answer, up to ``WAIT_SECONDS``, then gets 409.
"""

from __future__ import annotations

import logging
import time

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from disputes.adapters.database import is_unavailable
from disputes.adapters.idempotency import Answer, IdempotencyKeyInFlight, InvalidIdempotencyKey, fingerprint
from disputes.adapters.keyed_runs import RUNNING, Attempt
from disputes.api.deps import authenticated, container_of
from disputes.api.problems import problem, store_unavailable
from disputes.bootstrap import Container
from disputes.domain.errors import DisputesError
from disputes.domain.parties import Actor

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = frozenset({"content-type", "content-disposition", "etag", "location", "x-disputes-position"})
"""The answer's headers that a replay gives again (the others are the transfer's own, or recomputed)."""
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05
RETRY_AFTER_SECONDS = 1
NEVER_STORED = frozenset({"/exports", "/principals"})
"""POSTs whose answers are never kept, so a key on them has no effect. An export records nothing (it
only reads) and its bundle is large: a retry simply exports again. A new token is shown once and only
its digest is stored: keeping the answer would keep the token itself in the database, and replay it.
A retried token creation issues a second token; the first is listed by ``GET /principals`` and can
be revoked."""
log = logging.getLogger("disputes.api")


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in NEVER_STORED:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            started = await _start(request, receive)
        except DisputesError as exc:
            retry = (
                {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(exc, IdempotencyKeyInFlight) else None
            )
            await problem(exc.status, exc.code, exc.title, exc.detail, headers=retry)(scope, receive, send)
            return
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # Answered here: an error raised this far out would also close the client's connection.
            await store_unavailable(request, exc)(scope, receive, send)
            return
        if started is None:
            await self.app(scope, receive, send)
            return
        outcome, body = started
        if isinstance(outcome, Answer):
            headers = {**dict(outcome.headers), REPLAYED_HEADER: "true"}
            await Response(outcome.body, outcome.status, headers)(scope, receive, send)
            return
        await self._run(container_of(request), outcome, scope, _replaying(body, receive), send)

    async def _run(
        self, container: Container, attempt: Attempt, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the request, keep its answer, then send it: a retry never finds the key half done."""
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        # Without the zero-copy file extension, file answers come as body messages that can be kept.
        extensions = scope.get("extensions") or {}
        scope["extensions"] = {k: v for k, v in extensions.items() if k != "http.response.pathsend"}
        running = RUNNING.set(attempt)  # the command's events mark the key as committed, in their transaction
        try:
            await self.app(scope, receive, keep)
        except BaseException:
            with anyio.CancelScope(shield=True):
                try:
                    await run_in_threadpool(container.idempotency.abandon, attempt)
                except Exception:  # the database is away: the key's lease ends by itself
                    log.exception("could not free an idempotency key")
            raise
        finally:
            RUNNING.reset(running)
        answer = _answer(messages)
        try:
            await run_in_threadpool(container.idempotency.finish, attempt, answer, container.clock())
        except Exception:
            # The request ran, so its answer goes out; the key stays in flight until its lease ends.
            log.exception("could not keep the answer for an idempotency key")
        for message in messages:
            await send(message)


async def _start(request: Request, receive: Receive) -> tuple[Attempt | Answer, bytes] | None:
    """The key's attempt or stored answer, and the body read; None if the request is not for us.

    Not for us: a request without the header, or without a valid token (the route answers it 401).
    """
    keys = request.headers.getlist(HEADER)
    actor = await authenticated(request) if keys else None
    if actor is None:
        return None
    if len(keys) > 1:
        raise InvalidIdempotencyKey(f"send one {HEADER}, not {len(keys)}")
    body = await _read_body(receive)
    digest = fingerprint(request.method, request.scope["path"], request.headers.get("If-Match"), body)
    return await _begin(container_of(request), actor, keys[0], digest), body


async def _begin(container: Container, actor: Actor, key: str, digest: str) -> Attempt | Answer:
    """The store's begin, asked again while another run of the same request is in flight."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        outcome = await run_in_threadpool(container.idempotency.begin, actor, key, digest, container.clock())
        if outcome is not None:
            return outcome
        if time.monotonic() >= deadline:
            raise IdempotencyKeyInFlight(
                f"a request with this {HEADER} is still running: retry in a moment for its answer"
            )
        await anyio.sleep(POLL_SECONDS)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body read already, then hands over to the client's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _answer(messages: list[Message]) -> Answer:
    start = next(m for m in messages if m["type"] == "http.response.start")
    headers = tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in start.get("headers", [])
        if name.decode("latin-1").lower() in KEPT_HEADERS
    )
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Answer(int(start["status"]), headers, body)
