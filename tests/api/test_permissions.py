"""The permission matrix as data: consistent with itself, with the application, and with its doc."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from disputes.api.auth import permissions
from disputes.api.auth.permissions import CLAIM_VIEWERS, Relation, Subject
from disputes.api.routes.commands import COMMANDS
from disputes.application.claims import DisputesApplication
from disputes.application.visibility import can_view, claim_relation, may_list_claims
from disputes.domain import errors
from disputes.domain.parties import TOKEN_ROLES, Actor, Role
from disputes.domain.vocabulary import ClaimKind, ClaimReason, MerchantDecision
from support import CELL_PRINCIPALS, COMMAND_EXAMPLES, open_with_order

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-control.md"
BEGIN, END = "<!-- matrix:begin -->\n", "<!-- matrix:end -->"


def test_the_documented_matrix_is_the_matrix_the_server_applies() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    assert documented == permissions.render_markdown(), "run: python -m disputes.api.auth.permissions"


def test_whoever_may_act_on_a_claim_may_also_see_it() -> None:
    for rule in permissions.RULES:
        assert rule.act <= rule.see or rule.public, f"{rule.method} {rule.path}"


def test_each_route_and_variant_has_one_rule() -> None:
    keys = [(rule.key, rule.query) for rule in permissions.RULES]
    assert len(keys) == len(set(keys))


def _claim_under_mediation() -> tuple[DisputesApplication, str]:
    """An in-memory application and b1's claim on m1, under mediation with med1 assigned."""
    app = DisputesApplication()
    at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    opened = open_with_order(
        app,
        Actor(Role.BUYER, "b1"),
        order_id="o1",
        merchant_id="m1",
        kind=ClaimKind.REFUND_ONLY,
        reason=ClaimReason.DAMAGED,
        order_amount="10.00",
        claimed_amount="10.00",
        currency="USD",
        delivered_at=at - timedelta(days=1),
        description="Broken.",
    )
    claim_id = str(opened.claim.id)
    app.respond(
        Actor(Role.MERCHANT, "m1"), claim_id, decision=MerchantDecision.REJECT, amount=None, message="No."
    )
    app.request_mediation(Actor(Role.BUYER, "b1"), claim_id, reason="Please.")
    app.assign_mediator(Actor(Role.MEDIATOR, "med1"), claim_id, mediator_id=None)
    return app, claim_id


@pytest.mark.parametrize(
    ("actor", "relation"),
    [
        (Actor(Role.BUYER, "b1"), Relation.OWN_BUYER),
        (Actor(Role.BUYER, "b2"), Relation.OTHER),
        (Actor(Role.MERCHANT, "m1"), Relation.OWN_MERCHANT),
        (Actor(Role.MERCHANT, "m2"), Relation.OTHER),
        (Actor(Role.MEDIATOR, "med1"), Relation.ASSIGNED_MEDIATOR),
        (Actor(Role.MEDIATOR, "med2"), Relation.OTHER),
        (Actor(Role.AUDITOR, "b1"), Relation.OTHER),
        (Actor(Role.REGULATOR, "m1"), Relation.OTHER),
        (Actor(Role.ADMIN, "med1"), Relation.OTHER),
    ],
)
def test_the_matrix_and_the_application_agree_on_who_sees_a_claim(actor: Actor, relation: Relation) -> None:
    app, claim_id = _claim_under_mediation()
    claim = app.load_claim(claim_id)
    assert claim_relation(actor, claim) is relation
    assert relation in permissions.RELATIONS[Subject.CLAIM][actor.role]
    assert ((actor.role, relation) in CLAIM_VIEWERS) == can_view(actor, claim)


def test_a_refused_claim_route_names_who_may_act() -> None:
    codes = {
        rule.path.rsplit("/", 1)[-1]: rule.refusal().code
        for rule in permissions.RULES
        if rule.method == "POST" and rule.subject is Subject.CLAIM
    }
    assert codes["merchant-response"] == "not-claim-merchant"
    assert codes["withdrawal"] == "not-claim-buyer"
    assert codes["decision"] == "not-assigned-mediator"
    assert codes["messages"] == "not-a-party"
    assert codes["assignment"] == "not-permitted"


def test_the_claims_own_rules_refuse_every_actor_the_matrix_refuses() -> None:
    """Defence in depth: called without the HTTP layer, the application refuses the same cells."""
    app, claim_id = _claim_under_mediation()
    version = app.load_claim(claim_id).version
    handlers = {command.path: command for command in COMMANDS}
    allowed_by_the_domain = []
    for rule in permissions.RULES:
        if rule.method != "POST" or rule.subject is not Subject.CLAIM:
            continue
        command = handlers[rule.path.rsplit("/", 1)[-1]]
        body = command.body.model_validate(COMMAND_EXAMPLES[command.path]).model_dump()
        for role, relation in permissions.cells(Subject.CLAIM):
            if (role, relation) in rule.act:
                continue
            actor = Actor(role, CELL_PRINCIPALS[role.value, relation.value])
            try:
                command.handler(app, actor, claim_id, **body)
            except (errors.NotPermitted, errors.ClaimNotFound):
                continue
            allowed_by_the_domain.append(f"{command.path} by {actor}")
    assert allowed_by_the_domain == []
    assert app.load_claim(claim_id).version == version


def test_the_matrix_and_the_claims_view_agree_on_who_may_list_claims() -> None:
    listing = permissions.rule_for("GET", "/claims")
    listers = {role for role in TOKEN_ROLES if may_list_claims(Actor(role, "someone"))}
    assert {role for role, _ in listing.act} == listers


def test_a_route_that_reads_only_the_claims_opening_may_not_depend_on_the_assigned_mediator() -> None:
    lean = [rule for rule in permissions.RULES if rule.parties_only]
    assert {(rule.path, rule.query) for rule in lean} == {
        ("/claims/{claim_id}/history", frozenset()),
        ("/claims/{claim_id}/history", frozenset({"as_of"})),
        ("/claims/{claim_id}/timeline", frozenset()),
    }
    with pytest.raises(ValueError, match="assigned mediator"):
        permissions.on_claim("POST", "/decision", permissions.ASSIGNED_MEDIATOR, parties_only=True)
