"""Read model "signals": what may point at abuse, for the mediators, each with the claims behind it.

The projection keeps facts (a row per claim, the evidence digests, the orders' deliveries); the signals
are computed when read, under the thresholds of the policy in force (``[signals]``), so a new policy
needs no rebuild. Every query is an index range (buyer and time, merchant, digest, order), so a claim's
signals cost a handful of index look-ups however large the store. The signals:

| signal | on a claim when |
|---|---|
| serial_refund_only | it is refund-only, and its buyer opened at least N refund-only claims against M merchants within the window either side of it |
| silence_wins | its buyer has at least N claims and at least the share of them were won by the merchant's silence |
| shared_evidence | one of its buyer's evidence digests is attached by buyers to claims of other buyers or other orders |
| not_received_delivered | it claims not received, and the platform recorded its order delivered |
| near_total_burst | it claims near its order's total, as its buyer did on N orders within the window |
| reject_then_lose | its merchant rejected at least N claims and then lost at least the rate of them in mediation |

A signal is for people to weigh: it decides nothing, and only mediators and auditors see it
(:func:`disputes.application.visibility.may_read_signals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from disputes.domain.order import PLATFORM
from disputes.domain.policy import SignalThresholds
from disputes.domain.vocabulary import ClaimKind, ClaimReason, MerchantDecision, Outcome
from disputes.i18n import duration_words, text
from projections.changes import Change, OtherEvent
from projections.runner import Projection
from projections.store import Table, ViewConnection, amount_text, text_time, time_text

SEVERITY = {
    "serial_refund_only": "high",
    "silence_wins": "medium",
    "shared_evidence": "high",
    "not_received_delivered": "high",
    "near_total_burst": "medium",
    "reject_then_lose": "medium",
}
SIGNALS: tuple[str, ...] = tuple(SEVERITY)
CLAIMS_SHOWN = 100
"""Claim ids a signal lists at most (its figures count them all)."""

_CLAIM_COLUMNS = (
    "claim_id", "buyer_id", "merchant_id", "order_id", "ledger_id", "kind", "reason", "currency",
    "order_amount", "claimed_amount", "opened_at",
)


class SignalsView:
    CLAIMS = Table("read_signal_claims", _CLAIM_COLUMNS, ("claim_id",))
    ADD_CLAIM = CLAIMS.insert_sql + " ON CONFLICT (claim_id) DO NOTHING"
    """A claim's row is written once, at its opening: nothing of it changes but the flags below."""
    EVIDENCE = Table("read_signal_evidence", ("position", "seq", "claim_id", "sha256"), ("position", "seq"))
    DELIVERIES = Table("read_signal_deliveries", ("ledger_id", "delivered_at"), ("ledger_id",))
    MARK_SILENCE_WIN = "UPDATE read_signal_claims SET silence_win = 1 WHERE claim_id = ?"
    MARK_REJECTED = "UPDATE read_signal_claims SET merchant_rejected = 1 WHERE claim_id = ?"
    SET_LOST = "UPDATE read_signal_claims SET lost_after_reject = ? WHERE claim_id = ? AND merchant_rejected = 1"

    CLAIM = (
        "SELECT buyer_id, merchant_id, order_id, ledger_id, kind, reason, opened_at, claimed_amount, "
        "order_amount FROM read_signal_claims WHERE claim_id = ?"
    )
    BUYER_CLAIMS_AROUND = (
        "SELECT claim_id, merchant_id, order_id, kind, claimed_amount, order_amount FROM read_signal_claims "
        "WHERE buyer_id = ? AND opened_at >= ? AND opened_at <= ? ORDER BY opened_at, claim_id"
    )
    BUYER_SILENCE = "SELECT COUNT(*), SUM(silence_win) FROM read_signal_claims WHERE buyer_id = ?"
    BUYER_SILENCE_CLAIMS = (
        "SELECT claim_id FROM read_signal_claims WHERE buyer_id = ? AND silence_win = 1 "
        "ORDER BY opened_at, claim_id LIMIT ?"
    )
    SHARED_EVIDENCE = (
        "SELECT DISTINCT other.sha256, other.claim_id, c.buyer_id, c.order_id FROM read_signal_evidence own "
        "JOIN read_signal_evidence other ON other.sha256 = own.sha256 AND other.claim_id <> own.claim_id "
        "JOIN read_signal_claims c ON c.claim_id = other.claim_id WHERE own.claim_id = ? "
        "ORDER BY other.sha256, other.claim_id"
    )
    DELIVERED = "SELECT delivered_at FROM read_signal_deliveries WHERE ledger_id = ?"
    MERCHANT_REJECTIONS = (
        "SELECT COUNT(*), SUM(lost_after_reject) FROM read_signal_claims WHERE merchant_id = ? AND merchant_rejected = 1"
    )
    MERCHANT_LOST = (
        "SELECT claim_id FROM read_signal_claims WHERE merchant_id = ? AND merchant_rejected = 1 "
        "AND lost_after_reject = 1 ORDER BY opened_at, claim_id LIMIT ?"
    )


