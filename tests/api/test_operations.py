"""What operators and client generators read: health, readiness, metrics, the OpenAPI document."""

from __future__ import annotations

import re

import pytest

from support.http import Api

# API.md's Commands table and the claim's own reads, as the OpenAPI document names their paths.
COMMANDS = [
    "merchant-response",
    "offer-answer",
    "messages",
    "evidence",
    "mediation-request",
    "assignment",
    "evidence-request",
    "decision",
    "return-shipment",
    "return-receipt",
    "refunds",
    "legal-escalation",
    "legal-outcome",
    "withdrawal",
    "closure",
]
ROUTES = [
    ("post", "/claims"),
    *[("post", f"/claims/{{claim_id}}/{command}") for command in COMMANDS],
    ("get", "/claims/{claim_id}"),
    ("get", "/claims/{claim_id}/history"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
]
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$')


def test_health_readiness_and_metrics_answer_anyone_and_show_the_head_position(api: Api) -> None:
    healthz = api.get(None, "/healthz")
    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})

    ready = api.get(None, "/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["store"]) == ("ready", {"head_position": 0})
    assert set(body["projections_lag"]) == {
        "claims", "queue", "timeline", "scorecard", "audit", "audit_seal", "deadlines", "signals"
    }
    assert all(lag == 0 for lag in body["projections_lag"].values())

    claim = api.open_claim()
    answered = api.post("m1", f"/claims/{claim['id']}/merchant-response", json={"decision": "reject"})
    assert answered.headers["X-Disputes-Position"] == "3"  # the order, the claim, the answer
    ready = api.get(None, "/readyz")
    assert (ready.status_code, ready.json()["store"]["head_position"]) == (200, 3)

    metrics = api.get(None, "/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    lines = metrics.text.splitlines()
    assert "disputes_up 1" in lines
    assert "disputes_events_head_position 3" in lines
    assert "# TYPE disputes_events_head_position gauge" in lines
    assert any(line.startswith('disputes_projection_lag_events{projection="claims"} ') for line in lines)
    samples = [line for line in lines if line and not line.startswith("#")]
    assert [line for line in samples if not SAMPLE.match(line)] == []
    assert any(
        line.startswith('disputes_http_requests_total{method="POST",route="/claims",status="201"} ')
        for line in samples
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_openapi_lists_every_route_of_the_contract_with_a_one_line_summary(api: Api) -> None:
    answer = api.get(None, "/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    missing = [f"{method.upper()} {path}" for method, path in ROUTES if method not in paths.get(path, {})]
    assert missing == []
    for method, path in ROUTES:
        operation = paths[path][method]
        for text in (operation.get("summary", ""), operation.get("description", "")):
            assert text.strip() and "\n" not in text.strip(), f"{method.upper()} {path}: {text!r}"

    for command in COMMANDS:
        operation = paths[f"/claims/{{claim_id}}/{command}"]["post"]
        assert {"401", "403", "404", "409", "412", "422"} <= set(operation["responses"]), command
        assert "application/problem+json" in operation["responses"]["412"]["content"], command
        assert "if-match" in {p["name"].lower() for p in operation.get("parameters", [])}, command
        assert operation["requestBody"]["required"] is True, command
    assert "201" in paths["/claims"]["post"]["responses"]
