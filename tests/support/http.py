"""The e2e suite's tools: an HTTP client of the API, a hand-turned clock, uvicorn in a thread.

Requests name the principal that sends them, ``api.post("m1", f"/claims/{claim_id}/merchant-response",
json={...})``: buyers b1 and b2, merchants m1 and m2, mediators med1 and med2, auditor aud1, regulator
reg1, admin adm1. Each one's token is issued through the PrincipalStore the first time it is used.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from disputes.adapters.principals import PrincipalStore
from disputes.bootstrap import Container
from disputes.domain.parties import Role
from support import START, ManualClock, order_record

PRINCIPALS: Mapping[str, Role] = {
    "b1": Role.BUYER,
    "b2": Role.BUYER,
    "m1": Role.MERCHANT,
    "m2": Role.MERCHANT,
    "med1": Role.MEDIATOR,
    "med2": Role.MEDIATOR,
    "aud1": Role.AUDITOR,
    "reg1": Role.REGULATOR,
    "adm1": Role.ADMIN,
    "plat1": Role.PLATFORM,
}
"""The clock's first reading in every test: a Friday, 09:00 UTC."""

PROBLEM_MEDIA_TYPE = "application/problem+json"
# What an error answer must never show: a traceback, a source line, SQL or a driver's message.
LEAKS = ("Traceback", 'File "', "SELECT ", "INSERT ", "UPDATE ", "psycopg", "sqlite3", "eventsourcing")
STARTUP_SECONDS = 10


def rfc3339(moment: datetime) -> str:
    """The form the API writes times in: UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Api:
    """An HTTP client of the served API that sends each request as a named principal."""

    def __init__(self, http: httpx.Client, container: Container, clock: ManualClock) -> None:
        self.http = http
        self.container = container
        self.clock = clock
        self._tokens: dict[str, str] = {}

    # --- principals ------------------------------------------------------------------------------
    @property
    def principals(self) -> PrincipalStore:
        return self.container.principals

    def token(self, who: str) -> str:
        """The principal's token, issued through the PrincipalStore the first time it is asked for."""
        if who not in self._tokens:
            _, self._tokens[who] = self.principals.add(PRINCIPALS[who], who, now=self.clock())
        return self._tokens[who]

    def revoke(self, who: str) -> None:
        self.token(who)
        assert self.principals.revoke(role=PRINCIPALS[who], principal_id=who, now=self.clock()) == 1

    # --- requests --------------------------------------------------------------------------------
    def send(
        self,
        who: str | None,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, with ``Authorization: Bearer <token of who>`` unless ``who`` is None.

        No answer of this suite may be a 500: every failure the API knows of has its own status.
        """
        sent = dict(headers or {})
        if who is not None:
            sent["Authorization"] = f"Bearer {self.token(who)}"
        answer = self.http.request(method, path, headers=sent, **kwargs)
        assert answer.status_code != 500, f"{method} {path} by {who}: 500 {answer.text}"
        return answer

    def get(self, who: str | None, path: str, **kwargs: Any) -> httpx.Response:
        return self.send(who, "GET", path, **kwargs)

    def post(self, who: str | None, path: str, **kwargs: Any) -> httpx.Response:
        return self.send(who, "POST", path, **kwargs)

    # --- the usual steps, checked ------------------------------------------------------------------
    def record_order(
        self, order_id: str, *, delivered_at: str | None, status: tuple[int, ...] = (200, 201), **facts: Any
    ) -> dict[str, Any]:
        """The platform (plat1) records an order over HTTP (:func:`support.order_record`'s facts)."""
        body = {**order_record(**facts), "delivered_at": delivered_at}
        body["placed_at"] = rfc3339(body["placed_at"])
        answer = self.send("plat1", "PUT", f"/orders/{order_id}", json=body)
        assert answer.status_code in status, answer.text
        recorded: dict[str, Any] = answer.json()
        return recorded

    def record_order_of(self, who: str, claim: Mapping[str, Any]) -> dict[str, Any]:
        """The platform records the order a v1 claim body describes, with its facts, for buyer ``who``."""
        return self.record_order(
            str(claim["order_id"]),
            delivered_at=claim.get("delivered_at"),
            buyer_id=who,
            merchant_id=claim.get("merchant_id", "m1"),
            total=claim.get("order_amount", "120.00"),
            currency=claim.get("currency", "USD"),
        )

    def open_claim(self, who: str = "b1", *, record_order: bool = True, **fields: Any) -> dict[str, Any]:
        """Open a claim (201), by default b1's refund_only claim of 80.00 on m1's 120.00 USD order, which
        the platform records first (with the facts the claim states) unless ``record_order`` is false."""
        body: dict[str, Any] = {
            "order_id": "order-1",
            "merchant_id": "m1",
            "kind": "refund_only",
            "reason": "not_as_described",
            "order_amount": "120.00",
            "claimed_amount": "80.00",
            "currency": "USD",
            "delivered_at": rfc3339(START - timedelta(days=2)),
            "description": "The jacket is blue, the listing said black.",
        }
        body.update(fields)
        if record_order:
            self.record_order_of(who, body)
        answer = self.post(who, "/claims", json=body)
        assert answer.status_code == 201, answer.text
        claim = self.claim_of(answer)
        assert answer.headers["Location"] == f"/claims/{claim['id']}"
        return claim

    def act(
        self,
        who: str,
        claim_id: str,
        command: str,
        body: Mapping[str, Any] | None = None,
        *,
        if_match: int | None = None,
    ) -> dict[str, Any]:
        """POST a command that must succeed (200); the claim it answers with."""
        headers = {} if if_match is None else {"If-Match": f'"{if_match}"'}
        answer = self.post(who, f"/claims/{claim_id}/{command}", json=dict(body or {}), headers=headers)
        assert answer.status_code == 200, f"{command} by {who}: {answer.status_code} {answer.text}"
        return self.claim_of(answer)

    def claim(self, claim_id: str, who: str = "aud1", **params: Any) -> dict[str, Any]:
        answer = self.get(who, f"/claims/{claim_id}", params=params)
        assert answer.status_code == 200, answer.text
        return self.claim_of(answer)

    def history(self, claim_id: str, who: str = "aud1") -> list[dict[str, Any]]:
        answer = self.get(who, f"/claims/{claim_id}/history")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        entries: list[dict[str, Any]] = answer.json()
        return entries

    def event_types(self, claim_id: str) -> list[str]:
        return [entry["type"] for entry in self.history(claim_id)]

    @staticmethod
    def claim_of(answer: httpx.Response) -> dict[str, Any]:
        """The ClaimPublic of an answer, after checking that its ETag names its version."""
        assert answer.headers["content-type"].startswith("application/json")
        claim: dict[str, Any] = answer.json()
        assert answer.headers["ETag"] == f'"{claim["version"]}"'
        return claim

    @staticmethod
    def problem(answer: httpx.Response, status: int, *, claim_id: str | None = None) -> dict[str, Any]:
        """Check an error answer: the status, RFC 9457 problem+json, no leak; return its body."""
        assert answer.status_code == status, f"expected {status}, got {answer.status_code}: {answer.text}"
        assert answer.headers["content-type"].split(";")[0].strip() == PROBLEM_MEDIA_TYPE, answer.headers
        for leak in LEAKS:
            assert leak not in answer.text, f"{leak!r} leaked into {answer.text}"
        body: dict[str, Any] = json.loads(answer.text)
        assert body["status"] == status
        for member in ("type", "title", "detail"):
            assert isinstance(body[member], str) and body[member], body
        if claim_id is not None:
            assert body.get("claim_id") == claim_id, body
        return body


class AppSwitch:
    """An ASGI app handing each request to the app mounted now: one server, a new app per test.

    Stopping uvicorn takes ~0.2 s (its main loop and shutdown poll every 0.1 s), so the suite serves
    from one server and swaps the test's own ``create_app(container)`` in and out of it.
    """

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        if app is None:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"no app mounted"})
            return
        await app(scope, receive, send)

    @contextmanager
    def mounted(self, app: ASGIApp) -> Iterator[None]:
        assert self.app is None, "another test's app is still mounted"
        self.app = app
        try:
            yield
        finally:
            self.app = None


