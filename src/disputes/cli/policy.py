"""``disputes policy simulate``: what a new policy would have changed in the claims of a period.

Reads the store, writes nothing: the claims are replayed in memory (:mod:`disputes.application.simulation`).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from disputes.adapters.migrations import require_migrated
from disputes.adapters.policy_file import load_policy
from disputes.application.simulation import SimulationReport, simulate
from disputes.bootstrap import build_application
from disputes.cli.common import rfc3339_option, table
from disputes.domain.errors import DisputesError
from disputes.domain.policy import BUYER_CLAIM_RATE_RULE
from disputes.engines.standing import simulate_standings
from disputes.settings import Settings
from projections.store import ViewStore


def register(subparsers: Any) -> None:
    policy = subparsers.add_parser("policy", help="work with policy files")
    actions = policy.add_subparsers(title="actions", metavar="ACTION", required=True)
    sim = actions.add_parser(
        "simulate",
        help="replay a period's claims under another policy, without writing anything",
        description="Replay the claims opened in [--from, --to) under the windows and automatic outcomes "
        "of --policy, in memory, and print per rule how many outcomes and how much money would change; which "
        "buyers its claim-rate limit would have refused; which merchants' standings it would change now.",
    )
    sim.add_argument("--policy", required=True, type=Path, metavar="NEW.toml", help="the policy to try")
    sim.add_argument("--from", required=True, dest="start", metavar="TIME", help="RFC 3339, with zone")
    sim.add_argument("--to", required=True, dest="end", metavar="TIME", help="RFC 3339, with zone")
    sim.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sim.set_defaults(handler=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    start, end = rfc3339_option(args.start, "--from"), rfc3339_option(args.end, "--to")
    if end <= start:
        raise DisputesError("--to must be later than --from")
    new = load_policy(args.policy)
    settings = Settings()
    require_migrated(settings.database)
    app = build_application(settings)
    store = ViewStore(settings.database)
    try:
        report = simulate(app, new, start, end, now=app.now())
        standings = simulate_standings(app, store, new, app.now())
    finally:
        store.close()
        app.close()
    report = replace(report, standings=tuple(standings))
    print(json.dumps(report.to_json(), indent=2) if args.json else render(report))
    return 0


def render(report: SimulationReport) -> str:
    lines = [
        f"policy {report.policy_version}: {report.claims_replayed} claim(s) opened from "
        f"{report.start.isoformat()} to {report.end.isoformat()} replayed up to {report.horizon.isoformat()}; "
        f"{len(report.changes)} outcome(s) would change",
    ]
    if report.changes:
        rows = [
            (r.rule, str(len(r.claim_ids)), _money(r.money), ", ".join(r.claim_ids)) for r in report.by_rule()
        ]
        lines += ["", *table(("rule", "changed", "money", "claims"), rows), ""]
        rows = [
            (
                c.claim_id,
                c.rule,
                f"{c.recorded_status} -> {c.simulated_status}",
                f"{c.recorded_money} -> {c.simulated_money} {c.currency}",
            )
            for c in report.changes
        ]
        lines += table(("claim", "rule", "status (recorded -> simulated)", "money"), rows)
    lines += ["", f"{len(report.limited_buyers)} buyer(s) would be limited (rule {BUYER_CLAIM_RATE_RULE})"]
    if report.limited_buyers:
        limited = [(b.buyer_id, str(len(b.claim_ids)), ", ".join(b.claim_ids)) for b in report.limited_buyers]
        lines += table(("buyer", "refused", "claims"), limited)
    lines += ["", f"{len(report.standings)} merchant standing(s) would change (the scorecard view as it stands)"]
    if report.standings:
        moved = [
            (m.merchant_id, f"{m.recorded_tier} -> {m.simulated_tier}", m.event, str(m.score),
             str(m.decided_in_window), ", ".join(m.claim_ids[:10]) + (" ..." if len(m.claim_ids) > 10 else ""))
            for m in report.standings
        ]
        lines += table(("merchant", "tier", "event", "score", "decided", "claims"), moved)
    return "\n".join(lines)


def _money(amounts: dict[str, Any]) -> str:
    return ", ".join(f"{amount:+} {currency}" for currency, amount in amounts.items())
