"""The process's Prometheus metrics, with ``prometheus_client``: the domain counters every layer counts
on, and the registry ``GET /metrics`` exposes.

The counters live in the client's default registry (beside its process and Python collectors), one set
per process. What depends on one composition root (the store's head, the projections' lag, the pools)
is a collector the API adds to the registry it builds with :func:`registry_with` (``api/metrics.py``);
another figure is one more collector there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from disputes.adapters.process_metrics import ProcessesCollector, announce

HTTP_REQUESTS = Counter(
    "disputes_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "disputes_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CLAIMS_OPENED = Counter("disputes_claims_opened", "Claims opened, by kind.", ["kind"])
REFUNDS = Counter("disputes_refunds", "Refunds recorded, by currency.", ["currency"])
REFUNDED_AMOUNT = Counter(
    "disputes_refunded_amount", "Money refunded, in units of the currency, by currency.", ["currency"]
)
AUTOMATIC_OUTCOMES = Counter(
    "disputes_automatic_outcomes",
    "Outcomes the deadline engine applied when a deadline passed, by rule and outcome.",
    ["rule", "outcome"],
)
AUTH_FAILURES = Counter(
    "disputes_auth_failures", "Failed authentications, by reason (missing, malformed, invalid-token).", ["reason"]
)


def count_recorded(domain_events: Iterable[Any]) -> None:
    """Count what a save recorded: claims opened and refunds (the events' own names and fields)."""
    for domain_event in domain_events:
        name = type(domain_event).__name__
        if name == "ClaimOpened":
            CLAIMS_OPENED.labels(kind=str(domain_event.kind)).inc()
        elif name == "Refunded":
            amount = domain_event.amount
            REFUNDS.labels(currency=amount.currency).inc()
            # A float only here, for Prometheus: the recorded amount stays a Decimal.
            REFUNDED_AMOUNT.labels(currency=amount.currency).inc(float(amount.amount))


class _Default(Collector):
    """The default registry's metrics (these counters, the process and Python collectors)."""

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()


MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's multiprocess mode: set (``disputes serve --workers N`` sets it), every process
writes its counters to files there and each one's /metrics adds up all of them."""


def registry_with(*collectors: Collector) -> CollectorRegistry:
    """A registry of the process's metrics and ``collectors`` (those of one composition root).

    In multiprocess mode (:data:`MULTIPROCESS_DIRECTORY` set), the counters are those of every process
    of the server, summed by prometheus_client's own collector, and the process figures those of every
    live process of the server, labelled ``pid`` (``adapters/process_metrics.py``; this process is
    announced among them)."""
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    if directory:
        announce(directory)
        # prometheus_client leaves the collector untyped.
        registry.register(MultiProcessCollector(None, path=directory))  # type: ignore[no-untyped-call]
        registry.register(ProcessesCollector(directory))
    else:
        registry.register(_Default())
    for collector in collectors:
        registry.register(collector)
    return registry
