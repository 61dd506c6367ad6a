"""``disputes orders import FILE.jsonl``: a platform back-fills its orders.

The whole file is checked first, every line against the format and against the orders already
recorded (the same facts again are skipped; other facts refuse the file); only then is each order
recorded, as ``PUT /orders/{order_id}`` would, with a progress bar.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from disputes.adapters.orders_file import OrdersFileError, read_orders
from disputes.cli.common import ProgressBar, opened_container
from disputes.domain import errors
from disputes.domain.parties import Actor, Role

IMPORTER = "orders-import"


def register(subparsers: Any) -> None:
    orders = subparsers.add_parser("orders", help="work with the platform's orders")
    actions = orders.add_subparsers(title="actions", metavar="ACTION", required=True)
    imported = actions.add_parser(
        "import",
        help="record the orders of a JSON Lines file (one PUT /orders body with its order_id per line)",
        description="Check every line first (format, sums, and against the orders already recorded); "
        "a file with a bad line is refused whole, naming the line. Then record each order.",
    )
    imported.add_argument("file", type=Path, metavar="FILE.jsonl")
    imported.add_argument(
        "--as", dest="platform_id", default=IMPORTER, metavar="ID", help=f"the platform principal (default {IMPORTER})"
    )
    imported.add_argument("--no-progress", action="store_true", help="no progress bar")
    imported.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    actor = Actor(Role.PLATFORM, args.platform_id)
    orders = read_orders(args.file)
    with opened_container() as container:
        recorded = container.app.orders
        new = []
        for order in orders:
            existing = recorded.find_recorded(order.order_id)
            if existing is None:
                new.append(order)
                continue
            try:
                existing.require_same_facts(order.facts)
            except errors.OrderFactsDiffer as differ:
                raise OrdersFileError(f"line {order.number}: {differ.detail}") from None
            if order.delivered_at is None or existing.delivered_at == order.delivered_at:
                continue
            if existing.delivered_at is not None:
                raise OrdersFileError(
                    f"line {order.number}: order {order.order_id} was delivered at "
                    f"{existing.delivered_at.isoformat()}, not {order.delivered_at.isoformat()}"
                )
            new.append(order)  # recorded before, now delivered
        bar = ProgressBar(sys.stderr, "import", total=len(new), enabled=not args.no_progress, unit="orders")
        try:
            for done, order in enumerate(new, start=1):
                recorded.record(actor, order.order_id, order.facts, order.delivered_at)
                bar.update(done)
        finally:
            bar.finish()
    skipped = len(orders) - len(new)
    print(f"imported {len(new)} order{'' if len(new) == 1 else 's'} from {args.file}; {skipped} already recorded")
    return 0
