"""The case timeline as codes and parameters: what each event means, and what happens next and by when.

The view stores no words. Each event becomes a message key of the ``timeline`` catalogue and its
parameters (ids, amounts as text with their currency, times in RFC 3339); :mod:`projections.narration`
turns them into a sentence at read time, in the reader's language and time zone, written to the reader.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from disputes.domain.money import Money
from disputes.domain.parties import Role
from disputes.domain.vocabulary import ClaimStatus
from projections.changes import Change, ClaimState, deadline_party
from projections.store import time_text

S = ClaimStatus
EXCERPT = 160
Params = dict[str, Any]
Worded = tuple[str, Params]

ROLE_VALUES: dict[Role, str] = {role: role.value for role in Role}
"""Each role's text (a dictionary look-up costs a fraction of the enum's ``.value``)."""


def _money(value: Any) -> dict[str, str] | None:
    return {"amount": str(value.amount), "currency": value.currency} if isinstance(value, Money) else None


def _excerpt(text: Any) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def _when(moment: Any) -> str | None:
    return time_text(moment) if isinstance(moment, datetime) else None


def _opened(c: Change) -> Worded:
    s = c.after
    return "claim_opened", {
        "kind": s.kind,
        "reason": s.reason,
        "order_id": s.order_id,
        "amount": {"amount": str(s.claimed_amount), "currency": s.currency},
    }


def _responded(c: Change) -> Worded:
    decision = c.attr("decision")
    if decision == "accept":
        return "merchant_accepted", {}
    if decision == "reject":
        message = _excerpt(c.attr("message"))
        return ("merchant_rejected_saying", {"message": message}) if message else ("merchant_rejected", {})
    return "merchant_offered", {"amount": _money(c.attr("amount"))}


def _offer_answered(c: Change) -> Worded:
    if c.attr("accepted"):
        return "offer_accepted", {"amount": _money(c.attr("amount"))}
    return "offer_declined", {}


def _assigned(c: Change) -> Worded:
    mediator = c.attr("mediator_id")
    if mediator == c.actor.id:
        return "mediator_took_case", {}
    return "mediator_assigned", {"mediator": {"role": "mediator", "id": mediator}}


def _decision(outcome: Any, amount: Any) -> Params:
    return {"outcome": str(outcome), "amount": _money(amount)}


def _mediated(c: Change) -> Worded:
    return "mediated", {**_decision(c.attr("outcome"), c.attr("amount")), "rationale": _excerpt(c.attr("rationale"))}


def _appeal_decided(c: Change) -> Worded:
    rationale = _excerpt(c.attr("rationale"))
    if c.attr("outcome") == "upheld":
        return "appeal_upheld", {"rationale": rationale}
    return "appeal_overturned", {**_decision(c.attr("new_outcome"), c.attr("amount")), "rationale": rationale}


def _quoted(code: str, name: str) -> Callable[[Change], Worded]:
    return lambda c: (code, {name: _excerpt(c.attr(name))})


_CODES: dict[str, Callable[[Change], Worded]] = {
    "ClaimOpened": _opened,
    "MerchantResponded": _responded,
    "OfferAnswered": _offer_answered,
    "MessagePosted": _quoted("message_posted", "body"),
    "EvidenceAdded": lambda c: (
        "evidence_added", {"kind": str(c.attr("kind")), "description": _excerpt(c.attr("description"))}
    ),
    "MediationRequested": _quoted("mediation_requested", "reason"),
    "MediatorAssigned": _assigned,
    "EvidenceRequested": lambda c: (
        "evidence_requested",
        {
            "party": {"role": str(c.attr("from_party")), "id": None},
            "due": _when(c.attr("due_at")),
            "description": _excerpt(c.attr("description")),
        },
    ),
    "Mediated": _mediated,
    "ReturnShipped": lambda c: (
        "return_shipped", {"carrier": str(c.attr("carrier")), "tracking_number": str(c.attr("tracking_number"))}
    ),
    "ReturnReceived": lambda c: (f"return_received_{c.attr('condition')}", {}),
    "Refunded": lambda c: (
        "refunded", {"amount": _money(c.attr("amount")), "payment_reference": str(c.attr("payment_reference"))}
    ),
    "DeadlineMissed": lambda c: ("deadline_missed", {"deadline": str(c.attr("deadline")), "due": _when(c.attr("due_at"))}),
    "EscalatedToLegal": _quoted("escalated_to_legal", "reason"),
    "LegalOutcomeRecorded": lambda c: (
        "legal_outcome_recorded", {"outcome": _excerpt(c.attr("outcome")), "reference": str(c.attr("reference"))}
    ),
    "Withdrawn": _quoted("withdrawn", "reason"),
    "Closed": _quoted("closed", "summary"),
    # The deadline engine's outcomes: in plain words, never the rule's code name.
    "AcceptedByDefault": lambda c: ("accepted_by_default", {}),
    "OfferLapsed": lambda c: ("offer_lapsed", {}),
    "ClosedByDefault": lambda c: ("closed_by_default", {}),
    "MediationForced": lambda c: ("mediation_forced", {}),
    "Flagged": lambda c: ("flagged", {}),
    "Appealed": _quoted("appealed", "reason"),
    "AppealDecided": _appeal_decided,
    "DeadlinesFixed": lambda c: ("deadlines_fixed", {}),
}


def describe(change: Change) -> Worded:
    """What happened, as a message code of the ``timeline`` catalogue (``event.<code>``) and parameters."""
    code = _CODES.get(change.type)
    return code(change) if code else ("other", {"type": change.type})


def _due(state: ClaimState, name: str) -> str | None:
    for deadline in state.deadlines:
        if deadline.name == name:
            return time_text(deadline.due_at)
    return None


def next_steps(state: ClaimState) -> list[dict[str, Any]]:
    """What happens next: who acts (a role), the step's code (``next.<code>``), its parameters, and the
    deadline it must meet (``deadline`` and ``due_at`` null when no time limit applies)."""
    status = state.status

    def step(who: str, code: str, deadline: str | None = None, **params: Any) -> dict[str, Any]:
        due = _due(state, deadline) if deadline else None
        return {"who": who, "code": code, "params": params, "deadline": deadline if due else None, "due_at": due}

    if status == S.AWAITING_MERCHANT:
        return [step("merchant", "merchant_response", "merchant_response")]
    if status == S.OFFER_PENDING:
        return [step("buyer", "offer_answer", "offer_answer")]
    if status in (S.MERCHANT_REJECTED, S.OFFER_DECLINED):
        return [step("buyer", "mediation_request", "mediation_request")]
    if status == S.UNDER_MEDIATION:
        steps = [
            step(deadline_party(d.name), "evidence", d.name)
            for d in state.deadlines
            if d.name.startswith("evidence_from_")
        ]
        if state.mediator_id is None:
            steps.append(step("platform", "take_case", "mediator_decision"))
        else:
            steps.append(step("mediator", "decide", "mediator_decision"))
        return steps
    if status == S.AWAITING_RETURN:
        return [step("buyer", "return_shipment", "return_shipment")]
    if status == S.RETURN_IN_TRANSIT:
        return [step("merchant", "return_receipt")]
    if status == S.REFUND_PENDING:
        owed = (state.agreed_amount or state.claimed_amount) - state.refunded_amount
        return [step("merchant", "refund", "merchant_refund", amount={"amount": str(owed), "currency": state.currency})]
    if status == S.FULFILMENT_PENDING:
        return [step("merchant", "fulfil")]
    if status == S.UNDER_APPEAL:
        return [step("platform", "appeal_decision", "appeal_decision")]
    if status == S.ESCALATED_TO_LEGAL:
        return [step("platform", "legal")]
    if status in (S.REFUNDED, S.CLAIM_REJECTED, S.LEGAL_CONCLUDED):
        if state.mediator_id is not None:
            return [step("mediator", "close")]
        return []
    return []  # withdrawn, closed: nothing more happens


WORDED_EVENTS = frozenset(_CODES)
"""The event types :func:`describe` has a code for."""
