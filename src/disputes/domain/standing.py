"""The MerchantStanding aggregate: what the platform holds against a merchant, from its scorecard.

One per merchant (its id follows from the merchant id). The standing engine reports the scorecard's
tier; when the figures cross into another tier the standing records ``Warned`` (good -> watch),
``Restricted`` (-> restricted) or ``Reinstated`` (to a better tier), with the figures that caused it,
the policy version and the rule's name. A warned or restricted merchant may appeal once per such
change; a mediator upholds it (nothing changes) or overturns it: the standing goes back to the tier
before the change, and stays there until the figures cross into another tier.

Every event carries its actor and time as arguments: replaying them needs no clock and no policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from disputes.domain import errors
from disputes.domain.parties import Actor, Role
from disputes.domain.vocabulary import AppealOutcome

STANDING_ID_NAMESPACE = UUID("0b7f2f54-2c4e-4a55-8a3b-51e0e8f3d6a2")
"""Standing ids are ``uuid5(STANDING_ID_NAMESPACE, merchant_id)``: one standing per merchant."""
STANDING_ENGINE = Actor(Role.SYSTEM, "standing-engine")
"""Who records the crossings of a scorecard's tiers."""


def standing_id_for(merchant_id: str) -> UUID:
    return uuid5(STANDING_ID_NAMESPACE, merchant_id)


OVERTURN_RULE = "standing-appeal-overturned"
"""The rule an overturned appeal of a warning or restriction applies: the tier before it is restored."""


class Tier(StrEnum):
    """The scorecard's tiers, best first."""

    GOOD = "good"
    WATCH = "watch"
    RESTRICTED = "restricted"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Tier.GOOD: 0, Tier.WATCH: 1, Tier.RESTRICTED: 2}


class Rule(StrEnum):
    """The names of the rules the standing engine applies (recorded on each of its events)."""

    WARN = "scorecard-watch-warns"
    RESTRICT = "scorecard-restricted-restricts"
    REINSTATE = "scorecard-recovered-reinstates"


@dataclass(frozen=True)
class StandingFigures:
    """The scorecard figures behind a crossing, as the engine read them (rates are decimal strings)."""

    tier: Tier
    score: int
    claims_received: int
    losses: int
    loss_rate: str
    platform_interventions: int
    intervention_rate: str
    deadlines_met: int
    deadlines_missed: int
    as_of_position: int
    """The scorecard view's position in the notification log when it was read."""
    claim_ids: tuple[str, ...] = ()
    """The claims behind the penalties: losses, interventions and missed deadlines, first seen first."""
    decided_in_window: int | None = None
    """The decided claims within the policy's sample window (the minimum sample was met)."""

    def as_data(self) -> dict[str, Any]:
        sample = {} if self.decided_in_window is None else {"decided_in_window": self.decided_in_window}
        return sample | {
            "tier": self.tier.value,
            "score": self.score,
            "claims_received": self.claims_received,
            "losses": self.losses,
            "loss_rate": self.loss_rate,
            "platform_interventions": self.platform_interventions,
            "intervention_rate": self.intervention_rate,
            "deadlines_met": self.deadlines_met,
            "deadlines_missed": self.deadlines_missed,
            "as_of_position": self.as_of_position,
        }


@dataclass(frozen=True)
class Crossing:
    """What the engine records for a change of the figures' tier: the event, its rule, the tiers."""

    event: str
    rule: Rule
    from_tier: Tier
    to_tier: Tier


def crossing(standing: Tier, figures_before: Tier, figures_now: Tier) -> Crossing | None:
    """The event a change of the figures' tier calls for, or None when the figures stay in their tier.

    ``standing`` is the merchant's standing now (after an overturned appeal it may differ from
    ``figures_before``, the tier of the figures the last crossing recorded). Worse than the standing:
    ``Warned`` into watch, ``Restricted`` into restricted; otherwise ``Reinstated`` (the figures improved:
    a restricted merchant whose figures reach watch has the restriction lifted but stays warned).
    """
    if figures_now == figures_before:
        return None
    if figures_now.rank > standing.rank:
        if figures_now is Tier.WATCH:
            return Crossing("Warned", Rule.WARN, standing, figures_now)
        return Crossing("Restricted", Rule.RESTRICT, standing, figures_now)
    return Crossing("Reinstated", Rule.REINSTATE, standing, figures_now)


