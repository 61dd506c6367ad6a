"""The ``disputes`` command: its one parser, built here from each command group's ``register``.

Settings come from the environment (``DISPUTES_*``). Every failure is one line on stderr,
``disputes: error: <message>``, and a non-zero exit status (:mod:`disputes.cli.common`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from disputes import __version__
from disputes.cli import (
    audit,
    deliver,
    doctor,
    documents,
    engines,
    orders,
    policy,
    principals,
    projections,
    server,
)
from disputes.cli.common import ERROR_STATUS, INTERRUPTED_STATUS, PROG, error_message

Handler = Callable[[argparse.Namespace], int]
COMMAND_GROUPS = (server, principals, orders, projections, audit, engines, policy, documents, deliver, doctor)
"""Each adds its commands to the parser with ``register(subparsers)``, in this order in ``--help``."""


def main(argv: list[str] | None = None) -> int:
    """Run the command named by ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        return exit_.code if isinstance(exit_.code, int) else ERROR_STATUS
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return INTERRUPTED_STATUS
    except Exception as exc:
        if args.traceback:
            raise
        print(f"{PROG}: error: {error_message(exc)}", file=sys.stderr)
        return ERROR_STATUS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="After-sales dispute backend.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--traceback", action="store_true", help="on an error, show the full traceback")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser
