"""Who may see what: the one place every layer asks.

A principal stands in a *relation* to what it asks about (a claim, a merchant's record): the claim's
own buyer, its own merchant, its assigned mediator, or any other principal of its role. A *cell* is a
role and a relation; the sets of cells below say who may know that a thing exists. The permission
matrix of the HTTP API (``disputes.api.auth.permissions``) is written in these cells, the application
checks them again as a second line of defence, and the read models filter their rows by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from disputes.domain.claim import Claim
from disputes.domain.order import Order
from disputes.domain.parties import TOKEN_ROLES, Actor, Role


class Relation(StrEnum):
    """A principal's relation to what it asks about."""

    OWN_BUYER = "own buyer"
    """The buyer who opened the claim."""
    OWN_MERCHANT = "own merchant"
    """The claim's merchant, or the merchant whose record it is."""
    ASSIGNED_MEDIATOR = "assigned mediator"
    """The mediator assigned to the claim."""
    OTHER = "other"
    """Any other principal of its role (another buyer, a mediator not assigned, any auditor, ...)."""


Cell = tuple[Role, Relation]
Who = frozenset[Cell]


def anyone_of(role: Role) -> Who:
    """Every principal of the role, whatever its relation."""
    return frozenset((role, relation) for relation in Relation)


OWN_BUYER: Who = frozenset({(Role.BUYER, Relation.OWN_BUYER)})
OWN_MERCHANT: Who = frozenset({(Role.MERCHANT, Relation.OWN_MERCHANT)})
ASSIGNED_MEDIATOR: Who = frozenset({(Role.MEDIATOR, Relation.ASSIGNED_MEDIATOR)})
BUYER, MERCHANT, MEDIATOR = anyone_of(Role.BUYER), anyone_of(Role.MERCHANT), anyone_of(Role.MEDIATOR)
AUDITOR, REGULATOR, ADMIN = anyone_of(Role.AUDITOR), anyone_of(Role.REGULATOR), anyone_of(Role.ADMIN)
PLATFORM = anyone_of(Role.PLATFORM)
EVERYONE: Who = frozenset().union(*(anyone_of(role) for role in TOKEN_ROLES))
PARTIES: Who = OWN_BUYER | OWN_MERCHANT | ASSIGNED_MEDIATOR
"""Who takes part in a claim: its buyer, its merchant, its assigned mediator."""

CLAIM_VIEWERS: Who = OWN_BUYER | OWN_MERCHANT | MEDIATOR | AUDITOR
"""Who may know that a claim exists: its buyer and merchant, every mediator, every auditor."""
PAST_VIEWERS: Who = MEDIATOR | AUDITOR
"""Who may see a claim as it stood at an earlier version or time."""
ORDER_VIEWERS: Who = PLATFORM | OWN_BUYER | OWN_MERCHANT | MEDIATOR | AUDITOR
"""Who may know that an order is recorded: the platform, its buyer and merchant, mediators, auditors."""
FEED_READERS: Who = AUDITOR | PLATFORM
"""Who may read the event feed (every event of the store, as it is sent out): auditors and the platform."""
MERCHANT_RECORD_VIEWERS: Who = EVERYONE - {(Role.MERCHANT, Relation.OTHER)}
"""Who may know of a merchant's record: everyone but other merchants (it stays between the merchant and
the platform)."""
MERCHANT_RECORD_READERS: Who = OWN_MERCHANT | MEDIATOR | AUDITOR | REGULATOR
"""Who may read a merchant's scorecard and standing."""


SIGNAL_READERS: Who = MEDIATOR | AUDITOR
"""Who may read a claim's signals (what may point at abuse): mediators and auditors. Never the buyer or
the merchant concerned, nor any other buyer or merchant: a signal speaks of a party behind its back."""


def relation_to_parties(
    actor: Actor, *, buyer_id: str, merchant_id: str, mediator_id: str | None = None
) -> Relation:
    """The actor's relation to a claim (or an order) of these parties."""
    if actor.role is Role.BUYER and actor.id == buyer_id:
        return Relation.OWN_BUYER
    if actor.role is Role.MERCHANT and actor.id == merchant_id:
        return Relation.OWN_MERCHANT
    if actor.role is Role.MEDIATOR and mediator_id is not None and actor.id == mediator_id:
        return Relation.ASSIGNED_MEDIATOR
    return Relation.OTHER


def claim_relation(actor: Actor, claim: Claim) -> Relation:
    return relation_to_parties(
        actor, buyer_id=claim.buyer_id, merchant_id=claim.merchant_id, mediator_id=claim.mediator_id
    )


def order_relation(actor: Actor, order: Order | None) -> Relation:
    """The actor's relation to an order (one not recorded: any principal is another one)."""
    if order is None:
        return Relation.OTHER
    return relation_to_parties(actor, buyer_id=order.buyer_id, merchant_id=order.merchant_id)


def merchant_relation(actor: Actor, merchant_id: str) -> Relation:
    """The actor's relation to a merchant's record: the merchant itself, or another principal."""
    own = actor.role is Role.MERCHANT and actor.id == merchant_id
    return Relation.OWN_MERCHANT if own else Relation.OTHER


def may_see_claim(actor: Actor, *, buyer_id: str, merchant_id: str) -> bool:
    """Whether the claim of these parties may be revealed to this principal (else: not found)."""
    return (actor.role, relation_to_parties(actor, buyer_id=buyer_id, merchant_id=merchant_id)) in CLAIM_VIEWERS


def can_view(actor: Actor, claim: Claim) -> bool:
    """Whether the claim's existence may be revealed to this principal."""
    return (actor.role, claim_relation(actor, claim)) in CLAIM_VIEWERS


def may_see_order(actor: Actor, *, buyer_id: str, merchant_id: str) -> bool:
    """Whether the order of these parties may be revealed to this principal (else: not found)."""
    return (actor.role, relation_to_parties(actor, buyer_id=buyer_id, merchant_id=merchant_id)) in ORDER_VIEWERS


def may_see_past(actor: Actor) -> bool:
    """Whether this principal may see a claim (that it may see) as it stood in the past."""
    return all((actor.role, relation) in PAST_VIEWERS for relation in Relation)


def may_read_signals(actor: Actor) -> bool:
    """Whether this principal may read signals (of any claim it may see)."""
    return all((actor.role, relation) in SIGNAL_READERS for relation in Relation)


def may_read_merchant_record(actor: Actor, merchant_id: str) -> bool:
    """Whether this principal may read the merchant's scorecard and standing."""
    return (actor.role, merchant_relation(actor, merchant_id)) in MERCHANT_RECORD_READERS


@dataclass(frozen=True)
class ClaimScope:
    """Which claims a principal may list: every claim, its own as buyer or as merchant, or none."""

    everything: bool = False
    buyer_id: str | None = None
    merchant_id: str | None = None

    @property
    def nothing(self) -> bool:
        return not self.everything and self.buyer_id is None and self.merchant_id is None


def claim_scope(actor: Actor) -> ClaimScope:
    """The claims this principal may list: those of :data:`CLAIM_VIEWERS` it stands in."""
    if all((actor.role, relation) in CLAIM_VIEWERS for relation in Relation):
        return ClaimScope(everything=True)
    if (actor.role, Relation.OWN_BUYER) in CLAIM_VIEWERS:
        return ClaimScope(buyer_id=actor.id)
    if (actor.role, Relation.OWN_MERCHANT) in CLAIM_VIEWERS:
        return ClaimScope(merchant_id=actor.id)
    return ClaimScope()


def may_list_claims(actor: Actor) -> bool:
    return not claim_scope(actor).nothing
