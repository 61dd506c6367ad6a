"""``disputes project`` and ``disputes rebuild``: the read side's commands.

``register(subparsers)`` adds them to the ``disputes`` parser; each handler returns the exit status,
and failures are raised for the caller to print as one line (``disputes: error: ...``).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from disputes.bootstrap import build_runner
from disputes.cli.common import ProgressBar, opened_container, stop_on_signals
from disputes.cli.rebuild import rebuild
from disputes.cli.workers import usable_cpus
from disputes.domain.errors import InvalidValue
from projections import catalog

MAX_DEFAULT_WORKERS = 4


def register(subparsers: Any) -> None:
    """Add ``project`` and ``rebuild`` to the ``disputes`` command's subparsers."""
    names = ", ".join(catalog.NAMES)
    project = subparsers.add_parser(
        "project",
        help="run the projections as a standalone worker (until Ctrl-C or SIGTERM)",
        description=f"Keep the read models up to date: {names}. Several workers may run on PostgreSQL; "
        "each projection is worked by one of them at a time.",
    )
    project.add_argument("names", nargs="*", metavar="NAME", help=f"only these projections ({names})")
    project.add_argument("--once", action="store_true", help="catch up, then exit")
    project.set_defaults(handler=run_project)

    rebuild = subparsers.add_parser(
        "rebuild",
        help="empty a read model and build it again from the event store, with a progress bar",
        description=f"Rebuild one projection ({names}), or all of them.",
    )
    rebuild.add_argument("name", nargs="?", metavar="NAME", help="the projection (default: all)")
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar")
    rebuild.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes that share the views' rebuild, each a share of the claims (default: the CPUs "
        "this process may use, at most 4; 1: one runner does it all)",
    )
    rebuild.set_defaults(handler=run_rebuild)


def run_project(args: argparse.Namespace) -> int:
    names = list(args.names)
    catalog.select(names)  # refuse unknown names before connecting
    with opened_container(logs=not args.once) as container:
        runner = build_runner(container, names)
        try:
            if args.once:
                count = runner.run_until_caught_up()
                print(f"caught up: {count} events read", file=sys.stderr)
                return 0
            with stop_on_signals() as stop:
                projected = ", ".join(p.name for p in runner.projections)
                print(f"projecting {projected} (Ctrl-C to stop)", file=sys.stderr)
                runner.run_forever(stop)
            print("stopped", file=sys.stderr)
            return 0
        finally:
            runner.close()


def run_rebuild(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else []
    projections = catalog.select(names)
    workers = args.workers if args.workers is not None else min(MAX_DEFAULT_WORKERS, usable_cpus())
    if workers < 1:
        raise InvalidValue("--workers must be 1 or more")
    with opened_container() as container:
        head = int(container.app.recorder.max_notification_id() or 0)
        bar = ProgressBar(sys.stderr, "rebuild", total=head, enabled=not args.quiet)
        started = time.monotonic()
        try:
            read = rebuild(container, names, workers=workers, progress=bar.update)
        finally:
            bar.finish()
        seconds = time.monotonic() - started
        rate = read / seconds if seconds > 0 else 0.0
        rebuilt = ", ".join(p.name for p in projections)
        print(f"rebuilt {rebuilt}: {read:,} events in {seconds:.1f} s ({rate:,.0f} events/s)")
        return 0
