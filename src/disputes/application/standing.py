"""Merchant standing commands and queries, on the claims' own event store and notification log.

Each command is load, decide, save like a claim's: :meth:`MerchantStandings.decide_review` (and the
appeal commands' deciding part) leaves the standing with its new events, :meth:`save` records them, so
the audit chain covers standing events in the same total order as claim events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eventsourcing.application import AggregateNotFoundError

from disputes.application.claims import DisputesApplication
from disputes.application.records import EventRecord, event_record
from disputes.application.visibility import may_read_merchant_record
from disputes.domain import errors
from disputes.domain.parties import Actor, Role
from disputes.domain.standing import (
    STANDING_ENGINE,
    Crossing,
    MerchantStanding,
    StandingFigures,
    Tier,
    standing_id_for,
)
from disputes.domain.vocabulary import AppealOutcome


@dataclass(frozen=True)
class StandingResult:
    """The standing after a command, and the notification-log position of its last new event."""

    standing: MerchantStanding
    position: int | None


@dataclass(frozen=True)
class Review:
    """A crossing the engine decided on: the standing holding its new events, not yet saved."""

    standing: MerchantStanding
    crossing: Crossing


class MerchantStandings:
    """Standing commands for the API and the standing engine, through the application's store."""

    def __init__(self, app: DisputesApplication) -> None:
        self.app = app

    # --- the engine ------------------------------------------------------------------------------
    def decide_review(self, merchant_id: str, figures: StandingFigures) -> Review | None:
        """The crossing the figures call for, decided on the standing (opened if the merchant has none).

        None when the figures stay in the tier the standing last recorded (a merchant without a standing
        is in tier good).
        """
        standing = self._find(merchant_id)
        at = self.app.now()
        if standing is None:
            if figures.tier is Tier.GOOD:
                return None
            standing = MerchantStanding.open(merchant_id=merchant_id, actor=STANDING_ENGINE, at=at)
        found = standing.review(
            figures=figures, actor=STANDING_ENGINE, policy_version=self.app.policy.version, at=at
        )
        return None if found is None else Review(standing, found)

    def review(self, merchant_id: str, figures: StandingFigures) -> tuple[StandingResult, Crossing] | None:
        """Decide and save a review; a lost race raises ConcurrentUpdate and records nothing."""
        decided = self.decide_review(merchant_id, figures)
        if decided is None:
            return None
        return self.save(decided.standing), decided.crossing

    # --- appeals ---------------------------------------------------------------------------------
    def lodge_appeal(self, actor: Actor, merchant_id: str, *, reason: str) -> StandingResult:
        return self._command(
            actor, merchant_id, lambda s: s.lodge_appeal(actor=actor, reason=reason, at=self.app.now())
        )

    def decide_appeal(
        self, actor: Actor, merchant_id: str, *, outcome: AppealOutcome, rationale: str
    ) -> StandingResult:
        return self._command(
            actor,
            merchant_id,
            lambda s: s.decide_appeal(
                actor=actor, outcome=outcome, rationale=rationale, at=self.app.now(),
                policy_version=self.app.policy.version,
            ),
        )

    def _command(
        self, actor: Actor, merchant_id: str, decision: Callable[[MerchantStanding], None]
    ) -> StandingResult:
        standing = self.get(actor, merchant_id)
        if standing is None:
            if actor.role is Role.MEDIATOR:
                raise errors.NoOpenAppeal(f"merchant {merchant_id} has no standing recorded, so no appeal")
            raise errors.NothingToAppeal(f"merchant {merchant_id} is in good standing; nothing to appeal")
        decision(standing)
        return self.save(standing)

    def save(self, standing: MerchantStanding) -> StandingResult:
        return StandingResult(standing, self.app.record(standing, what="standing"))

    # --- queries ---------------------------------------------------------------------------------
    def get(self, actor: Actor, merchant_id: str) -> MerchantStanding | None:
        """The merchant's standing if this actor may see it; None when nothing was ever recorded."""
        self._require_reader(actor, merchant_id)
        return self._find(merchant_id)

    def history(self, actor: Actor, merchant_id: str) -> list[EventRecord]:
        """Every event of the merchant's standing, in order, with its actor and time."""
        self._require_reader(actor, merchant_id)
        return [event_record(e) for e in self.app.events.get(standing_id_for(merchant_id))]

    def _find(self, merchant_id: str) -> MerchantStanding | None:
        Actor(Role.MERCHANT, merchant_id)  # a merchant id's form, or InvalidValue
        try:
            standing: object = self.app.replayed(standing_id_for(merchant_id))
        except AggregateNotFoundError:
            return None
        if not isinstance(standing, MerchantStanding):  # pragma: no cover - ids are namespaced
            return None
        return standing

    @staticmethod
    def _require_reader(actor: Actor, merchant_id: str) -> None:
        if not may_read_merchant_record(actor, merchant_id):
            raise errors.StandingNotFound(f"no standing of merchant {merchant_id} for you")
