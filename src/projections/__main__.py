"""``python -m projections project|rebuild``: the read side's commands without the ``disputes`` entry
point (the same handlers as ``disputes project`` and ``disputes rebuild``)."""

from __future__ import annotations

import argparse
import logging
import sys

from disputes.cli import ERROR_STATUS, error_message
from disputes.cli_projections import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m projections", description="Run or rebuild the read models.")
    parser.add_argument("--traceback", action="store_true", help="on an error, show the full traceback")
    register(parser.add_subparsers(title="commands", metavar="COMMAND", required=True))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else ERROR_STATUS
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        status: int = args.handler(args)
        return status
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(f"{parser.prog}: error: {error_message(exc)}", file=sys.stderr)
        return ERROR_STATUS


if __name__ == "__main__":
    sys.exit(main())
