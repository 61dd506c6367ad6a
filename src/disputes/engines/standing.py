"""The standing engine: after the scorecard view moves, each merchant it moved for is reviewed, and
its standing records ``Warned``, ``Restricted`` or ``Reinstated`` when the figures crossed a tier.

A merchant's standing moves only once its scorecard has the policy's minimum of decided claims within
the policy's window (``[limits] standing_min_decided``, ``standing_window``; rule
``standing-minimum-sample``): until then the engine holds it where it is.

It reads which merchants have new scorecard facts since its last round, computes their scorecards
(the same code as ``GET /merchants/{id}/scorecard``) and hands the figures to the merchant's
standing, which decides. A standing that already shows the figures' tier records nothing, and of two
engines racing on one merchant the second loses the save's optimistic-concurrency check: it reloads,
finds the crossing recorded, and records nothing. So several engines may run against one store, and
each crossing is recorded once.

How far the merchants were reviewed is kept in ``projection_positions`` under the name
``standing-engine@<policy version>``, so a restarted engine reviews only the merchants whose facts moved
since, and an engine under a new policy version (whose thresholds may put merchants in other tiers)
reviews every merchant with facts once. The kept position only ever grows, whichever engine writes it;
a round that fails is not kept, and reviewing a merchant twice records nothing twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from disputes.application.claims import DisputesApplication
from disputes.application.simulation import StandingWhatIf
from disputes.application.standing import MerchantStandings
from disputes.domain import errors
from disputes.domain.policy import STANDING_SAMPLE_RULE, Policy
from disputes.domain.standing import StandingFigures, Tier
from disputes.engines.loop import ViewEngine
from projections.runner import ensure_positions, read_positions
from projections.scorecard import Sample, Thresholds, merchant_scorecard
from projections.store import ViewConnection, ViewStore, time_text

log = logging.getLogger("disputes.standing")
RACE_RETRIES = 3
"""Reviews of one merchant after losing a save to another writer (an engine, a mediator's decision)."""


REVIEW_POSITION_PREFIX = "standing-engine@"
CLAIM_IDS_RECORDED = 1000
"""The claim ids behind each figure that a crossing records, first seen first (the counts are whole)."""


class StandingView:
    MERCHANTS_MOVED = (
        "SELECT DISTINCT merchant_id FROM read_scorecard_facts WHERE position > ? AND position <= ? "
        "ORDER BY merchant_id"
    )
    MERCHANTS = "SELECT DISTINCT merchant_id FROM read_scorecard_facts ORDER BY merchant_id"
    KEEP_REVIEWED = (
        "UPDATE projection_positions SET position = ?, updated_at = ? WHERE name = ? AND position < ?"
    )


@dataclass(frozen=True)
class Recorded:
    merchant_id: str
    event: str
    rule: str
    from_tier: str
    to_tier: str
    position: int | None


@dataclass
class StandingTick:
    recorded: list[Recorded] = field(default_factory=list)
    reviewed: int = 0
    position: int = 0
    """The scorecard view's position the round reviewed up to."""


def _rate(value: float) -> str:
    return f"{value:.4f}"


def standing_figures(card: dict[str, Any], position: int) -> StandingFigures:
    """The figures of a scorecard (``merchant_scorecard``'s answer) that a standing records."""
    claims = card["claims"]
    behind = [*claims["losses"], *claims["interventions"], *(m["claim_id"] for m in claims["deadlines_missed"])]
    return StandingFigures(
        tier=Tier(card["tier"]),
        score=int(card["score"]),
        claims_received=int(card["claims_received"]),
        losses=int(card["losses"]),
        loss_rate=_rate(card["loss_rate"]),
        platform_interventions=int(card["platform_interventions"]),
        intervention_rate=_rate(card["intervention_rate"]),
        deadlines_met=int(card["deadlines_met"]),
        deadlines_missed=int(card["deadlines_missed"]),
        as_of_position=position,
        claim_ids=tuple(dict.fromkeys(behind))[:CLAIM_IDS_RECORDED],
        decided_in_window=sample["decided_in_window"] if (sample := card.get("standing_sample")) else None,
    )


def sample_of(policy: Policy) -> Sample:
    limits = policy.limits
    return Sample(limits.standing_min_decided, limits.standing_window, STANDING_SAMPLE_RULE)


def standing_card(conn: ViewConnection, merchant_id: str, policy: Policy, now: datetime) -> dict[str, Any]:
    """The merchant's scorecard as the engine judges it under ``policy``: its tiers, its minimum sample,
    and the first claim ids behind each figure."""
    return merchant_scorecard(
        conn,
        merchant_id,
        None,
        thresholds=Thresholds(good=policy.scorecard.good_min, watch=policy.scorecard.watch_min),
        response_window=policy.windows.merchant_response,
        claims_limit=CLAIM_IDS_RECORDED,
        sample=sample_of(policy),
        now=now,
    )


def simulate_standings(
    app: DisputesApplication, store: ViewStore, policy: Policy, now: datetime
) -> list[StandingWhatIf]:
    """The merchants whose standing the engine's next round would change under ``policy`` (its tiers and
    minimum sample), from the scorecard view as it stands; nothing is recorded."""
    standings = MerchantStandings(app)
    found = []
    with store.reading() as conn:
        position = read_positions(conn).get("scorecard", 0)
        for (merchant_id,) in conn.query(StandingView.MERCHANTS):
            card = standing_card(conn, str(merchant_id), policy, now)
            if not card["standing_sample"]["enough"]:
                continue
            figures = standing_figures(card, position)
            decided = standings.decide_review(str(merchant_id), figures)  # decided in memory, never saved
            if decided is None:
                continue
            crossing = decided.crossing
            found.append(
                StandingWhatIf(
                    str(merchant_id), crossing.from_tier.value, crossing.to_tier.value, crossing.event,
                    figures.score, int(card["standing_sample"]["decided_in_window"]), figures.claim_ids,
                )
            )
    return found


class StandingEngine(ViewEngine):
    """Reviews the standing of every merchant whose scorecard facts moved since its last round."""

    what = "standing engine"
    logger = log

    def __init__(
        self,
        app: DisputesApplication,
        store: ViewStore,
        *,
        before_tick: Callable[[], Any] | None = None,
        review_every: float = 0.0,
    ) -> None:
        super().__init__(store)
        self.review_every = review_every
        """The least seconds between two rounds that review: a round reads all the scorecard facts of
        each merchant that moved, so a busy merchant is reviewed once a while, not on every tick."""
        self._last_round: float | None = None
        self.standings = MerchantStandings(app)
        self.sample = sample_of(app.policy)
        self.before_tick = before_tick
        """Called first in each tick (the standalone worker catches the scorecard view up there)."""
        self.review_name = REVIEW_POSITION_PREFIX + app.windows.version
        """Where the review position is kept: one per policy version."""
        self.reviewed_to: int | None = None
        """The scorecard view's position up to which every merchant was reviewed (None: not read yet)."""

    def tick(self) -> StandingTick:
        """Review the merchants the scorecard view moved for since the last round (none, sooner than
        ``review_every`` after the last round that reviewed: what moved meanwhile waits for the next)."""
        if self._last_round is not None and time.monotonic() - self._last_round < self.review_every:
            return StandingTick(position=self.reviewed_to or 0)
        if self.before_tick is not None:
            self.before_tick()
        conn = self.conn
        positions = read_positions(conn)
        if self.reviewed_to is None:
            ensure_positions(conn, [self.review_name])
            self.reviewed_to = positions.get(self.review_name, 0)
        upto = positions.get("scorecard", 0)
        result = StandingTick(position=upto)
        if upto <= self.reviewed_to:
            return result
        self._last_round = time.monotonic()
        for (merchant_id,) in conn.query(StandingView.MERCHANTS_MOVED, (self.reviewed_to, upto)):
            result.reviewed += 1
            recorded = self._review(conn, str(merchant_id), upto)
            if recorded is not None:
                log.info(
                    "merchant %s %s (%s -> %s): rule %s",
                    recorded.merchant_id, recorded.event, recorded.from_tier, recorded.to_tier, recorded.rule,
                )
                result.recorded.append(recorded)
        # Only once every merchant of the round is reviewed: a failed round is tried again whole.
        now = time_text(datetime.now(UTC))
        conn.execute(StandingView.KEEP_REVIEWED, (upto, now, self.review_name, upto))
        self.reviewed_to = upto
        return result

    def _review(self, conn: ViewConnection, merchant_id: str, position: int) -> Recorded | None:
        card = standing_card(conn, merchant_id, self.standings.app.policy, self.standings.app.now())
        if not card["standing_sample"]["enough"]:
            # Too few decided claims to judge by: the standing stays as it is (one bad day is no record).
            log.debug(
                "merchant %s: %d decided claim(s) in the window, %d needed (rule %s, policy %s); standing held",
                merchant_id, card["standing_sample"]["decided_in_window"], self.sample.minimum,
                self.sample.rule, self.review_name,
            )
            return None
        figures = standing_figures(card, position)
        for attempt in range(RACE_RETRIES + 1):
            try:
                done = self.standings.review(merchant_id, figures)
            except errors.ConcurrentUpdate:
                log.debug("standing of %s changed meanwhile (attempt %d); reviewing again", merchant_id, attempt)
                continue
            if done is None:
                return None
            saved, crossing = done
            return Recorded(
                merchant_id, crossing.event, crossing.rule.value, crossing.from_tier.value,
                crossing.to_tier.value, saved.position,
            )
        raise errors.ConcurrentUpdate(f"the standing of merchant {merchant_id} kept changing; next round")
