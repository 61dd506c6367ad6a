"""What ``GET /metrics`` shows of one running API: the process's metrics (``adapters/metrics.py``) and
the gauges of its composition root, read at each scrape.

A new figure is a function of the container and the read side that returns Prometheus metric
families, added to :data:`GAUGES`; one that cannot be read (the store is down) returns none, and
/readyz says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from disputes.adapters.metrics import registry_with
from disputes.adapters.sampled import Sampled
from disputes.audit.health import seal_metrics
from disputes.bootstrap import Container, outbox_status
from projections.readside import ReadSide, lag_metrics

Gauges = Callable[[Container, ReadSide], Iterable[Metric]]
_STARTED = time.time()


def up(container: Container, read_side: ReadSide) -> Iterable[Metric]:
    yield GaugeMetricFamily("disputes_up", "1 while the server runs.", 1)
    yield GaugeMetricFamily("disputes_start_time_seconds", "When the server started (Unix time).", _STARTED)


def head(container: Container, read_side: ReadSide) -> Iterable[Metric]:
    position = container.app.recorder.max_notification_id() or 0
    yield GaugeMetricFamily("disputes_events_head_position", "Position of the last recorded event.", position)


def seal(container: Container, read_side: ReadSide) -> Iterable[Metric]:
    return seal_metrics(container.app, container.settings.database)


def projections(container: Container, read_side: ReadSide) -> Iterable[Metric]:
    return lag_metrics(read_side.statuses())


def pools(container: Container, read_side: ReadSide) -> Iterable[Metric]:
    """The PostgreSQL connection pools' sizes, idle connections and waiting requests (none on SQLite)."""
    found = {"principals": container.connections.pool_stats(), "views": read_side.store.pool_stats()}
    size = GaugeMetricFamily("disputes_db_pool_size", "Connections open in the pool.", labels=["pool"])
    idle = GaugeMetricFamily("disputes_db_pool_idle", "Connections idle in the pool.", labels=["pool"])
    waiting = GaugeMetricFamily(
        "disputes_db_pool_waiting", "Requests waiting for a connection of the pool.", labels=["pool"]
    )
    for name, stats in found.items():
        if stats is not None:
            size.add_metric([name], stats.get("pool_size", 0))
            idle.add_metric([name], stats.get("pool_available", 0))
            waiting.add_metric([name], stats.get("requests_waiting", 0))
    return [size, idle, waiting]


def events_out(container: Container, read_side: ReadSide) -> Iterable[Metric]:
    """Webhook deliveries by status and, with NATS configured, the stream's position and lag."""
    status = outbox_status(container)
    deliveries = GaugeMetricFamily(
        "disputes_webhook_deliveries", "Webhook deliveries by status.", labels=["status"]
    )
    for name, count in status["webhook_deliveries"].items():
        deliveries.add_metric([name], count)
    yield deliveries
    if status["nats"] is not None:
        yield GaugeMetricFamily(
            "disputes_nats_position", "Last store position published to the NATS stream.",
            status["nats"]["position"],
        )
        yield GaugeMetricFamily(
            "disputes_nats_lag_events", "Events recorded but not yet published to the NATS stream.",
            status["nats"]["lag"],
        )


GAUGES: tuple[Gauges, ...] = (up, head, seal, projections, pools, events_out)


class _ContainerGauges:
    """The gauges of :data:`GAUGES`, read together at most once per period (one batch of queries,
    whatever the number of scrapes); the process's counters are read at every scrape."""

    def __init__(self, container: Container, read_side: Callable[[], ReadSide], period: float) -> None:
        self.container = container
        self.read_side = read_side
        self.sample = Sampled(self._read, period)

    def _read(self) -> list[Metric]:
        read_side = self.read_side()
        found: list[Metric] = []
        for gauges in GAUGES:
            try:
                found += gauges(self.container, read_side)
            except Exception:  # the store is down: /readyz says so; metrics still answer
                continue
        return found

    def collect(self) -> Iterable[Metric]:
        return self.sample.get()


def api_registry(container: Container, read_side: Callable[[], ReadSide], period: float = 0.0) -> CollectorRegistry:
    """The registry one API serves: the process's metrics and its container's gauges (sampled at most
    every ``period`` seconds)."""
    return registry_with(_ContainerGauges(container, read_side, period))