class SignalsProjection(Projection):
    name = "signals"
    tables = ("read_signal_claims", "read_signal_evidence", "read_signal_deliveries")
    claims_only = False
    """Orders' deliveries are facts of the not-received signal."""

    def process(self, changes: Sequence[Change | OtherEvent], tx: ViewConnection) -> None:
        opened: list[tuple[Any, ...]] = []
        evidence: list[tuple[Any, ...]] = []
        deliveries: dict[str, str] = {}
        silence: list[tuple[str]] = []
        rejected: list[tuple[str]] = []
        lost: list[tuple[int, str]] = []
        for change in changes:
            if isinstance(change, OtherEvent):
                delivered_at = getattr(change.event, "delivered_at", None)
                # The platform's record only: a claimant's own order holds the buyer's word.
                platforms = change.type == "DeliveryRecorded" or getattr(change.event, "source", None) == PLATFORM
                if change.type in ("OrderRecorded", "DeliveryRecorded") and platforms and delivered_at is not None:
                    deliveries[str(change.event.originator_id)] = time_text(delivered_at)
                continue
            state, claim_id = change.after, change.after.claim_id
            kind = change.type
            if change.before is None:
                ledger = change.attr("ledger_id")
                opened.append((
                    claim_id, state.buyer_id, state.merchant_id, state.order_id,
                    None if ledger is None else str(ledger), state.kind, state.reason, state.currency,
                    amount_text(state.order_amount), amount_text(state.claimed_amount), time_text(state.opened_at),
                ))
            elif kind == "EvidenceAdded" and change.attr("party") == "buyer":
                # A buyer's evidence: a merchant's one packing photo on many claims is no sign of abuse.
                evidence.append((change.position, 0, claim_id, str(change.attr("sha256"))))
            elif kind == "AcceptedByDefault":
                silence.append((claim_id,))
            elif kind == "MerchantResponded" and change.attr("decision") == MerchantDecision.REJECT:
                rejected.append((claim_id,))
            elif kind == "Mediated":
                lost.append((int(change.attr("outcome") != Outcome.CLAIM_REJECTED), claim_id))
            elif kind == "AppealDecided" and change.attr("outcome") == "overturned":
                lost.append((int(change.attr("new_outcome") != Outcome.CLAIM_REJECTED), claim_id))
        tx.executemany(SignalsView.ADD_CLAIM, opened)
        tx.insert_rows(SignalsView.EVIDENCE, evidence)
        tx.upsert_rows(SignalsView.DELIVERIES, sorted(deliveries.items()))
        tx.executemany(SignalsView.MARK_SILENCE_WIN, silence)
        tx.executemany(SignalsView.MARK_REJECTED, rejected)
        tx.executemany(SignalsView.SET_LOST, lost)


# --- reading the signals -----------------------------------------------------------------------------


