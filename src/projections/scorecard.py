"""Read model "scorecard": a merchant's dispute record, explainable, as of any date.

The projection stores dated facts (only ever added); the query counts those before the cut-off:

- received: claims opened against the merchant;
- intervention: the platform stepped in (mediation asked for or forced, or a mediator took the case);
- loss: a mediator decided for the buyer (any outcome but ``claim_rejected``), or an appeal overturned a
  rejection; ``loss_reversed``: an appeal overturned a decision for the buyer into a rejection;
- refund: money refunded, by currency (decimal strings, summed exactly);
- first_response: the merchant's first answer, with the time since opening;
- deadline_met / deadline_missed: the merchant's own deadlines (answer, refund, evidence) as they closed.

The score (0-100) starts at 100 and loses up to 35 points for the loss rate, 25 for the intervention
rate, 25 for the share of its deadlines the merchant missed and 15 for a slow median first response
(the whole merchant-response window or more costs all 15). The tier is ``good`` at or above the good
threshold, ``watch`` at or above the watch threshold, else ``restricted`` (thresholds are settings).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from statistics import median_low
from typing import Any

from disputes.domain.vocabulary import Outcome
from projections.changes import Change, closed_deadlines
from projections.runner import Projection
from projections.store import Table, ViewConnection, amount_text, micros, time_text

WEIGHTS = {"loss": 35, "intervention": 25, "deadlines": 25, "response": 15}
_ALL = "~"  # sorts after every time text


class ScorecardView:
    FACTS = Table(
        "read_scorecard_facts",
        ("position", "seq", "merchant_id", "claim_id", "at", "fact", "name", "amount", "currency", "micros"),
        ("position", "seq"),
    )
    SELECT_FACTS = (
        "SELECT claim_id, fact, name, amount, currency, micros FROM read_scorecard_facts "
        "WHERE merchant_id = ? AND at < ? ORDER BY position, seq"
    )


def scorecard_facts(change: Change) -> list[tuple[str, str | None, str | None, str | None, int | None]]:
    """(fact, name, amount, currency, micros) for one change."""
    facts: list[tuple[str, str | None, str | None, str | None, int | None]] = []
    before, after = change.before, change.after
    if before is None:
        facts.append(("received", None, None, None, None))
    if after.platform_involved and (before is None or not before.platform_involved):
        facts.append(("intervention", None, None, None, None))
    if change.type == "Mediated" and change.attr("outcome") != Outcome.CLAIM_REJECTED:
        facts.append(("loss", str(change.attr("outcome")), None, None, None))
    if change.type == "AppealDecided" and change.attr("outcome") == "overturned":
        overturned_to = str(change.attr("new_outcome"))
        facts.append(("loss_reversed" if overturned_to == Outcome.CLAIM_REJECTED else "loss", overturned_to, None, None, None))
    if after.first_response_at is not None and (before is None or before.first_response_at is None):
        facts.append(("first_response", None, None, None, micros(after.first_response_at - after.opened_at)))
    if change.type == "Refunded":
        amount = change.attr("amount")
        facts.append(("refund", None, amount_text(amount.amount), amount.currency, None))
    for closed in closed_deadlines(change):
        if closed.party == "merchant" and closed.result != "superseded":
            facts.append((f"deadline_{closed.result}", closed.name, None, None, None))
    return facts


class ScorecardProjection(Projection):
    name = "scorecard"
    tables = ("read_scorecard_facts",)

    def process(self, changes: Sequence[Change], tx: ViewConnection) -> None:
        rows = []
        for change in changes:
            facts = scorecard_facts(change)
            if not facts:  # most events are no fact of the merchant's record
                continue
            at = time_text(change.at)
            state = change.after
            for seq, fact in enumerate(facts):
                rows.append((change.position, seq, state.merchant_id, state.claim_id, at, *fact))
        tx.insert_rows(ScorecardView.FACTS, rows)


# --- the scorecard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    good: int = 80
    watch: int = 60


def tier(score: int, thresholds: Thresholds) -> str:
    if score >= thresholds.good:
        return "good"
    if score >= thresholds.watch:
        return "watch"
    return "restricted"


def _rate(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


def merchant_scorecard(
    conn: ViewConnection,
    merchant_id: str,
    before: datetime | None,
    *,
    thresholds: Thresholds,
    response_window: timedelta,
) -> dict[str, Any]:
    """The merchant's figures from the facts dated before ``before`` (None: all of them), and the claims
    behind each."""
    ids: dict[str, list[str]] = defaultdict(list)
    refunds: dict[str, list[Decimal]] = defaultdict(list)
    refund_claims: dict[str, list[str]] = defaultdict(list)
    responses: list[int] = []
    missed: list[dict[str, str]] = []
    met = 0
    for claim_id, fact, name, amount, currency, duration in conn.query(
        ScorecardView.SELECT_FACTS, (merchant_id, _ALL if before is None else time_text(before))
    ):
        if fact == "refund":
            refunds[currency].append(Decimal(amount))
            if claim_id not in refund_claims[currency]:
                refund_claims[currency].append(claim_id)
        elif fact == "first_response":
            responses.append(int(duration))
            ids["first_responses"].append(claim_id)
        elif fact == "deadline_missed":
            missed.append({"claim_id": claim_id, "deadline": name})
        elif fact == "deadline_met":
            met += 1
        elif fact == "loss_reversed":
            if claim_id in ids["loss"]:
                ids["loss"].remove(claim_id)
        elif claim_id not in ids[fact]:
            ids[fact].append(claim_id)

    received = len(ids["received"])
    interventions = len(ids["intervention"])
    losses = len(ids["loss"])
    intervention_rate = _rate(interventions, received)
    loss_rate = _rate(losses, received)
    missed_share = _rate(len(missed), len(missed) + met)
    median_micros = median_low(responses) if responses else None
    window = micros(response_window) or 1
    slowness = min(Fraction(1), Fraction(median_micros, window)) if median_micros is not None else Fraction(0)
    penalty = (
        WEIGHTS["loss"] * loss_rate
        + WEIGHTS["intervention"] * intervention_rate
        + WEIGHTS["deadlines"] * missed_share
        + WEIGHTS["response"] * slowness
    )
    score = max(0, min(100, round(100 - penalty)))
    return {
        "merchant_id": merchant_id,
        "as_of": before,
        "claims_received": received,
        "platform_interventions": interventions,
        "intervention_rate": round(float(intervention_rate), 4),
        "losses": losses,
        "loss_rate": round(float(loss_rate), 4),
        "refunded": [
            {"currency": currency, "amount": amount_text(sum(amounts, Decimal(0))), "refunds": len(amounts)}
            for currency, amounts in sorted(refunds.items())
        ],
        "first_responses": len(responses),
        "median_first_response_seconds": None if median_micros is None else median_micros // 1_000_000,
        "deadlines_met": met,
        "deadlines_missed": len(missed),
        "score": score,
        "tier": tier(score, thresholds),
        "thresholds": {"good": thresholds.good, "watch": thresholds.watch},
        "claims": {
            "received": ids["received"],
            "interventions": ids["intervention"],
            "losses": ids["loss"],
            "refunds": {currency: claims for currency, claims in sorted(refund_claims.items())},
            "first_responses": ids["first_responses"],
            "deadlines_missed": missed,
        },
    }
