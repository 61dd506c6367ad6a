"""What an operator reads from a running server: JSON log lines, the request id and trace context it
passes on, and OpenTelemetry spans sent to a collector (here a real HTTP receiver of OTLP)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.processes import run_cli, serving_process

pytestmark = pytest.mark.slow
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'disputes.sqlite'}"
    assert run_cli(url, "migrate").returncode == 0
    return url


class Collector:
    """An OTLP/HTTP receiver: keeps the body of every POST to /v1/traces."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                if self.path == "/v1/traces":
                    collector.bodies.append(self.rfile.read(length))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def collector() -> Iterator[Collector]:
    receiver = Collector()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def _json_lines(log: Path) -> list[dict[str, Any]]:
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_each_request_is_one_json_log_line_with_its_request_id_trace_principal_route_and_status(
    sqlite_url: str, tmp_path: Path
) -> None:
    token = run_cli(sqlite_url, "principals", "add", "--role", "buyer", "--id", "b1").stdout.splitlines()[-1]
    log = tmp_path / "server.log"
    with serving_process(sqlite_url, log=log, DISPUTES_LOG_LEVEL="info") as base_url:
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-42", "traceparent": TRACEPARENT}
        listed = httpx.get(f"{base_url}/claims", headers=headers)
        assert listed.status_code == 200
        assert listed.headers["X-Request-ID"] == "req-42"
        made_up = httpx.get(f"{base_url}/claims/nope", headers={"X-Request-ID": "bad id with spaces"})
        assert made_up.status_code == 401
        assert made_up.headers["X-Request-ID"] != "bad id with spaces"
        assert len(made_up.headers["X-Request-ID"]) == 32
        time.sleep(0.2)
    records = _json_lines(log)
    requests = [r for r in records if r.get("logger") == "disputes.access"]
    first = next(r for r in requests if r.get("request_id") == "req-42")
    assert first["route"] == "/claims" and first["method"] == "GET" and first["status"] == 200
    assert first["principal"] == "buyer:b1" and first["trace_id"] == TRACE_ID
    assert first["duration_ms"] >= 0 and first["level"] == "INFO" and first["time"].endswith("Z")
    refused = next(r for r in requests if r.get("request_id") == made_up.headers["X-Request-ID"])
    assert (refused["route"], refused["status"], refused["principal"]) == ("/claims/{claim_id}", 401, None)
    # The failed login of that request carries the same id, and never a token.
    auth = [r for r in records if r.get("logger") == "disputes.auth"]
    assert [r["request_id"] for r in auth] == [refused["request_id"]]
    assert token not in log.read_text(encoding="utf-8")


def test_a_log_level_of_warning_leaves_out_the_request_lines(sqlite_url: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with serving_process(sqlite_url, log=log, DISPUTES_LOG_LEVEL="WARNING") as base_url:
        assert httpx.get(f"{base_url}/healthz").status_code == 200
        assert httpx.get(f"{base_url}/claims").status_code == 401
        time.sleep(0.2)
    records = _json_lines(log)
    assert [r for r in records if r.get("logger") == "disputes.access"] == []
    assert [r["logger"] for r in records if r["level"] == "WARNING"] == ["disputes.auth"]


def test_with_an_otlp_endpoint_requests_are_spans_in_the_callers_trace(
    sqlite_url: str, tmp_path: Path, collector: Collector
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    with serving_process(sqlite_url, log=tmp_path / "server.log", **env) as base_url:
        assert httpx.get(f"{base_url}/readyz", headers={"traceparent": TRACEPARENT}).status_code == 200
        deadline = time.monotonic() + 10
        while not any(bytes.fromhex(TRACE_ID) in body for body in collector.bodies):
            assert time.monotonic() < deadline, "no span of the caller's trace reached the collector"
            time.sleep(0.1)
    assert any(b"/readyz" in body for body in collector.bodies)
