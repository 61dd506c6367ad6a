"""One hierarchy of domain errors. Each has a stable ``code`` that the API turns into a problem type.

``status`` is the HTTP status the API should use; the domain itself knows nothing of HTTP, it only
classifies: 409 for a refused state transition, 403 for an actor who may not act, 422 for a bad value.
"""

from __future__ import annotations

from typing import Any


class DisputesError(Exception):
    """Base of every error this program raises on purpose."""

    code = "disputes-error"
    title = "Request refused"
    status = 400
    localised = False
    """True when ``detail`` is written in the request's language already (else it is English)."""

    extra: dict[str, Any] = {}
    """Members the problem carries beside type, title, status and detail (e.g. when to try again)."""
    headers: dict[str, str] = {}
    """Headers of the answer (``Retry-After``)."""

    def __init__(self, detail: str, *, claim_id: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.claim_id = claim_id


class InvalidValue(DisputesError):
    code = "invalid-value"
    title = "Invalid value"
    status = 422


class ClaimError(DisputesError):
    """A rule of the claim refused the command."""

    code = "claim-rule"
    title = "Claim rule violated"
    status = 409


# --- values -----------------------------------------------------------------------------------------
class InvalidAmount(InvalidValue):
    code = "invalid-amount"
    title = "Invalid amount"


class UnknownCurrency(InvalidValue):
    code = "unknown-currency"
    title = "Unknown currency"


class CurrencyMismatch(InvalidValue):
    code = "currency-mismatch"
    title = "Currency does not match the claim"


# --- eligibility at opening -------------------------------------------------------------------------
class ClaimNotEligible(InvalidValue):
    code = "claim-not-eligible"
    title = "Claim not eligible"


class ClaimedAmountExceedsOrder(ClaimNotEligible):
    code = "claimed-amount-exceeds-order"
    title = "Claimed amount exceeds the order amount"


class NoReasonReturnWindowClosed(ClaimNotEligible):
    code = "no-reason-return-window-closed"
    title = "No-reason return window has closed"


class NoReasonReturnNotDelivered(ClaimNotEligible):
    code = "no-reason-return-not-delivered"
    title = "No-reason return needs a delivered order"


class NotReceivedButDelivered(ClaimNotEligible):
    code = "not-received-but-delivered"
    title = "Order is marked delivered"


class OpenClaimExists(ClaimNotEligible):
    """The order's latest claim is neither withdrawn nor closed (one open claim per order)."""

    code = "open-claim-exists"
    title = "This order already has an open claim"


class OrderNotFound(ClaimNotEligible):
    """No order recorded by the platform under this id for this buyer: another buyer's order gets the
    same answer, so nothing reveals that it exists."""

    code = "order-not-found"
    title = "Order not found"


class OrderFactsMismatch(ClaimNotEligible):
    code = "order-facts-mismatch"
    title = "The claim's order facts differ from the recorded order"


class OrderLinesInvalid(ClaimNotEligible):
    code = "order-lines-invalid"
    title = "The claimed lines are not lines of the order"


class ClaimExceedsRefundable(ClaimNotEligible):
    code = "claim-exceeds-refundable"
    title = "Claimed amount exceeds what is left to refund on the claimed lines"


class ClaimsPerOrderExceeded(ClaimNotEligible):
    code = "claims-per-order-exceeded"
    title = "The order has had as many claims as the policy allows"


class ClaimRateLimited(ClaimNotEligible):
    """The buyer opened as many claims as the policy's claim-rate limit allows within its window."""

    code = "claim-rate-limited"
    title = "Too many claims opened in a short time"

    def __init__(
        self, detail: str, *, retry_at: str, retry_after: int, rule: str, policy_version: str, limit: int, window: str
    ) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}
        self.extra: dict[str, Any] = {
            "retry_at": retry_at,
            "rule": rule,
            "policy_version": policy_version,
            "limit": limit,
            "window": window,
        }


class _CapReached:
    """The claim holds as many items of a kind as the policy's ``[limits]`` allow; nothing is recorded.

    A mixin, not a problem type of its own: each cap has one (below), carrying the rule, the policy
    version and the limit.
    """

    def __init__(self, detail: str, *, claim_id: str, rule: str, policy_version: str, limit: int) -> None:
        super().__init__(detail, claim_id=claim_id)  # type: ignore[call-arg]  # the DisputesError beside it
        self.extra: dict[str, Any] = {"rule": rule, "policy_version": policy_version, "limit": limit}


class ClaimMessageLimit(_CapReached, InvalidValue):
    code = "claim-message-limit"
    title = "The claim holds as many messages as the policy allows"


class ClaimEvidenceLimit(_CapReached, InvalidValue):
    code = "claim-evidence-limit"
    title = "The claim holds as many evidence items as the policy allows"


class ClaimAlreadyDecided(ClaimNotEligible):
    code = "claim-already-decided"
    title = "A decided claim covers these lines; appeal it instead"


class DeliveryInFuture(ClaimNotEligible):
    code = "delivery-in-future"
    title = "Delivery time is in the future"


# --- who may act ------------------------------------------------------------------------------------
class NotPermitted(ClaimError):
    code = "not-permitted"
    title = "Actor may not do this"
    status = 403


class NotClaimBuyer(NotPermitted):
    code = "not-claim-buyer"
    title = "Only the claim's buyer may do this"