class MerchantStanding(Aggregate):
    """A merchant's standing: its tier, since when, the figures behind it and any open appeal."""

    @staticmethod
    def create_id(merchant_id: str, actor: Actor, timestamp: datetime) -> UUID:
        return standing_id_for(merchant_id)

    @classmethod
    def open(cls, *, merchant_id: str, actor: Actor, at: datetime) -> MerchantStanding:
        """A standing in good tier; the engine opens one at a merchant's first crossing, in the same save."""
        Actor(Role.MERCHANT, merchant_id)  # validates the id's form
        return cls(merchant_id=merchant_id, actor=actor, timestamp=at)

    @event("StandingOpened")
    def __init__(self, *, merchant_id: str, actor: Actor, timestamp: datetime) -> None:
        self.merchant_id = merchant_id
        self.tier = Tier.GOOD.value
        self.figures_tier = Tier.GOOD.value
        """The tier of the figures the last crossing recorded (what the engine compares with)."""
        self.since = timestamp
        self.figures: dict[str, Any] | None = None
        self.claim_ids: list[str] = []
        self.last_change: dict[str, Any] | None = None
        """The latest crossing: {type, version, from_tier, to_tier, rule, policy_version}."""
        self.appeal: dict[str, Any] | None = None
        """The open appeal: {merchant_id, reason, lodged_at, against, against_version}."""
        self.appeal_decided = False
        """The latest crossing's appeal was decided (one appeal per crossing)."""

    # ----------------------------------------------------------------------------------------------
    # the engine
    # ----------------------------------------------------------------------------------------------
    def review(self, *, figures: StandingFigures, actor: Actor, policy_version: str, at: datetime) -> Crossing | None:
        """Record the crossing the figures call for, if any; an open appeal of the old standing lapses.

        Figures read at an earlier log position than those the standing last recorded are ignored: a
        scorecard view being rebuilt shows the past, not a new crossing.
        """
        if actor.role is not Role.SYSTEM:
            raise self._refuse(errors.NotPermitted, f"{actor} may not change a standing by figures")
        if self.figures is not None and figures.as_of_position < int(self.figures["as_of_position"]):
            return None  # older than the figures last recorded (a view being rebuilt): nothing to act on
        found = crossing(Tier(self.tier), Tier(self.figures_tier), figures.tier)
        if found is None:
            return None
        event_class = {"Warned": self.Warned, "Restricted": self.Restricted, "Reinstated": self.Reinstated}
        self.trigger_event(
            event_class[found.event],
            actor=actor,
            from_tier=found.from_tier.value,
            to_tier=found.to_tier.value,
            figures=figures.as_data(),
            claim_ids=list(figures.claim_ids),
            policy_version=policy_version,
            rule=found.rule.value,
            lapsed_appeal=self.appeal is not None,
            timestamp=at,
        )
        return found

    class Crossed(Aggregate.Event):
        """The figures crossed into another tier: what the three crossing events share."""

        actor: Actor
        from_tier: str
        to_tier: str
        figures: dict[str, Any]
        claim_ids: list[str]
        policy_version: str
        rule: str
        lapsed_appeal: bool
        """An open appeal of the standing before this change ended with it, undecided."""

        def apply(self, aggregate: Any) -> None:
            aggregate.tier = self.to_tier
            aggregate.figures_tier = self.to_tier
            aggregate.since = self.timestamp
            aggregate.figures = dict(self.figures)
            aggregate.claim_ids = list(self.claim_ids)
            aggregate.last_change = {
                "type": type(self).__name__,
                "version": self.originator_version,
                "from_tier": self.from_tier,
                "to_tier": self.to_tier,
                "rule": self.rule,
                "policy_version": self.policy_version,
            }
            aggregate.appeal = None
            aggregate.appeal_decided = False

    class Warned(Crossed):
        """good -> watch."""

    class Restricted(Crossed):
        """good or watch -> restricted."""

    class Reinstated(Crossed):
        """To a better tier: restricted -> watch lifts the restriction, -> good clears the standing."""

    # ----------------------------------------------------------------------------------------------
    # appeals
    # ----------------------------------------------------------------------------------------------
    @property
    def appealable(self) -> bool:
        """A warning or restriction stands and has not been appealed and decided."""
        change = self.last_change
        return (
            change is not None
            and change["type"] in ("Warned", "Restricted")
            and self.tier == change["to_tier"]
            and not self.appeal_decided
        )

    def view(self) -> dict[str, Any]:
        """The standing as the API shows it."""
        return {
            "merchant_id": self.merchant_id,
            "version": self.version,
            "tier": self.tier,
            "since": self.since,
            "figures": self.figures,
            "claim_ids": self.claim_ids,
            "last_change": self.last_change,
            "appeal": self.appeal,
            "appealable": self.appealable and self.appeal is None,
        }

    def lodge_appeal(self, *, actor: Actor, reason: str, at: datetime) -> None:
        if not (actor.role is Role.MERCHANT and actor.id == self.merchant_id):
            raise self._refuse(errors.NotStandingMerchant, f"{actor} is not this standing's merchant")
        if not reason.strip():
            raise self._refuse(errors.InvalidValue, "an appeal needs a reason")
        if self.appeal is not None:
            raise self._refuse(errors.AppealAlreadyOpen, "an appeal of this standing is open already")
        if self.appeal_decided:
            raise self._refuse(
                errors.AppealAlreadyDecided, "the appeal of the latest change was decided; it may not be appealed again"
            )
        change = self.last_change
        if change is None or not self.appealable:
            raise self._refuse(
                errors.NothingToAppeal, f"the standing is {self.tier}; only a warning or restriction may be appealed"
            )
        self._appeal_lodged(
            actor=actor, reason=reason, against=str(change["type"]), against_version=int(change["version"]), timestamp=at
        )

    @event("AppealLodged")
    def _appeal_lodged(
        self, actor: Actor, reason: str, against: str, against_version: int, timestamp: datetime
    ) -> None:
        self.appeal = {
            "merchant_id": actor.id,
            "reason": reason,
            "lodged_at": timestamp,
            "against": against,
            "against_version": against_version,
        }

    def decide_appeal(
        self, *, actor: Actor, outcome: AppealOutcome, rationale: str, at: datetime, policy_version: str | None = None
    ) -> None:
        if actor.role is not Role.MEDIATOR:
            raise self._refuse(errors.NotMediator, f"{actor} is not a mediator")
        if self.appeal is None:
            raise self._refuse(errors.NoOpenAppeal, "this standing has no open appeal")
        if not rationale.strip():
            raise self._refuse(errors.InvalidValue, "a decision needs a rationale")
        outcome = AppealOutcome(outcome)
        restored = None
        if outcome is AppealOutcome.OVERTURNED and self.last_change is not None:
            restored = str(self.last_change["from_tier"])
        self._appeal_decided(
            actor=actor,
            outcome=outcome.value,
            rationale=rationale,
            against_version=int(self.appeal["against_version"]),
            restored_tier=restored,
            timestamp=at,
            rule=None if restored is None else OVERTURN_RULE,
            policy_version=policy_version,
        )

    @event("AppealDecided")
    def _appeal_decided(
        self,
        actor: Actor,
        outcome: str,
        rationale: str,
        against_version: int,
        restored_tier: str | None,
        timestamp: datetime,
        rule: str | None = None,
        policy_version: str | None = None,
    ) -> None:
        self.appeal = None
        self.appeal_decided = True
        if restored_tier is not None:
            overturned = self.last_change or {}
            self.tier = restored_tier
            self.since = timestamp
            # The overturn is the latest change, and the figures say which tier holds: no two answers.
            self.last_change = {
                "type": "AppealDecided",
                "version": self.version + 1,  # this event's (the aggregate's moves after the body)
                "outcome": outcome,
                "overturned": overturned.get("type"),
                "overturned_version": against_version,
                "from_tier": overturned.get("to_tier"),
                "to_tier": restored_tier,
                "rule": rule or OVERTURN_RULE,
                "policy_version": policy_version if policy_version is not None else overturned.get("policy_version"),
            }
            if self.figures is not None:
                self.figures = self.figures | {
                    "tier": restored_tier,
                    "scorecard_tier": self.figures.get("scorecard_tier", self.figures.get("tier")),
                }

    # ----------------------------------------------------------------------------------------------
    @staticmethod
    def _refuse(error: type[errors.DisputesError], detail: str) -> errors.DisputesError:
        return error(detail)
