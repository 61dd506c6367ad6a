"""Dependencies shared by the routers: the container, the authenticated actor, If-Match, and the views
(waiting for ``?min_position=N``: read your writes)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from disputes.api.auth.failures import log_failed_authentication
from disputes.api.middleware.language import request_language
from disputes.api.problems import ApiProblem
from disputes.api.responses import POSITION_HEADER
from disputes.application.claims import DisputesApplication
from disputes.bootstrap import Container, build_read_side
from disputes.domain.parties import Actor
from projections.readside import ReadSide
from projections.store import ViewConnection

_bearer = HTTPBearer(
    auto_error=False, description="A token from `disputes principals add` or `POST /principals` (admins)"
)
_IF_MATCH = re.compile(r'^\s*(?:W/)?"?([0-9]{1,9})"?\s*$')
_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
_state_lock = threading.Lock()
RETRY_AFTER_SECONDS = 1
MAX_LIMIT = 200


async def get_container(request: Request) -> Container:
    return container_of(request)


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]
"""The process's composition root, for routes that need more than the application."""


async def get_application(container: ContainerDep) -> DisputesApplication:
    return container.app


def _bearer_token(request: Request) -> str | None:
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    return token if scheme.lower() == "bearer" and token else None


def authenticate(request: Request) -> Actor | None:
    """The principal whose bearer token the request carries; None without one, or for a bad one.

    The token is checked once a request: the answer stays on ``request.state`` for whoever asks next
    (the idempotency middleware asks before the route does).
    """
    state = request.state
    if not hasattr(state, "actor"):
        token, container = _bearer_token(request), container_of(request)
        state.actor = container.principals.authenticate(token, now=container.clock()) if token else None
    actor: Actor | None = state.actor
    return actor


async def authenticated(request: Request) -> Actor | None:
    """:func:`authenticate`, on the event loop when the token's check needs no database (a token kept in
    memory, a malformed one), else in a worker thread."""
    state = request.state
    if not hasattr(state, "actor"):
        token, container = _bearer_token(request), container_of(request)
        answered, actor = container.principals.remembered(token, now=container.clock()) if token else (True, None)
        if not answered:
            return await run_in_threadpool(authenticate, request)
        state.actor = actor
    found: Actor | None = state.actor
    return found


def _log_failure(request: Request, reason: str) -> None:
    scheme, _ = get_authorization_scheme_param(request.headers.get("Authorization"))
    log_failed_authentication(
        reason,
        method=request.method,
        path=request.url.path,
        client=request.client.host if request.client else None,
        scheme=scheme[:20] if scheme.isascii() and scheme.isalpha() else None,
    )


async def required_actor(request: Request) -> Actor:
    """The authenticated principal of the request; 401 without a bearer token or with a bad one."""
    if _bearer_token(request) is None:
        _log_failure(request, "missing" if "Authorization" not in request.headers else "malformed")
        raise ApiProblem(
            401,
            "unauthorized",
            "Authentication required",
            "send Authorization: Bearer <token>",
            _UNAUTHORIZED,
        )
    actor = await authenticated(request)
    if actor is None:
        _log_failure(request, "invalid-token")
        raise ApiProblem(
            401, "invalid-token", "Invalid token", "the token is unknown, revoked or expired", _UNAUTHORIZED
        )
    return actor


async def get_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The route's actor (declaring the bearer scheme in the API document)."""
    return await required_actor(request)


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(description='`"<version>"` from the ETag: the command applies only to that version'),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    found = _IF_MATCH.match(if_match)
    if found is None:
        raise ApiProblem(422, "invalid-if-match", "Invalid If-Match", 'If-Match must be a version like "3"')
    return int(found.group(1))


App = Annotated[DisputesApplication, Depends(get_application)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
ExpectedVersion = Annotated[int | None, Depends(expected_version)]


# --- the views ---------------------------------------------------------------------------------------


def read_side_of(state: Any, container: Container) -> ReadSide:
    """The read side on an app's ``state.read_side`` (set at start-up), else one made on first use."""
    read_side: ReadSide | None = getattr(state, "read_side", None)
    if read_side is None:
        with _state_lock:
            read_side = getattr(state, "read_side", None)
            if read_side is None:
                read_side = state.read_side = build_read_side(container)
    return read_side


async def get_read_side(request: Request, container: ContainerDep) -> ReadSide:
    """The read side on ``app.state.read_side`` (set at start-up), else one made on first use."""
    made: ReadSide | None = getattr(request.app.state, "read_side", None)
    return made if made is not None else await run_in_threadpool(read_side_of, request.app.state, container)


Reads = Annotated[ReadSide, Depends(get_read_side)]
MinPosition = Annotated[
    int | None,
    Query(ge=0, description="wait until the views show every event up to this position (read your writes)"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")]


@contextmanager
def reading(
    reads: ReadSide, response: Response, names: Sequence[str], min_position: int | None
) -> Iterator[ViewConnection]:
    """A connection to the named views, after waiting for ``min_position`` when one is given.

    The answer's ``X-Disputes-Position`` is the position those views have reached; still behind
    ``min_position`` after ``DISPUTES_READ_WAIT_SECONDS``: 503 with Retry-After.
    """
    with reads.store.reading() as conn:
        if min_position is None:
            position = reads.positions(conn, names)
        else:
            found = reads.wait_for(conn, names, min_position)
            if found is None:
                raise ApiProblem(
                    503,
                    "views-behind",
                    "Views not caught up",
                    f"the views have not yet processed position {min_position}; retry shortly",
                    {"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            position = found
        response.headers[POSITION_HEADER] = str(position)
        yield conn


async def get_language(request: Request) -> str:
    return request_language(request)


Language = Annotated[str, Depends(get_language)]
"""The language of the request's answer: ``Accept-Language`` among ours, else the policy's default."""
