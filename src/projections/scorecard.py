"""Read model "scorecard": a merchant's dispute record, explainable, as of any date.

The projection stores dated facts (only ever added); the query counts those before the cut-off:

- received: claims opened against the merchant;
- intervention: the platform stepped in (mediation asked for or forced, or a mediator took the case);
- loss: a mediator decided for the buyer (any outcome but ``claim_rejected``), or an appeal overturned a
  rejection; ``loss_reversed``: an appeal overturned a decision for the buyer into a rejection;
- refund: money refunded, by currency (decimal strings, summed exactly);
- first_response: the merchant's first answer, with the time since opening;
- deadline_met / deadline_missed: the merchant's own deadlines (answer, refund, evidence) as they closed;
- decided: the claim's result became known (it left the statuses that await a party, the platform or a
  court); the standing engine needs the policy's number of them in its window before a standing moves.

The score (0-100) starts at 100 and loses up to 35 points for the loss rate, 25 for the intervention
rate, 25 for the share of its deadlines the merchant missed and 15 for a slow median first response
(the whole merchant-response window or more costs all 15). The tier is ``good`` at or above the good
threshold, ``watch`` at or above the watch threshold, else ``restricted`` (thresholds are settings).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import islice
from statistics import median_low
from typing import Any

from disputes.domain.vocabulary import ClaimStatus, Outcome
from projections.changes import Change, closed_deadlines
from projections.runner import Projection, gc_paused
from projections.store import Table, ViewConnection, amount_text, micros, text_time, time_text

WEIGHTS = {"loss": 35, "intervention": 25, "deadlines": 25, "response": 15}
_ALL = "~"  # sorts after every time text


class ScorecardView:
    FACTS = Table(
        "read_scorecard_facts",
        ("position", "seq", "merchant_id", "claim_id", "at", "fact", "name", "amount", "currency", "micros"),
        ("position", "seq"),
    )
    SELECT_FACTS = (
        "SELECT claim_id, fact, name, amount, currency, micros, at FROM read_scorecard_facts "
        "WHERE merchant_id = ? AND at < ? ORDER BY position, seq"
    )


UNDECIDED = frozenset(
    {
        ClaimStatus.AWAITING_MERCHANT,
        ClaimStatus.OFFER_PENDING,
        ClaimStatus.OFFER_DECLINED,
        ClaimStatus.MERCHANT_REJECTED,
        ClaimStatus.UNDER_MEDIATION,
        ClaimStatus.UNDER_APPEAL,
        ClaimStatus.ESCALATED_TO_LEGAL,
    }
)
"""Statuses of a claim whose result is not known yet (it awaits a party, the platform or a court)."""
UNDECIDED_OR_WITHDRAWN = UNDECIDED | {ClaimStatus.WITHDRAWN}
"""A withdrawn claim was never decided: it is no sample of the merchant's record."""


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
    leaves = after.status not in UNDECIDED_OR_WITHDRAWN and (before is None or before.status in UNDECIDED)
    if leaves and _first_decision(change):
        facts.append(("decided", after.status, None, None, None))
    for closed in closed_deadlines(change):
        if closed.party == "merchant" and closed.result != "superseded":
            facts.append((f"deadline_{closed.result}", closed.name, None, None, None))
    return facts


def _first_decision(change: Change) -> bool:
    """The claim leaves the undecided statuses for the first time (an appeal reopens, then leaves again)."""
    before = change.before
    return before is None or before.outcome is None or change.type != "AppealDecided"


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


CLAIMS_PAGE = 1000
"""Claim ids per list in a scorecard's answer unless the caller pages them otherwise."""


@dataclass(frozen=True)
class Sample:
    """How many decided claims a standing needs within a window before it may move (the policy's limit)."""

    minimum: int
    window: timedelta
    rule: str


def merchant_scorecard(
    conn: ViewConnection,
    merchant_id: str,
    before: datetime | None,
    *,
    thresholds: Thresholds,
    response_window: timedelta,
    claims_limit: int | None = CLAIMS_PAGE,
    claims_offset: int = 0,
    sample: Sample | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The merchant's figures from the facts dated before ``before`` (None: all of them), and the claims
    behind each, ``claims_limit`` ids per list from ``claims_offset`` on (None: every id).

    One pass over the facts in log order, each kept in an insertion-ordered dict (a set that remembers
    the order claims were first seen): linear in the merchant's facts.
    """
    ids: dict[str, dict[str, None]] = defaultdict(dict)
    refunds: dict[str, list[Decimal]] = defaultdict(list)
    refund_claims: dict[str, dict[str, None]] = defaultdict(dict)
    responses: list[int] = []
    missed: list[dict[str, str]] = []
    decided_at: list[str] = []
    met = 0
    with gc_paused():  # hundreds of thousands of rows, none in a cycle: the collector would only cost
        rows = conn.query(ScorecardView.SELECT_FACTS, (merchant_id, _ALL if before is None else time_text(before)))
    for claim_id, fact, name, amount, currency, duration, at in rows:
        if fact == "refund":
            refunds[currency].append(Decimal(amount))
            refund_claims[currency][claim_id] = None
        elif fact == "first_response":
            responses.append(int(duration))
            ids["first_responses"][claim_id] = None
        elif fact == "deadline_missed":
            missed.append({"claim_id": claim_id, "deadline": name})
        elif fact == "deadline_met":
            met += 1
        elif fact == "decided":
            decided_at.append(at)
        elif fact == "loss_reversed":
            ids["loss"].pop(claim_id, None)
        else:
            ids[fact][claim_id] = None

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
    end = None if claims_limit is None else claims_offset + claims_limit

    def page(items: Any) -> list[Any]:
        return list(islice(items, claims_offset, end))

    longest = max([len(v) for v in ids.values()] + [len(v) for v in refund_claims.values()] + [len(missed)])
    card: dict[str, Any] = {
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
        "decided_claims": len(decided_at),
        "score": score,
        "tier": tier(score, thresholds),
        "thresholds": {"good": thresholds.good, "watch": thresholds.watch},
        "claims": {
            "received": page(ids["received"]),
            "interventions": page(ids["intervention"]),
            "losses": page(ids["loss"]),
            "refunds": {currency: page(claims) for currency, claims in sorted(refund_claims.items())},
            "first_responses": page(ids["first_responses"]),
            "deadlines_missed": page(missed),
        },
        "claims_page": {
            "offset": claims_offset,
            "limit": claims_limit,
            "next_offset": end if end is not None and end < longest else None,
        },
    }
    if sample is not None:
        reference = before if before is not None else now
        since = time_text((reference or datetime.now(UTC)) - sample.window)
        in_window = sum(1 for at in decided_at if at >= since)
        card["standing_sample"] = {
            "decided_in_window": in_window,
            "minimum": sample.minimum,
            "window_from": text_time(since),
            "enough": in_window >= sample.minimum,
            "rule": sample.rule,
        }
    return card
