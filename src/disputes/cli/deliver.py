"""``disputes deliver``: events out as a standalone worker: the webhook deliveries (a thread per
subscription) and, with DISPUTES_NATS_URL, the NATS JetStream publisher.

`disputes serve` runs the same in process unless DISPUTES_DELIVERIES_IN_PROCESS=false. Several may run
against one PostgreSQL: an advisory lock per subscription (and one for the publisher) shares the work.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from disputes.bootstrap import Container, build_nats_publisher, start_deliveries
from disputes.cli.common import opened_container, stop_on_signals
from disputes.domain.errors import DisputesError


def register(subparsers: Any) -> None:
    deliver = subparsers.add_parser(
        "deliver",
        help="send events out: signed webhooks, and the NATS JetStream stream when DISPUTES_NATS_URL is set",
        description="Deliver every recorded event to the webhook subscribers (CloudEvents, signed per "
        "Standard Webhooks, retried per DISPUTES_WEBHOOK_RETRY_SCHEDULE) and publish it to the NATS "
        "stream DISPUTES when DISPUTES_NATS_URL is set. `disputes serve` does the same in process unless "
        "DISPUTES_DELIVERIES_IN_PROCESS=false.",
    )
    deliver.add_argument(
        "--publish-once", action="store_true", help="publish what is recorded to NATS, then exit (no webhooks)"
    )
    deliver.set_defaults(handler=run_deliver)


def run_deliver(args: argparse.Namespace) -> int:
    with opened_container() as container:
        if args.publish_once:
            return _publish_once(container)
        deliveries = start_deliveries(container, run=True)
        try:
            with stop_on_signals() as stop:
                nats = "and the NATS stream " + container.settings.nats_stream if container.settings.nats_url else ""
                print(f"delivering events to the webhooks {nats}(Ctrl-C to stop)", file=sys.stderr)
                stop.wait()
        finally:
            deliveries.stop()
        print("stopped", file=sys.stderr)
        return 0


def _publish_once(container: Container) -> int:
    publisher = build_nats_publisher(container)
    if publisher is None:
        raise DisputesError("DISPUTES_NATS_URL is not set: nothing to publish to")
    try:
        published = asyncio.run(publisher.run_until_caught_up())
    finally:
        publisher.close()
    print(f"published {published} events to the stream {container.settings.nats_stream}", file=sys.stderr)
    return 0