def _share(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else Decimal(0)


@dataclass
class SignalReader:
    """The signals of claims under the policy's thresholds, in one language; buyers' and merchants'
    figures are read once per reader (one request)."""

    conn: ViewConnection
    thresholds: SignalThresholds
    policy_version: str
    lang: str = "en"
    _buyers: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _merchants: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def names(self, claim_ids: Sequence[str]) -> dict[str, list[str]]:
        """Each claim's signal names (none for a claim the view does not know)."""
        return {claim_id: [s["signal"] for s in self.signals(claim_id)] for claim_id in claim_ids}

    def signals(self, claim_id: str) -> list[dict[str, Any]]:
        """The claim's signals: [{signal, severity, explanation, claims, digests, figures, policy_version}]."""
        row = self.conn.one(SignalsView.CLAIM, (claim_id,))
        if row is None:
            return []
        buyer_id, merchant_id, order_id, ledger_id, kind, reason, opened_at, claimed, total = row
        opened = text_time(str(opened_at))
        found = [
            self._serial(claim_id, buyer_id, kind, opened),
            self._buyer_silence(buyer_id),
            self._shared_evidence(claim_id, buyer_id, order_id),
            self._not_received(claim_id, reason, ledger_id),
            self._near_total(claim_id, buyer_id, Decimal(claimed), Decimal(total), opened),
            self._merchant(merchant_id),
        ]
        return [signal for signal in found if signal is not None]

    def _signal(
        self, name: str, claims: Sequence[str], figures: dict[str, Any], digests: Sequence[str] = (), /, **words: Any
    ) -> dict[str, Any]:
        return {
            "signal": name,
            "severity": SEVERITY[name],
            "explanation": text(self.lang, f"signals.{name}", **words),
            "claims": list(claims[:CLAIMS_SHOWN]),
            "digests": list(digests),
            "figures": figures,
            "policy_version": self.policy_version,
        }

    def _window(self, window: timedelta) -> str:
        return duration_words(window, self.lang)

    def _around(self, buyer_id: str, opened: datetime, window: timedelta) -> list[Any]:
        return self.conn.query(
            SignalsView.BUYER_CLAIMS_AROUND, (buyer_id, time_text(opened - window), time_text(opened + window))
        )

    def _serial(self, claim_id: str, buyer_id: str, kind: str, opened: datetime) -> dict[str, Any] | None:
        t = self.thresholds
        if kind != ClaimKind.REFUND_ONLY:
            return None
        rows = [r for r in self._around(buyer_id, opened, t.serial_refund_only_window) if r[3] == ClaimKind.REFUND_ONLY]
        merchants = {r[1] for r in rows}
        if len(rows) < t.serial_refund_only_claims or len(merchants) < t.serial_refund_only_merchants:
            return None
        return self._signal(
            "serial_refund_only",
            [r[0] for r in rows],
            {"claims": len(rows), "merchants": len(merchants)},
            count=len(rows),
            merchants=len(merchants),
            window=self._window(t.serial_refund_only_window),
            min_claims=t.serial_refund_only_claims,
            min_merchants=t.serial_refund_only_merchants,
        )

    def _buyer_silence(self, buyer_id: str) -> dict[str, Any] | None:
        if buyer_id not in self._buyers:
            t = self.thresholds
            self._buyers[buyer_id] = self._share_signal(
                "silence_wins",
                buyer_id,
                (SignalsView.BUYER_SILENCE, SignalsView.BUYER_SILENCE_CLAIMS),
                (t.silence_wins_min_claims, t.silence_wins_share),
                ("claims", "silence_wins", "share"),
            )
        return self._buyers[buyer_id]

    def _share_signal(
        self,
        name: str,
        subject: str,
        sql: tuple[str, str],
        threshold: tuple[int, Decimal],
        figures: tuple[str, str, str],
    ) -> dict[str, Any] | None:
        """A signal when ``part`` of ``whole`` claims (``sql``: their count, the part's ids) reaches the
        threshold's share, from its minimum whole on."""
        minimum, min_share = threshold
        whole, part = self.conn.one(sql[0], (subject,)) or (0, 0)
        whole, part = int(whole or 0), int(part or 0)
        share = _share(part, whole)
        if whole < minimum or not part or share < min_share:
            return None
        ids = [r[0] for r in self.conn.query(sql[1], (subject, CLAIMS_SHOWN))]
        counted = dict(zip(figures, (whole, part, str(share)), strict=True))
        return self._signal(
            name, ids, counted, whole=whole, part=part, share=share, min_share=min_share, minimum=minimum
        )

    def _shared_evidence(self, claim_id: str, buyer_id: str, order_id: str) -> dict[str, Any] | None:
        others = [
            (digest, other)
            for digest, other, other_buyer, other_order in self.conn.query(SignalsView.SHARED_EVIDENCE, (claim_id,))
            if other_buyer != buyer_id or other_order != order_id
        ]
        claims = list(dict.fromkeys(other for _, other in others))
        if len(claims) + 1 < self.thresholds.shared_evidence_min_claims:
            return None
        digests = sorted({digest for digest, _ in others})
        return self._signal(
            "shared_evidence", [claim_id, *claims], {"claims": len(claims) + 1}, digests, count=len(claims)
        )

    def _not_received(self, claim_id: str, reason: str, ledger_id: str | None) -> dict[str, Any] | None:
        if reason != ClaimReason.NOT_RECEIVED or ledger_id is None:
            return None
        row = self.conn.one(SignalsView.DELIVERED, (ledger_id,))
        if row is None:
            return None
        delivered_at = str(row[0])
        return self._signal(
            "not_received_delivered", [claim_id], {"delivered_at": delivered_at}, delivered_at=delivered_at
        )

    def _near_total(
        self, claim_id: str, buyer_id: str, claimed: Decimal, total: Decimal, opened: datetime
    ) -> dict[str, Any] | None:
        t = self.thresholds
        if claimed < total * t.near_total_ratio:
            return None
        rows = [
            r for r in self._around(buyer_id, opened, t.near_total_window)
            if Decimal(r[4]) >= Decimal(r[5]) * t.near_total_ratio
        ]
        orders = {r[2] for r in rows}
        if len(orders) < t.near_total_orders:
            return None
        return self._signal(
            "near_total_burst",
            [r[0] for r in rows],
            {"claims": len(rows), "orders": len(orders)},
            ratio=t.near_total_ratio,
            orders=len(orders),
            window=self._window(t.near_total_window),
            min_orders=t.near_total_orders,
        )

    def _merchant(self, merchant_id: str) -> dict[str, Any] | None:
        if merchant_id not in self._merchants:
            t = self.thresholds
            self._merchants[merchant_id] = self._share_signal(
                "reject_then_lose",
                merchant_id,
                (SignalsView.MERCHANT_REJECTIONS, SignalsView.MERCHANT_LOST),
                (t.reject_then_lose_min_rejections, t.reject_then_lose_rate),
                ("rejections", "lost", "rate"),
            )
        return self._merchants[merchant_id]
