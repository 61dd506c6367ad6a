"""``disputes deadlines``: the platform's automatic engines as a standalone worker: the deadline engine
and the merchant standing engine.

It keeps the ``deadlines`` and ``scorecard`` views caught up itself before each round (harmless beside
other projection workers: each batch commits once), then fires what has passed and records the
merchants' tier crossings. Several may run against one PostgreSQL.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from prometheus_client import start_http_server

from disputes.adapters.metrics import registry_with
from disputes.bootstrap import Container, build_runner
from disputes.cli.common import opened_container, port_number, stop_on_signals
from disputes.engines.deadlines import DeadlineEngine, TickResult
from disputes.engines.reminders import ReminderEngine
from disputes.engines.standing import StandingEngine, StandingTick
from projections.store import ViewStore


def register(subparsers: Any) -> None:
    deadlines = subparsers.add_parser(
        "deadlines",
        help="run the deadline and standing engines: apply the policy when a deadline passes or a "
        "merchant's scorecard crosses a tier",
        description="Record DeadlineMissed and the policy's automatic outcome for every passed deadline, "
        "once each, and Warned, Restricted or Reinstated when a merchant's scorecard crosses a tier. "
        "`disputes serve` runs the same engines in process unless DISPUTES_DEADLINES_IN_PROCESS=false.",
    )
    deadlines.add_argument("--once", action="store_true", help="act on what is due now, then exit")
    deadlines.add_argument(
        "--metrics-port",
        type=port_number,
        help="serve this worker's Prometheus metrics (automatic outcomes by rule, the process) on "
        "http://DISPUTES_HOST:PORT/metrics",
    )
    deadlines.set_defaults(handler=run_deadlines)


def _report(result: TickResult, standing: StandingTick) -> None:
    for fired in result.fired:
        print(f"{fired.claim_id}  {fired.deadline}  rule {fired.rule} ({fired.outcome})", file=sys.stderr)
    for change in standing.recorded:
        print(
            f"merchant {change.merchant_id}  {change.event} {change.from_tier} -> {change.to_tier}  rule {change.rule}",
            file=sys.stderr,
        )


def run_deadlines(args: argparse.Namespace) -> int:
    with opened_container(logs=not args.once) as container:
        if args.metrics_port is not None and not args.once:
            start_http_server(args.metrics_port, addr=container.settings.host, registry=registry_with())
        return _run(container, once=args.once)


def _run(container: Container, *, once: bool) -> int:
    database = container.settings.database
    runner = build_runner(container, ["deadlines", "scorecard"])
    engine = DeadlineEngine(container.app, ViewStore(database), before_tick=runner.run_until_caught_up)
    # The deadline engine's round catches the views up first; a crossing it causes shows next round.
    standing = StandingEngine(
        container.app, ViewStore(database), before_tick=runner.run_until_caught_up,
        review_every=container.settings.standing_review_seconds,  # the first round reviews at once
    )
    reminders = ReminderEngine(container.app, ViewStore(database))
    try:
        if once:
            result = engine.tick()
            changes = standing.tick()
            reminded = reminders.tick()
            _report(result, changes)
            print(
                f"fired {len(result.fired)}, skipped {result.skipped}; reminders {len(reminded.sent)}; "
                f"standings changed {len(changes.recorded)} of {changes.reviewed} reviewed",
                file=sys.stderr,
            )
            return 0
        with stop_on_signals() as stop:
            print(
                f"watching deadlines under policy {container.app.policy.version} (Ctrl-C to stop)",
                file=sys.stderr,
            )
            while not stop.is_set():
                try:
                    _report(engine.tick(), standing.tick())
                    reminders.tick()
                except Exception as error:  # logged and retried, as the in-process engines do
                    print(f"engines: {type(error).__name__}: {error}", file=sys.stderr)
                    engine.close()
                    standing.close()
                    reminders.close()
                    runner.close()
                stop.wait(container.settings.deadline_poll_seconds)
        print("stopped", file=sys.stderr)
        return 0
    finally:
        engine.close()
        standing.close()
        reminders.close()
        runner.close()
