"""Who may do what: the permission matrix of every route, as data.

A cell of the matrix is a role and the principal's relation to what the route is about (its subject):
a claim (``/claims/{claim_id}...``), a merchant (``/merchants/{merchant_id}...``), or nothing. The
cells, the relations and who may know of a claim or a merchant's record are
:mod:`disputes.application.visibility`'s; this table adds who may do each act. Each
route has a :class:`Rule`: the cells that may ``see`` its subject, and the cells that may ``act``.

- outside ``see``: 404, the subject's existence is not revealed;
- inside ``see`` but outside ``act``: 403;
- inside ``act``: the route runs (and may still answer 409, 412 or 422 on its own grounds).

Routes without a subject hide nothing: everyone sees, so a role not in ``act`` gets 403. Public routes
(health, metrics, the API document) need no token. ``access.enforce`` applies this table to every
request; ``docs/access-control.md`` shows it (``python -m disputes.api.auth.permissions`` prints it), and
the tests walk every cell of it over HTTP. A new route is one line in :data:`RULES`; the app refuses to
start while a route it serves has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from disputes.application.visibility import (
    ADMIN,
    ASSIGNED_MEDIATOR,
    AUDITOR,
    BUYER,
    CLAIM_VIEWERS,
    EVERYONE,
    FEED_READERS,
    MEDIATOR,
    MERCHANT,
    MERCHANT_RECORD_READERS,
    MERCHANT_RECORD_VIEWERS,
    ORDER_VIEWERS,
    OWN_BUYER,
    OWN_MERCHANT,
    PARTIES,
    PAST_VIEWERS,
    PLATFORM,
    REGULATOR,
    SIGNAL_READERS,
    Cell,
    Relation,
    Who,
)
from disputes.domain import errors
from disputes.domain.parties import TOKEN_ROLES, Role


class Subject(StrEnum):
    """What a route is about, found from its path."""

    NONE = "none"
    CLAIM = "claim"
    MERCHANT = "merchant"
    ORDER = "order"


Verdict = Literal["allow", 403, 404]

# The relations each role can have to each kind of subject: the rows the tests walk.
RELATIONS: Mapping[Subject, Mapping[Role, tuple[Relation, ...]]] = {
    Subject.CLAIM: {
        role: {
            Role.BUYER: (Relation.OWN_BUYER, Relation.OTHER),
            Role.MERCHANT: (Relation.OWN_MERCHANT, Relation.OTHER),
            Role.MEDIATOR: (Relation.ASSIGNED_MEDIATOR, Relation.OTHER),
        }.get(role, (Relation.OTHER,))
        for role in TOKEN_ROLES
    },
    Subject.MERCHANT: {
        role: (Relation.OWN_MERCHANT, Relation.OTHER) if role is Role.MERCHANT else (Relation.OTHER,)
        for role in TOKEN_ROLES
    },
    Subject.ORDER: {
        role: {
            Role.BUYER: (Relation.OWN_BUYER, Relation.OTHER),
            Role.MERCHANT: (Relation.OWN_MERCHANT, Relation.OTHER),
        }.get(role, (Relation.OTHER,))
        for role in TOKEN_ROLES
    },
    Subject.NONE: {role: (Relation.OTHER,) for role in TOKEN_ROLES},
}


def cells(subject: Subject) -> list[Cell]:
    """Every cell a request on a route about ``subject`` can fall in."""
    return [(role, relation) for role, relations in RELATIONS[subject].items() for relation in relations]


@dataclass(frozen=True)
class Rule:
    """Who may see the subject of ``method path`` and who may act on it."""

    method: str
    path: str
    act: Who
    see: Who = EVERYONE
    query: frozenset[str] = field(default=frozenset())
    """A variant of the route: applies when the request carries one of these query parameters."""
    public: bool = False
    parties_only: bool = False
    """The route needs of its claim only the id and the parties it was opened with, so the access check
    reads the claim's first event alone (a long claim is not replayed to page through its history).
    Only for a rule whose verdict does not depend on which mediator is assigned (refused otherwise)."""

    def __post_init__(self) -> None:
        if self.parties_only and self.verdict(Role.MEDIATOR, Relation.ASSIGNED_MEDIATOR) != self.verdict(
            Role.MEDIATOR, Relation.OTHER
        ):
            raise ValueError(f"{self.method} {self.path}: its verdict needs the assigned mediator, not only the parties")

    @property
    def subject(self) -> Subject:
        if "{claim_id}" in self.path:
            return Subject.CLAIM
        if "{merchant_id}" in self.path:
            return Subject.MERCHANT
        if "{order_id}" in self.path:
            return Subject.ORDER
        return Subject.NONE

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def verdict(self, role: Role, relation: Relation) -> Verdict:
        if self.public or (role, relation) in self.act:
            return "allow"
        return 403 if (role, relation) in self.see else 404

    def refusal(self) -> type[errors.NotPermitted]:
        """The problem a claim route answers 403 with: the narrowest that names who may act."""
        for only, error in (
            (OWN_BUYER, errors.NotClaimBuyer),
            (OWN_MERCHANT, errors.NotClaimMerchant),
            (ASSIGNED_MEDIATOR, errors.NotAssignedMediator),
        ):
            if self.act == only:
                return error
        return errors.NotAParty if self.act <= PARTIES else errors.NotPermitted


def on_claim(
    method: str, path: str, act: Who, *, query: Iterable[str] = (), parties_only: bool = False
) -> Rule:
    """A route about one claim: who may not see the claim gets 404."""
    return Rule(method, "/claims/{claim_id}" + path, act, CLAIM_VIEWERS, frozenset(query), parties_only=parties_only)


def on_merchant(method: str, path: str, act: Who) -> Rule:
    """A route about one merchant's record: other merchants get 404, so it stays private between the
    merchant and the platform."""
    return Rule(method, "/merchants/{merchant_id}" + path, act, MERCHANT_RECORD_VIEWERS)


def on_order(method: str, path: str, act: Who, see: Who = EVERYONE) -> Rule:
    """A route about one order: who may not know of the order (``see``) gets 404."""
    return Rule(method, "/orders/{order_id}" + path, act, see)


def command(path: str, act: Who) -> Rule:
    return on_claim("POST", "/" + path, act)


def public(method: str, path: str) -> Rule:
    return Rule(method, path, EVERYONE, public=True)


RULES: tuple[Rule, ...] = (
    # commands (API.md: "Commands")
    Rule("POST", "/claims", BUYER),
    command("merchant-response", OWN_MERCHANT),
    command("offer-answer", OWN_BUYER),
    command("messages", PARTIES),
    command("evidence", PARTIES),
    command("mediation-request", OWN_BUYER | OWN_MERCHANT),
    command("assignment", MEDIATOR),
    command("evidence-request", ASSIGNED_MEDIATOR),
    command("decision", ASSIGNED_MEDIATOR),
    command("return-shipment", OWN_BUYER),
    command("return-receipt", OWN_MERCHANT),
    command("refunds", OWN_MERCHANT | ASSIGNED_MEDIATOR),
    command("legal-escalation", PARTIES),
    command("legal-outcome", MEDIATOR),
    command("withdrawal", OWN_BUYER),
    command("closure", ASSIGNED_MEDIATOR),
    command("appeal", OWN_BUYER | OWN_MERCHANT),
    command("appeal-decision", MEDIATOR),
    # orders: the platform's facts (API.md v1.1, "Orders")
    on_order("PUT", "", PLATFORM),
    on_order("POST", "/delivery", PLATFORM),
    on_order("GET", "", ORDER_VIEWERS, ORDER_VIEWERS),
    # reads of one claim
    on_claim("GET", "", CLAIM_VIEWERS),
    on_claim("GET", "", PAST_VIEWERS, query=("as_of_version", "as_of")),
    on_claim("GET", "/history", CLAIM_VIEWERS, parties_only=True),
    on_claim("GET", "/history", PAST_VIEWERS, query=("as_of",), parties_only=True),
    on_claim("GET", "/timeline", CLAIM_VIEWERS, parties_only=True),
    on_claim("GET", "/case-file", OWN_BUYER | OWN_MERCHANT | MEDIATOR | AUDITOR),
    on_claim("GET", "/signals", SIGNAL_READERS),
    # reads of the views
    Rule("GET", "/claims", BUYER | MERCHANT | MEDIATOR | AUDITOR),
    Rule("GET", "/queue", MEDIATOR),
    on_merchant("GET", "/scorecard", MERCHANT_RECORD_READERS),
    Rule("GET", "/reports/audit", AUDITOR | REGULATOR),
    # a merchant's standing (docs/standing.md)
    on_merchant("GET", "/standing", MERCHANT_RECORD_READERS),
    on_merchant("GET", "/standing/history", MERCHANT_RECORD_READERS),
    on_merchant("POST", "/standing/appeals", OWN_MERCHANT),
    on_merchant("POST", "/standing/appeals/decision", MEDIATOR),
    # audit
    Rule("POST", "/exports", AUDITOR | REGULATOR),
    Rule("GET", "/exports/{job_id}", AUDITOR | REGULATOR),  # the asker's job; any auditor's (404 otherwise)
    # administration
    Rule("POST", "/principals", ADMIN),
    Rule("GET", "/principals", ADMIN),
    Rule("DELETE", "/principals/{token_id}", ADMIN),
    # events out (API.md v1.1, "Events out")
    Rule("POST", "/webhooks", ADMIN),
    Rule("GET", "/webhooks", ADMIN),
    Rule("GET", "/webhooks/{webhook_id}", ADMIN),
    Rule("DELETE", "/webhooks/{webhook_id}", ADMIN),
    Rule("GET", "/webhooks/{webhook_id}/deliveries", ADMIN),
    Rule("POST", "/webhooks/{webhook_id}/redelivery", ADMIN),
    Rule("GET", "/events", FEED_READERS),
    # operations, and the API's own document
    public("GET", "/healthz"),
    public("GET", "/readyz"),
    public("GET", "/metrics"),
    public("GET", "/openapi.json"),
    public("GET", "/docs"),
    public("GET", "/docs/oauth2-redirect"),
    public("GET", "/redoc"),
    # where to start, and what each problem type means (the URIs of their `type`)
    public("GET", "/"),
    public("GET", "/problems"),
    public("GET", "/problems/{code}"),
    # the published rules (API.md v1.1, "Language, rules and rights")
    public("GET", "/policy"),
)


class MissingRule(LookupError):
    """A route the app serves has no rule: refused at start-up rather than served unguarded."""


def rules_by_key() -> dict[tuple[str, str], list[Rule]]:
    """Rules per (method, path), the variants (with ``query``) first."""
    table: dict[tuple[str, str], list[Rule]] = {}
    for rule in RULES:
        table.setdefault(rule.key, []).append(rule)
    for variants in table.values():
        variants.sort(key=lambda rule: not rule.query)
    return table


TABLE = rules_by_key()
"""The rules by (method, path); a test that adds a route of its own adds its rule here too."""


def rule_for(method: str, path: str, query: Iterable[str] = ()) -> Rule:
    """The rule of ``method path`` (the route's template) for a request with these query names."""
    method = "GET" if method == "HEAD" else method
    variants = TABLE.get((method, path))
    if not variants:
        raise MissingRule(f"{method} {path} has no rule in the permission matrix")
    given = set(query)
    return next(rule for rule in variants if not rule.query or rule.query & given)


def check_covered(routes: Iterable[tuple[str, str]]) -> None:
    """Raise :class:`MissingRule` naming every served (method, path) that has no rule."""
    missing = sorted({f"{m} {p}" for m, p in routes if ("GET" if m == "HEAD" else m, p) not in TABLE})
    if missing:
        raise MissingRule("routes without a rule in the permission matrix: " + ", ".join(missing))


# --- the table as people read it -----------------------------------------------------------------
_SHORT = {
    Relation.OWN_BUYER: "own",
    Relation.OWN_MERCHANT: "own",
    Relation.ASSIGNED_MEDIATOR: "assigned",
    Relation.OTHER: "other",
}


def _cell_text(rule: Rule, role: Role) -> str:
    relations = RELATIONS[rule.subject][role]
    verdicts = [rule.verdict(role, relation) for relation in relations]
    if len(set(verdicts)) == 1:
        return "yes" if verdicts[0] == "allow" else str(verdicts[0])
    return ", ".join(
        f"{_SHORT[relation]}: {'yes' if verdict == 'allow' else verdict}"
        for relation, verdict in zip(relations, verdicts, strict=True)
    )


def render_markdown() -> str:
    """The matrix as a Markdown table: a row per route, a column per role."""
    head = ["route", *(role.value for role in TOKEN_ROLES)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rule in RULES:
        route = f"`{rule.method} {rule.path}`"
        if rule.query:
            route += " with " + " or ".join(f"`?{name}`" for name in sorted(rule.query))
        if rule.public:
            texts = ["public"] * len(TOKEN_ROLES)
        else:
            texts = [_cell_text(rule, role) for role in TOKEN_ROLES]
        lines.append("| " + " | ".join([route, *texts]) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