class _ServerThread(threading.Thread):
    def __init__(self, server: uvicorn.Server, sock: socket.socket) -> None:
        super().__init__(name="uvicorn-e2e", daemon=True)
        self.server, self.sock = server, sock
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as error:  # reported by serving(), which waits for startup
            self.error = error


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1 in a thread; yield its base URL."""
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # bound here, so the port is ours before uvicorn starts
    host, port = sock.getsockname()
    config = uvicorn.Config(app, host=host, port=port, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = _ServerThread(server, sock)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start: {thread.error!r}")
            time.sleep(0.002)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)
        sock.close()


def race(
    api: Api, commands: Sequence[tuple[str, str, str, dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    """Send (who, claim_id, command, body, headers) at the same moment, one thread and connection each."""
    clients = [
        httpx.Client(
            base_url=api.http.base_url, timeout=30, headers={"Authorization": f"Bearer {api.token(who)}"}
        )
        for who, *_ in commands
    ]
    start = threading.Barrier(len(commands))
    answers: list[httpx.Response | None] = [None] * len(commands)

    def send(i: int) -> None:
        _, claim_id, command, body, headers = commands[i]
        clients[i].get("/healthz")  # connect first, so that both requests leave together
        start.wait(timeout=10)
        answers[i] = clients[i].post(f"/claims/{claim_id}/{command}", json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(commands))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for client in clients:
            client.close()
    assert all(answer is not None for answer in answers), "a racing request did not finish"
    return [answer for answer in answers if answer is not None]
