"""A real webhook receiver in the test process, written as a subscriber would write one: it verifies each
delivery with the ``standardwebhooks`` library and parses it with the CloudEvents SDK.

Each path is an endpoint with a behaviour: ``ok`` (and any other) answers 204; ``flaky`` answers 503 to the first two
attempts at each event, then 204; ``silent`` holds the connection past any timeout and answers nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SILENCE_SECONDS = 3.0


@dataclass
class Received:
    """A delivery the receiver accepted (answered 2xx), verified and parsed."""

    path: str
    webhook_id: str
    event: Any
    """The CloudEvent (cloudevents.core.v1.event.CloudEvent)."""
    headers: dict[str, str]

    @property
    def type(self) -> str:
        return str(self.event.get_type())

    @property
    def position(self) -> int:
        return int(self.event.get_extension("sequence"))

    @property
    def data(self) -> dict[str, Any]:
        found: dict[str, Any] = self.event.get_data()
        return found


@dataclass
class Receiver:
    base_url: str
    secrets: dict[str, str] = field(default_factory=dict)
    """Per path, the subscription's secret (set once the subscription is made)."""
    received: list[Received] = field(default_factory=list)
    attempts: dict[tuple[str, str], int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    """Why a delivery failed verification (must stay empty)."""
    in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight: int = 0
    """The most deliveries of one event to one path at the same moment."""
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.on(path)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{path}: {len(self.on(path))} deliveries, not {count}, after {timeout}s")

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int | None:
        """The status to answer, or None to answer nothing."""
        key = (path, headers.get("webhook-id", ""))
        with self.lock:
            self.attempts[key] = attempt = self.attempts.get(key, 0) + 1
        if path == "silent":
            time.sleep(SILENCE_SECONDS)
            return None
        if path == "flaky" and attempt <= 2:
            return 503
        try:
            Webhook(self.secrets[path]).verify(body, headers)
        except (WebhookVerificationError, KeyError) as error:
            with self.lock:
                self.refused.append(f"{path}: {error!r}")
            return 400
        event = from_structured(HTTPMessage(headers=headers, body=body), JSONFormat())
        flight = f"{path} {key[1]}"
        with self.lock:
            self.in_flight[flight] = self.in_flight.get(flight, 0) + 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight[flight])
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.in_flight[flight] -= 1
            self.received.append(Received(path, key[1], event, headers))
        return 204


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver on a free port of 127.0.0.1, stopped afterwards."""
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.handle(self.path.strip("/"), headers, body)
            if status is None:
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


FAST_DELIVERIES: dict[str, Any] = {
    "webhook_allow_private": True,  # the receiver is on 127.0.0.1
    "webhook_retry_schedule": "0.05s,0.05s",
    "webhook_timeout_seconds": 0.5,
    "webhook_poll_seconds": 0.05,
}
"""Settings under which deliveries to the receiver retry and give up within about two seconds."""


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    """A receiver for the test (import ``receiver_fixture``; tests ask for ``receiver``)."""
    with receiving() as running:
        yield running
