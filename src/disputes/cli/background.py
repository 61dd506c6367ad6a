"""The one process of ``disputes serve --workers N`` that runs what follows the store: the projections,
the engines (deadlines, standing, reminders) and the deliveries (webhooks, NATS), each in a thread, so
that the serving processes only serve and nothing runs twice.

The supervisor (``cli/workers.py``) starts it with the spawn method and starts it again if it dies; it
stops on SIGTERM or SIGINT, and by itself when its supervisor is gone (it is never left orphaned).
"""

from __future__ import annotations

import os

from disputes.adapters.logs import configure_logging
from disputes.adapters.metrics import MULTIPROCESS_DIRECTORY
from disputes.adapters.orphans import stop_when_orphaned
from disputes.adapters.process_metrics import announce
from disputes.bootstrap import (
    bootstrap,
    start_deadline_engine,
    start_deliveries,
    start_projections,
    start_reminder_engine,
    start_standing_engine,
)
from disputes.cli.common import stop_on_signals
from disputes.settings import Settings


def run_background(runs: dict[str, bool]) -> None:
    """Run the projections, the engines and the deliveries until a signal (SIGTERM also when the
    supervisor is gone). The serving processes run none of them (their environment says
    ``*_IN_PROCESS=false``); here, each runs as the operator's settings said (``runs``: those
    ``*_in_process`` settings, as ``disputes serve`` read them; false: a worker of its own runs it)."""
    settings = Settings(**runs)  # type: ignore[arg-type]
    configure_logging(settings.log_level)
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    if directory:  # its process figures are shown on /metrics, beside the serving processes'
        announce(directory)
    container = bootstrap(settings)
    with stop_on_signals() as stop:
        stop_when_orphaned()
        projections = start_projections(container)
        deadlines = start_deadline_engine(container)
        standing = start_standing_engine(container)
        reminders = start_reminder_engine(container)
        deliveries = start_deliveries(container)
        try:
            stop.wait()
        finally:
            deliveries.stop()
            reminders.stop()
            standing.stop()
            deadlines.stop()
            projections.stop()
            container.close()