class NotClaimMerchant(NotPermitted):
    code = "not-claim-merchant"
    title = "Only the claim's merchant may do this"


class NotAssignedMediator(NotPermitted):
    code = "not-assigned-mediator"
    title = "Only the assigned mediator may do this"


class NotAParty(NotPermitted):
    code = "not-a-party"
    title = "Only a party of the claim may do this"


# --- state transitions ------------------------------------------------------------------------------
class ClaimClosed(ClaimError):
    code = "claim-closed"
    title = "Claim is closed"


class InvalidTransition(ClaimError):
    code = "invalid-transition"
    title = "Not possible in the claim's current status"


class MediationRequired(ClaimError):
    code = "mediation-required"
    title = "A decision needs mediation"


class MediatorNotAssigned(ClaimError):
    code = "mediator-not-assigned"
    title = "No mediator is assigned"


class AmountRequired(InvalidValue):
    code = "amount-required"
    title = "An amount is required"


class AmountNotAllowed(InvalidValue):
    code = "amount-not-allowed"
    title = "No amount is allowed here"


class OfferExceedsClaim(ClaimError):
    code = "offer-exceeds-claim"
    title = "Offer is not below the claimed amount"
    status = 422


class DecisionExceedsOrder(ClaimError):
    code = "decision-exceeds-order"
    title = "Decided amount exceeds the order amount"
    status = 422


class DecisionBelowRefunded(ClaimError):
    code = "decision-below-refunded"
    title = "Decided amount is below what was already refunded"
    status = 422


class DecisionExceedsClaim(ClaimError):
    code = "decision-exceeds-claim"
    title = "Decided amount exceeds the claimed amount"
    status = 422


class DecisionFinal(ClaimError):
    code = "decision-final"
    title = "The claim was decided; only an appeal can change the decision"


class ClaimRefunded(ClaimError):
    code = "claim-refunded"
    title = "The claim was refunded; it is finished for the buyer"


class AppealNotAllowed(ClaimError):
    code = "appeal-not-allowed"
    title = "The claim may not be appealed"


class AppealWindowClosed(ClaimError):
    code = "appeal-window-closed"
    title = "The appeal window has closed"


class AppealAlreadyLodged(ClaimError):
    code = "appeal-already-lodged"
    title = "The claim was appealed already"


class SameMediator(ClaimError):
    code = "same-mediator"
    title = "The mediator who decided may not decide the appeal"
    status = 403


class RefundExceedsOrder(ClaimError):
    code = "refund-exceeds-order"
    title = "Refunds would exceed the order amount"


class RefundExceedsAgreed(ClaimError):
    code = "refund-exceeds-agreed"
    title = "Refunds would exceed the agreed amount"


class DuplicatePaymentReference(ClaimError):
    code = "duplicate-payment-reference"
    title = "Payment reference already used on this claim"


class EvidenceDueInPast(InvalidValue):
    code = "evidence-due-in-past"
    title = "Evidence due time is in the past"


# --- orders -----------------------------------------------------------------------------------------
class OrderError(DisputesError):
    """A rule of the order refused the command."""

    code = "order-rule"
    title = "Order rule violated"
    status = 409


class OrderFactsDiffer(OrderError):
    code = "order-facts-differ"
    title = "The order is recorded with other facts"


class DeliveryAlreadyRecorded(OrderError):
    code = "delivery-already-recorded"
    title = "The order's delivery is recorded with another time"


class OrderTotalMismatch(InvalidValue):
    code = "order-total-mismatch"
    title = "The order's total is not the sum of its lines"


class OrderUnknown(DisputesError):
    """The platform asked about an order it never recorded."""

    code = "order-unknown"
    title = "No such order"
    status = 404


# --- application-level ------------------------------------------------------------------------------
class ClaimNotFound(DisputesError):
    code = "claim-not-found"
    title = "Claim not found"
    status = 404


class VersionNotFound(DisputesError):
    code = "version-not-found"
    title = "Claim version not found"
    status = 404


class ConcurrentUpdate(DisputesError):
    """Another command saved this claim first; nothing of this one was recorded."""

    code = "concurrent-update"
    title = "Claim was changed concurrently"
    status = 409


class StaleVersion(DisputesError):
    """The caller's If-Match version is not the claim's current version."""

    code = "stale-version"
    title = "Claim version does not match If-Match"
    status = 412


# --- merchant standing ------------------------------------------------------------------------------
class StandingError(DisputesError):
    """A rule of the merchant's standing refused the command."""

    code = "standing-rule"
    title = "Standing rule violated"
    status = 409


class NotStandingMerchant(StandingError):
    code = "not-standing-merchant"
    title = "Only the merchant may appeal its standing"
    status = 403


class NotMediator(StandingError):
    code = "not-mediator"
    title = "Only a mediator may do this"
    status = 403


class NothingToAppeal(StandingError):
    code = "nothing-to-appeal"
    title = "No warning or restriction to appeal"


class AppealAlreadyOpen(StandingError):
    code = "appeal-already-open"
    title = "An appeal is open already"


class AppealAlreadyDecided(StandingError):
    code = "appeal-already-decided"
    title = "The appeal of this change was decided"


class NoOpenAppeal(StandingError):
    code = "no-open-appeal"
    title = "No open appeal"


class StandingNotFound(DisputesError):
    """Not visible to this principal (another merchant's standing): its existence is not revealed."""

    code = "standing-not-found"
    title = "Standing not found"
    status = 404
