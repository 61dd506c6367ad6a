"""The seal's state for operators: a /readyz fragment and /metrics gauges (sealed head, its lag)."""

from __future__ import annotations

from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from disputes.adapters.database import DatabaseUrl
from disputes.application.claims import DisputesApplication
from disputes.audit.chain import seal_status


def seal_readiness(app: DisputesApplication, db: DatabaseUrl) -> dict[str, Any]:
    """``{"head_position", "head_hash", "lag"}`` for the /readyz body; raises if the seal is unreadable."""
    status = seal_status(app, db)
    return {"head_position": status.sealed_position, "head_hash": status.sealed_hash, "lag": status.lag}


def seal_metrics(app: DisputesApplication, db: DatabaseUrl) -> list[Metric]:
    """The seal's gauges; none when the seal cannot be read (metrics must still answer)."""
    try:
        status = seal_status(app, db)
    except Exception:  # the store or the seal table is unavailable: /readyz says so
        return []
    return [
        GaugeMetricFamily(
            "disputes_audit_seal_head_position", "Position of the last sealed event.", status.sealed_position
        ),
        GaugeMetricFamily(
            "disputes_audit_seal_lag_positions", "Positions recorded but not sealed yet.", status.lag
        ),
    ]
