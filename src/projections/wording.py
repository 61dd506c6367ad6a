"""Plain words for the case timeline: what each event means, and what happens next and by when."""

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

_ROLE_NAMES = {
    "buyer": "The buyer",
    "merchant": "The merchant",
    "mediator": "Mediator",
    "system": "The platform",
}
_OUTCOMES = {
    "full_refund": "a full refund",
    "partial_refund": "a partial refund",
    "return_then_refund": "a refund after the goods are returned",
    "exchange": "an exchange",
    "repair": "a repair",
    "claim_rejected": "the claim is rejected",
}
_DEADLINES = {
    "merchant_response": "the merchant's answer",
    "offer_answer": "the buyer's answer to the offer",
    "mediation_request": "asking the platform to mediate",
    "return_shipment": "shipping the return",
    "merchant_refund": "the merchant's refund",
    "evidence_from_buyer": "the buyer's evidence",
    "evidence_from_merchant": "the merchant's evidence",
    "mediator_decision": "the platform's decision",
    "appeal_decision": "the platform's decision of the appeal",
}


ROLE_VALUES: dict[Role, str] = {role: role.value for role in Role}
"""Each role's text (a dictionary look-up costs a fraction of the enum's ``.value``)."""


def _who(change: Change) -> str:
    role = ROLE_VALUES[change.actor.role]
    if role == "mediator":
        return f"Mediator {change.actor.id}"
    return _ROLE_NAMES.get(role, f"The {role}")


def _money(value: Any) -> str:
    return f"{value.amount} {value.currency}" if isinstance(value, Money) else "an amount"


def _excerpt(text: Any) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def _when(moment: Any) -> str:
    return time_text(moment)[:16].replace("T", " ") + " UTC" if isinstance(moment, datetime) else "?"


def _kind(kind: str) -> str:
    return kind.replace("_", " ").replace("refund only", "refund-only")


def _opened(c: Change) -> str:
    state = c.after
    return (
        f"The buyer opened a {_kind(state.kind)} claim ({state.reason.replace('_', ' ')}) on order "
        f"{state.order_id}, asking for {state.claimed_amount} {state.currency}."
    )


def _responded(c: Change) -> str:
    decision = c.attr("decision")
    if decision == "accept":
        return "The merchant accepted the claim."
    if decision == "reject":
        message = _excerpt(c.attr("message"))
        return "The merchant rejected the claim" + (f": “{message}”" if message else ".")
    return f"The merchant offered {_money(c.attr('amount'))} instead."


def _offer_answered(c: Change) -> str:
    if c.attr("accepted"):
        return f"The buyer accepted the offer of {_money(c.attr('amount'))}."
    return "The buyer declined the offer."


def _assigned(c: Change) -> str:
    mediator = c.attr("mediator_id")
    if mediator == c.actor.id:
        return f"Mediator {mediator} took the case."
    return f"{_who(c)} assigned mediator {mediator} to the case."


def _mediated(c: Change) -> str:
    outcome = str(c.attr("outcome"))
    words = _OUTCOMES.get(outcome, outcome.replace("_", " "))
    amount = c.attr("amount")
    money = f" of {_money(amount)}" if amount is not None else ""
    return f"{_who(c)} decided: {words}{money}. Reason: “{_excerpt(c.attr('rationale'))}”"


def _return_received(c: Change) -> str:
    condition = c.attr("condition")
    if condition == "as_sent":
        return "The merchant received the returned goods as sent."
    if condition == "damaged":
        return "The merchant reports the returned goods arrived damaged; the platform will look at it."
    return "The merchant reports the return has not arrived; the platform will look at it."


def _deadline_missed(c: Change) -> str:
    name = str(c.attr("deadline"))
    return f"The time for {_DEADLINES.get(name, name)} ran out on {_when(c.attr('due_at'))}."


def _appeal_decided(c: Change) -> str:
    if c.attr("outcome") == "upheld":
        return f"{_who(c)} upheld the decision on appeal: “{_excerpt(c.attr('rationale'))}”"
    outcome = str(c.attr("new_outcome"))
    words = _OUTCOMES.get(outcome, outcome.replace("_", " "))
    amount = c.attr("amount")
    money = f" of {_money(amount)}" if amount is not None else ""
    return f"{_who(c)} overturned the decision on appeal: {words}{money}. Reason: “{_excerpt(c.attr('rationale'))}”"


