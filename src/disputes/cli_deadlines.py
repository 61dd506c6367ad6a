"""``disputes deadlines``: the deadline engine as a standalone worker.

It keeps the ``deadlines`` view caught up itself before each round (harmless beside other projection
workers: each batch commits once), then fires what has passed. Several may run against one PostgreSQL.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from disputes.bootstrap import bootstrap
from disputes.migrations import require_migrated
from disputes.settings import Settings
from disputes.signals import stop_on_signals
from projections.deadline_engine import DeadlineEngine, TickResult
from projections.readside import build_runner
from projections.store import ViewStore


def register(subparsers: Any) -> None:
    deadlines = subparsers.add_parser(
        "deadlines",
        help="run the deadline engine: apply the policy when a party lets a deadline pass",
        description="Record DeadlineMissed and the policy's automatic outcome for every passed deadline, "
        "once each. `disputes serve` runs the same engine in process unless DISPUTES_DEADLINES_IN_PROCESS=false.",
    )
    deadlines.add_argument("--once", action="store_true", help="fire what is due now, then exit")
    deadlines.set_defaults(handler=run_deadlines)


def _report(result: TickResult) -> None:
    for fired in result.fired:
        print(f"{fired.claim_id}  {fired.deadline}  rule {fired.rule} ({fired.outcome})", file=sys.stderr)


def run_deadlines(args: argparse.Namespace) -> int:
    settings = Settings()
    require_migrated(settings.database)
    container = bootstrap(settings)
    runner = build_runner(container, ["deadlines"])
    engine = DeadlineEngine(
        container.app, ViewStore(settings.database), before_tick=runner.run_until_caught_up
    )
    try:
        if args.once:
            result = engine.tick()
            _report(result)
            print(f"fired {len(result.fired)}, skipped {result.skipped}", file=sys.stderr)
            return 0
        with stop_on_signals() as stop:
            print(
                f"watching deadlines under policy {container.app.policy.version} (Ctrl-C to stop)",
                file=sys.stderr,
            )
            while not stop.is_set():
                try:
                    _report(engine.tick())
                except Exception as error:  # logged and retried, as the in-process engine does
                    print(f"deadline engine: {type(error).__name__}: {error}", file=sys.stderr)
                    engine.close()
                    runner.close()
                stop.wait(settings.deadline_poll_seconds)
        print("stopped", file=sys.stderr)
        return 0
    finally:
        engine.close()
        runner.close()
        container.close()
