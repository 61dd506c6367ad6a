"""The case file (``GET /claims/{id}/case-file``, ``disputes case-file``): one printable HTML document in
the chosen language with the order, the parties, every event told in plain words with its time and its
chain hash, the evidence digests, the decisions, the refunds and how to verify it all offline.

It is made from the event store itself (not the views), and the seal table for the hashes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from disputes.adapters.database import DatabaseUrl
from disputes.application.claims import DisputesApplication
from disputes.application.html import e, page
from disputes.application.records import event_record
from disputes.audit.chain import seal_reader
from disputes.domain.claim import Claim
from disputes.domain.money import Money
from disputes.domain.parties import Actor, Role
from disputes.i18n import moment, money, text
from projections.changes import ClaimStates
from projections.narration import Narrator
from projections.wording import ROLE_VALUES, describe

NEUTRAL_READER = Actor(Role.AUDITOR, "case-file")
"""The file is told in the third person: it is for a court, not for one party."""


@dataclass(frozen=True)
class Row:
    version: int
    at: datetime
    who: str
    what: str
    hash: str | None
    type: str
    data: dict[str, Any]


def _table(head: Iterable[str] | None, rows: Iterable[Iterable[str]], *, classes: dict[int, str] | None = None) -> str:
    """A table; with ``head`` None, one of facts (the first cell of each row is its name)."""
    classes = classes or {}
    if head is None:
        facts = "".join(f"<tr><th>{e(name)}</th><td>{e(value)}</td></tr>" for name, value in rows)
        return f"<table><tbody>{facts}</tbody></table>"
    head_html = "".join(f"<th>{e(cell)}</th>" for cell in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{classes[i]}">{e(cell)}</td>' if i in classes else f"<td>{e(cell)}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head_html}</tr></thead><tbody>{body}</tbody></table>"


class CaseFile:
    """Builds the case file of one claim in one language."""

    def __init__(self, app: DisputesApplication, database: DatabaseUrl, claim: Claim, language: str) -> None:
        self.app, self.database, self.claim, self.language = app, database, claim, language
        self.zone = app.policy.windows.zone
        self.narrator = Narrator(
            NEUTRAL_READER, claim.buyer_id, claim.merchant_id, claim.mediator_id, language, app.policy
        )

    def t(self, key: str, **params: Any) -> str:
        return text(self.language, "casefile." + key, **params)

    def when(self, at: datetime | None) -> str:
        return self.t("field.none") if at is None else moment(at, self.language, self.zone)

    def amount(self, value: Any) -> str:
        if value is None:
            return self.t("field.none")
        return money(value.amount, value.currency, self.language)

    def rows(self) -> list[Row]:
        claim_id = str(self.claim.id)
        with seal_reader(self.database) as seal:
            hashes = {row.version: row.hash for row in seal.claim_rows(claim_id)}
        states = ClaimStates(self.app, self.app.windows, capacity=1)
        rows = []
        for domain_event in self.app.events.get(self.claim.id):
            change = states.change(0, domain_event)
            code, params = describe(change)
            record = event_record(domain_event)
            rows.append(
                Row(
                    version=record.version,
                    at=record.recorded_at,
                    who=self.narrator.party(ROLE_VALUES[change.actor.role], change.actor.id),
                    what=self.narrator.event(code, params, ROLE_VALUES[change.actor.role], change.actor.id),
                    hash=hashes.get(record.version),
                    type=record.type,
                    data=record.data,
                )
            )
        return rows

    def _facts(self, pairs: Iterable[tuple[str, str]]) -> str:
        return _table(None, [(self.t(f"field.{k}"), v) for k, v in pairs])

    def _order(self) -> str:
        claim = self.claim
        order = self.app.orders.find_recorded(claim.order_id)
        if order is None:
            return self._facts(
                [("order_id", claim.order_id), ("total", self.amount(claim.order_amount)),
                 ("delivered", self.when(claim.delivered_at))]
            ) + f"<p>{e(self.t('field.not_recorded'))}</p>"
        facts = self._facts(
            [
                ("order_id", order.order_id),
                ("placed", self.when(order.placed_at)),
                ("delivered", self.when(order.delivered_at) if order.delivered_at else self.t("field.not_delivered")),
                ("total", self.amount(order.total_amount)),
            ]
        )
        lines = _table(
            [self.t("col.line"), self.t("col.sku"), self.t("col.quantity"), self.t("col.unit_price")],
            [
                (str(line["title"]), str(line["sku"]), str(line["quantity"]), self._money_of(line["unit_price"]))
                for line in order.lines
            ],
        )
        return facts + lines

    def html(self, now: datetime) -> str:
        claim, n = self.claim, self.narrator
        rows = self.rows()
        policy = self.app.policy
        claim_id = str(claim.id)
        title = self.t("title", claim_id=claim_id)
        parts = [
            f"<h1>{e(title)}</h1>",
            f'<p class="meta">{e(self.t("generated", at=self.when(now), version=policy.version, timezone=policy.windows.timezone))}</p>',
            f"<h2>{e(self.t('section.claim'))}</h2>",
            self._facts(
                [
                    ("claim_id", claim_id),
                    ("kind", n.t(f"kind.{claim.kind}")),
                    ("reason", n.t(f"reason.{claim.reason}")),
                    ("status", n.t(f"status.{claim.status}")),
                    ("opened", self.when(claim.opened_at)),
                    ("claimed", self.amount(claim.claimed_amount)),
                    ("agreed", self.amount(claim.agreed_amount)),
                    ("refunded", self.amount(claim.refunded_amount)),
                    ("description", str(getattr(claim, "description", "") or self.t("field.none"))),
                ]
            ),
            f"<h2>{e(self.t('section.parties'))}</h2>",
            self._facts(
                [
                    ("buyer", claim.buyer_id),
                    ("merchant", claim.merchant_id),
                    ("mediator", claim.mediator_id or self.t("field.none")),
                ]
            ),
            f"<h2>{e(self.t('section.order'))}</h2>",
            self._order(),
            f"<h2>{e(self.t('section.timeline'))}</h2>",
            _table(
                [self.t("col.version"), self.t("col.at"), self.t("col.who"), self.t("col.what"), self.t("col.hash")],
                [(str(r.version), self.when(r.at), r.who, r.what, r.hash or self.t("not_sealed")) for r in rows],
                classes={4: "hash"},
            ),
            f"<h2>{e(self.t('section.evidence'))}</h2>",
            self._evidence(rows),
            f"<h2>{e(self.t('section.decisions'))}</h2>",
            self._decisions(rows),
            f"<h2>{e(self.t('section.refunds'))}</h2>",
            self._refunds(rows),
            f"<h2>{e(self.t('section.verify'))}</h2>",
            "<ol>" + "".join(f"<li>{e(self.t(f'verify.{i}', claim_id=claim_id))}</li>" for i in (1, 2, 3, 4)) + "</ol>",
        ]
        return page(title, self.language, "\n".join(parts))

    def _or_nothing(self, table: str, count: int) -> str:
        return table if count else f"<p>{e(self.t('nothing'))}</p>"

    def _evidence(self, rows: list[Row]) -> str:
        found = [r for r in rows if r.type == "EvidenceAdded"]
        table = _table(
            [self.t("col.at"), self.t("col.who"), self.t("col.kind"), self.t("col.description"),
             self.t("col.digest"), self.t("col.size")],
            [
                (self.when(r.at), r.who, self.narrator.t(f"evidence.{r.data.get('kind')}"),
                 str(r.data.get("description", "")), str(r.data.get("sha256", "")), str(r.data.get("size_bytes", "")))
                for r in found
            ],
            classes={4: "hash"},
        )
        return self._or_nothing(table, len(found))

    def _money_of(self, value: Any) -> str:
        """An amount as events and orders hold it (Money, or its recorded ``{amount, currency}``)."""
        if isinstance(value, dict) and "amount" in value:
            return money(value["amount"], value["currency"], self.language)
        if isinstance(value, Money):
            return money(value.amount, value.currency, self.language)
        return self.t("field.none")

    def _decisions(self, rows: list[Row]) -> str:
        found = [r for r in rows if r.type in ("Mediated", "AppealDecided", "LegalOutcomeRecorded")]
        table = _table(
            [self.t("col.at"), self.t("col.who"), self.t("col.outcome"), self.t("col.amount"),
             self.t("col.rationale"), self.t("col.policy")],
            [
                (self.when(r.at), r.who, r.what, self._money_of(r.data.get("amount")),
                 str(r.data.get("rationale") or r.data.get("outcome") or ""), str(r.data.get("policy_version") or ""))
                for r in found
            ],
        )
        return self._or_nothing(table, len(found))

    def _refunds(self, rows: list[Row]) -> str:
        found = [r for r in rows if r.type == "Refunded"]
        table = _table(
            [self.t("col.at"), self.t("col.who"), self.t("col.amount"), self.t("col.reference")],
            [(self.when(r.at), r.who, self._money_of(r.data.get("amount")), str(r.data.get("payment_reference", "")))
             for r in found],
        )
        return self._or_nothing(table, len(found))


def case_file_html(
    app: DisputesApplication, database: DatabaseUrl, claim: Claim, language: str, now: datetime
) -> str:
    """The claim's case file in ``language`` as one HTML document."""
    return CaseFile(app, database, claim, language).html(now)