_TEXTS: dict[str, Callable[[Change], str]] = {
    "ClaimOpened": _opened,
    "MerchantResponded": _responded,
    "OfferAnswered": _offer_answered,
    "MessagePosted": lambda c: f"{_who(c)} wrote: “{_excerpt(c.attr('body'))}”",
    "EvidenceAdded": lambda c: (
        f"{_who(c)} added evidence ({c.attr('kind')}): {_excerpt(c.attr('description'))}"
    ),
    "MediationRequested": lambda c: (
        f"{_who(c)} asked the platform to step in: “{_excerpt(c.attr('reason'))}”"
    ),
    "MediatorAssigned": _assigned,
    "EvidenceRequested": lambda c: (
        f"{_who(c)} asked the {c.attr('from_party')} for evidence by {_when(c.attr('due_at'))}: "
        f"{_excerpt(c.attr('description'))}"
    ),
    "Mediated": _mediated,
    "ReturnShipped": lambda c: (
        f"The buyer shipped the return with {c.attr('carrier')} (tracking {c.attr('tracking_number')})."
    ),
    "ReturnReceived": _return_received,
    "Refunded": lambda c: f"{_who(c)} refunded {_money(c.attr('amount'))} (payment {c.attr('payment_reference')}).",
    "DeadlineMissed": _deadline_missed,
    "EscalatedToLegal": lambda c: (
        f"{_who(c)} took the case to court or arbitration: “{_excerpt(c.attr('reason'))}”"
    ),
    "LegalOutcomeRecorded": lambda c: (
        f"The legal outcome was recorded: {_excerpt(c.attr('outcome'))} (reference {c.attr('reference')})."
    ),
    "Withdrawn": lambda c: f"The buyer withdrew the claim: “{_excerpt(c.attr('reason'))}”",
    "Closed": lambda c: f"{_who(c)} closed the case: “{_excerpt(c.attr('summary'))}”",
    # The deadline engine's outcomes (rule: the policy rule that produced them).
    "AcceptedByDefault": lambda c: f"The merchant did not answer in time, so the claim is accepted ({c.attr('rule')}).",
    "OfferLapsed": lambda c: f"The offer lapsed unanswered; the buyer may still ask the platform ({c.attr('rule')}).",
    "ClosedByDefault": lambda c: f"The platform closed the case after the time ran out ({c.attr('rule')}).",
    "MediationForced": lambda c: f"The platform stepped in: the refund is late ({c.attr('rule')}).",
    "Flagged": lambda c: f"The platform flagged the case for a decision first ({c.attr('rule')}).",
    "Appealed": lambda c: f"{_who(c)} appealed the decision: “{_excerpt(c.attr('reason'))}”",
    "AppealDecided": _appeal_decided,
    "DeadlinesFixed": lambda c: "The platform fixed the open time limits as the policy in force sets them.",
}


def describe(change: Change) -> str:
    """One sentence for a party: what happened."""
    text = _TEXTS.get(change.type)
    return text(change) if text else f"{change.type} by {change.actor}."


def _due(state: ClaimState, name: str) -> str | None:
    for deadline in state.deadlines:
        if deadline.name == name:
            return time_text(deadline.due_at)
    return None


def next_steps(state: ClaimState) -> list[dict[str, str | None]]:
    """What happens next, who acts and by when (``due_at`` null when no time limit applies)."""
    status = state.status

    def step(who: str, text: str, deadline: str | None = None) -> dict[str, str | None]:
        return {"who": who, "text": text, "due_at": _due(state, deadline) if deadline else None}

    if status == S.AWAITING_MERCHANT:
        return [step("merchant", "The merchant accepts, rejects or offers a partial refund.", "merchant_response")]
    if status == S.OFFER_PENDING:
        return [step("buyer", "The buyer accepts or declines the merchant's offer.", "offer_answer")]
    if status in (S.MERCHANT_REJECTED, S.OFFER_DECLINED):
        return [step("buyer", "The buyer may ask the platform to mediate.", "mediation_request")]
    if status == S.UNDER_MEDIATION:
        steps = [
            step(
                deadline_party(d.name),
                f"The {deadline_party(d.name)} sends the evidence the mediator asked for.",
                d.name,
            )
            for d in state.deadlines
            if d.name.startswith("evidence_from_")
        ]
        if state.mediator_id is None:
            steps.append(step("platform", "A mediator takes the case."))
        else:
            steps.append(step("mediator", f"Mediator {state.mediator_id} decides the case."))
        return steps
    if status == S.AWAITING_RETURN:
        return [step("buyer", "The buyer ships the goods back.", "return_shipment")]
    if status == S.RETURN_IN_TRANSIT:
        return [step("merchant", "The merchant confirms the returned goods have arrived.")]
    if status == S.REFUND_PENDING:
        owed = (state.agreed_amount or state.claimed_amount) - state.refunded_amount
        return [step("merchant", f"The merchant refunds {owed} {state.currency}.", "merchant_refund")]
    if status == S.FULFILMENT_PENDING:
        return [step("merchant", "The merchant sends the exchange or completes the repair.")]
    if status == S.UNDER_APPEAL:
        return [step("mediator", "Another mediator decides the appeal.", "appeal_decision")]
    if status == S.ESCALATED_TO_LEGAL:
        return [step("platform", "The court or arbitrator decides; the platform records the outcome.")]
    if status in (S.REFUNDED, S.CLAIM_REJECTED, S.LEGAL_CONCLUDED):
        if state.mediator_id is not None:
            return [step("mediator", f"Mediator {state.mediator_id} closes the case.")]
        return []
    return []  # withdrawn, closed: nothing more happens


WORDED_EVENTS = frozenset(_TEXTS)
"""The event types :func:`describe` has words for."""
