"""What operators and client generators read: health, readiness, metrics, the OpenAPI document."""

from __future__ import annotations

import re
import time

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

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
    # /readyz answers from a sample at most DISPUTES_HEALTH_SAMPLE_SECONDS (1 s) old.
    deadline = time.monotonic() + 5
    while (ready := api.get(None, "/readyz")).json()["store"]["head_position"] != 3:
        assert ready.status_code == 200 and time.monotonic() < deadline, ready.text
        time.sleep(0.1)

    metrics = api.get(None, "/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(metrics.text)}
    assert value(families, "disputes_up") == 1
    assert value(families, "disputes_events_head_position") == 3
    assert families["disputes_events_head_position"].type == "gauge"
    assert value(families, "disputes_projection_lag_events", projection="claims") >= 0
    assert value(families, "disputes_http_requests", "disputes_http_requests_total", method="POST", route="/claims", status="201") >= 1


def value(families: dict[str, Metric], name: str, sample: str | None = None, **labels: str) -> float:
    """The value of the sample ``sample`` (default: the family's own name) with these labels."""
    found = [
        s.value
        for s in families[name].samples
        if s.name == (sample or name) and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (name, labels, families[name].samples)
    return found[0]


def test_metrics_are_prometheus_text_with_request_latency_domain_counters_and_the_runtime(api: Api) -> None:
    def scrape() -> dict[str, Metric]:
        answer = api.get(None, "/metrics")
        assert answer.headers["content-type"] == CONTENT_TYPE_LATEST
        return {family.name: family for family in text_string_to_metric_families(answer.text)}

    def count(families: dict[str, Metric], name: str, sample: str, **labels: str) -> float:
        """The sample's value; 0 before the first of its kind (a labelled counter starts unseen)."""
        samples = families[name].samples if name in families else []
        found = [s.value for s in samples if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())]
        return found[0] if found else 0.0

    before = scrape()
    claim = api.open_claim(order_amount="100.00", claimed_amount="80.00", currency="CNY")
    api.act("m1", claim["id"], "merchant-response", {"decision": "accept"})
    refund = {"amount": "80.00", "payment_reference": "pay-1"}
    assert api.post("m1", f"/claims/{claim['id']}/refunds", json=refund).status_code == 200
    assert api.get(None, "/claims").status_code == 401
    assert api.get(None, "/claims", headers={"Authorization": "Bearer nope"}).status_code == 401
    after = scrape()

    def grew(name: str, sample: str, **labels: str) -> float:
        return count(after, name, sample, **labels) - count(before, name, sample, **labels)

    kind = claim["kind"]
    assert grew("disputes_claims_opened", "disputes_claims_opened_total", kind=kind) == 1
    assert grew("disputes_refunds", "disputes_refunds_total", currency="CNY") == 1
    assert grew("disputes_refunded_amount", "disputes_refunded_amount_total", currency="CNY") == 80
    assert grew("disputes_auth_failures", "disputes_auth_failures_total", reason="missing") == 1
    assert grew("disputes_auth_failures", "disputes_auth_failures_total", reason="invalid-token") == 1
    # The latency histogram: by route template (never the claim's id) and status, with its buckets.
    latency = after["disputes_http_request_duration_seconds"]
    assert latency.type == "histogram"
    route = "/claims/{claim_id}/refunds"
    labels = {"method": "POST", "route": route, "status": "200"}
    assert grew("disputes_http_request_duration_seconds", "disputes_http_request_duration_seconds_count", **labels) == 1
    assert value(after, "disputes_http_request_duration_seconds", "disputes_http_request_duration_seconds_bucket", le="+Inf", **labels) >= 1
    assert not any(claim["id"] in str(s.labels) for f in after.values() for s in f.samples)
    # The client's own collectors: the process and the Python runtime.
    assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_info", "python_gc_objects_collected"} <= set(after)
    # Every name follows the conventions: a prefix, snake case, counters ending in _total.
    for family in after.values():
        assert re.fullmatch(r"(disputes|process|python)_[a-z0-9_]+", family.name), family.name
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), family.name


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_openapi_lists_every_route_of_the_contract_with_a_one_line_summary(api: Api) -> None:
    answer = api.get(None, "/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    missing = [f"{method.upper()} {path}" for method, path in ROUTES if method not in paths.get(path, {})]
    assert missing == []
    for method, path in ROUTES:
        operation = paths[path][method]
        summary = operation.get("summary", "")
        assert summary.strip() and "\n" not in summary, f"{method.upper()} {path}: {summary!r}"
        assert operation.get("description", "").strip(), f"{method.upper()} {path}"

    for command in COMMANDS:
        operation = paths[f"/claims/{{claim_id}}/{command}"]["post"]
        assert {"401", "403", "404", "409", "412", "422"} <= set(operation["responses"]), command
        assert "application/problem+json" in operation["responses"]["412"]["content"], command
        assert "if-match" in {p["name"].lower() for p in operation.get("parameters", [])}, command
        assert operation["requestBody"]["required"] is True, command
    assert "201" in paths["/claims"]["post"]["responses"]
