"""Read model "audit": dated facts for period reports (``GET /reports/audit?from=&to=``).

Facts, only ever added, each with the claim's kind and reason:

- opened; closed (``outcome`` = withdrawn or closed);
- outcome: how a claim was resolved, with the time since it was opened: ``merchant_accepted``,
  ``offer_accepted``, a mediator's decision (``full_refund``, ``partial_refund``,
  ``return_then_refund``, ``exchange``, ``repair``, ``claim_rejected``), ``legal_outcome``, ``withdrawn``.
  A claim may have more than one (an accepted return that arrives damaged goes on to mediation);
- refund: amount and currency;
- deadline: a deadline that closed, its party, and whether it was met, missed or superseded.

A report counts the facts dated in ``[from, to)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from statistics import median_low
from typing import Any

from projections.changes import Change, closed_deadlines
from projections.runner import Projection
from projections.store import Table, ViewConnection, amount_text, micros, time_text

Fact = tuple[str, str | None, str | None, str | None, str | None, str | None, str | None, int | None]
"""(fact, outcome, party, name, due_at, amount, currency, micros)"""


class AuditView:
    FACTS = Table(
        "read_audit_facts",
        ("position", "seq", "claim_id", "at", "fact", "kind", "reason", "outcome", "party", "name", "due_at",
         "amount", "currency", "micros"),
        ("position", "seq"),
    )
    COUNTS = (
        "SELECT fact, outcome, kind, reason, party, COUNT(*) FROM read_audit_facts "
        "WHERE at >= ? AND at < ? GROUP BY fact, outcome, kind, reason, party"
    )
    REFUNDS = (
        "SELECT currency, amount FROM read_audit_facts WHERE at >= ? AND at < ? AND fact = 'refund'"
    )
    RESOLUTION_TIMES = (
        "SELECT micros FROM read_audit_facts WHERE at >= ? AND at < ? AND fact = 'outcome'"
    )


def _resolution(change: Change) -> str | None:
    kind = change.type
    if kind == "MerchantResponded" and change.attr("decision") == "accept":
        return "merchant_accepted"
    if kind == "OfferAnswered" and change.attr("accepted"):
        return "offer_accepted"
    if kind == "Mediated":
        return str(change.attr("outcome"))
    if kind == "AppealDecided":
        return f"appeal_{change.attr('outcome')}"  # appeal_upheld, appeal_overturned
    if kind == "LegalOutcomeRecorded":
        return "legal_outcome"
    if kind == "Withdrawn":
        return "withdrawn"
    return None


def audit_facts(change: Change) -> list[Fact]:
    facts: list[Fact] = []
    after = change.after
    if change.before is None:
        facts.append(("opened", None, None, None, None, None, None, None))
    resolution = _resolution(change)
    if resolution is not None:
        facts.append(("outcome", resolution, None, None, None, None, None, micros(change.at - after.opened_at)))
    if change.type in ("Withdrawn", "Closed"):
        facts.append(("closed", after.status, None, None, None, None, None, None))
    if change.type == "Refunded":
        amount = change.attr("amount")
        facts.append(("refund", None, None, None, None, amount_text(amount.amount), amount.currency, None))
    for closed in closed_deadlines(change):
        result = closed.result
        if closed.party == "platform" and result == "superseded" and change.actor.role == "mediator":
            result = "met"  # the platform's own deadline (its decision), kept by its mediator
        facts.append(("deadline", result, closed.party, closed.name, time_text(closed.due_at), None, None, None))
    return facts


class AuditProjection(Projection):
    name = "audit"
    tables = ("read_audit_facts",)

    def process(self, changes: Sequence[Change], tx: ViewConnection) -> None:
        rows = []
        for change in changes:
            facts = audit_facts(change)
            if not facts:  # a message, evidence, ...
                continue
            at = time_text(change.at)
            state = change.after
            for seq, fact in enumerate(facts):
                rows.append((change.position, seq, state.claim_id, at, fact[0], state.kind, state.reason, *fact[1:]))
        tx.insert_rows(AuditView.FACTS, rows)


def audit_report(conn: ViewConnection, start: datetime, end: datetime) -> dict[str, Any]:
    """What happened to claims in ``[start, end)``."""
    period = (time_text(start), time_text(end))
    opened = 0
    closed: dict[str, int] = defaultdict(int)
    outcomes: dict[str, int] = defaultdict(int)
    by_kind: dict[tuple[str, str], int] = defaultdict(int)
    by_reason: dict[tuple[str, str], int] = defaultdict(int)
    compliance: dict[str, dict[str, int]] = defaultdict(lambda: {"met": 0, "missed": 0, "superseded": 0})
    for fact, outcome, kind, reason, party, count in conn.query(AuditView.COUNTS, period):
        count = int(count)
        if fact == "opened":
            opened += count
        elif fact == "closed":
            closed[outcome] += count
        elif fact == "outcome":
            outcomes[outcome] += count
            by_kind[(outcome, kind)] += count
            by_reason[(outcome, reason)] += count
        elif fact == "deadline":
            compliance[party][outcome] += count

    refunds: dict[str, list[Decimal]] = defaultdict(list)
    for currency, amount in conn.query(AuditView.REFUNDS, period):
        refunds[currency].append(Decimal(amount))
    times = [int(m) for (m,) in conn.query(AuditView.RESOLUTION_TIMES, period)]
    median = median_low(times) // 1_000_000 if times else None

    def rate(counts: dict[str, int]) -> float | None:
        judged = counts["met"] + counts["missed"]
        return round(counts["met"] / judged, 4) if judged else None

    return {
        "from": start,
        "to": end,
        "claims_opened": opened,
        "claims_closed": sum(closed.values()),
        "closed_by_status": [{"status": s, "count": n} for s, n in sorted(closed.items())],
        "outcomes": [{"outcome": o, "count": n} for o, n in sorted(outcomes.items())],
        "outcomes_by_kind": [
            {"outcome": o, "kind": k, "count": n} for (o, k), n in sorted(by_kind.items())
        ],
        "outcomes_by_reason": [
            {"outcome": o, "reason": r, "count": n} for (o, r), n in sorted(by_reason.items())
        ],
        "refunds_by_currency": [
            {"currency": c, "amount": amount_text(sum(a, Decimal(0))), "refunds": len(a)}
            for c, a in sorted(refunds.items())
        ],
        "median_time_to_resolution_seconds": median,
        "resolutions": len(times),
        "deadline_compliance": [
            {"party": party, **counts, "compliance_rate": rate(counts)}
            for party, counts in sorted(compliance.items())
        ],
    }
