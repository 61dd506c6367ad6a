"""The permission matrix as data: consistent with itself, with the application, and with its doc."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from disputes.api import permissions
from disputes.api.access import claim_relation
from disputes.api.permissions import CLAIM_VIEWERS, Relation, Subject
from disputes.application import can_view
from disputes.domain.claim import Claim
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import Windows

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-control.md"
BEGIN, END = "<!-- matrix:begin -->\n", "<!-- matrix:end -->"


def test_the_documented_matrix_is_the_matrix_the_server_applies() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    assert documented == permissions.render_markdown(), "run: python -m disputes.api.permissions"


def test_whoever_may_act_on_a_claim_may_also_see_it() -> None:
    for rule in permissions.RULES:
        assert rule.act <= rule.see or rule.public, f"{rule.method} {rule.path}"


def test_each_route_and_variant_has_one_rule() -> None:
    keys = [(rule.key, rule.query) for rule in permissions.RULES]
    assert len(keys) == len(set(keys))


def _claim() -> Claim:
    at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    claim = Claim.open(
        actor=Actor(Role.BUYER, "b1"),
        order_id="o1",
        merchant_id="m1",
        kind="refund_only",
        reason="damaged",
        order_amount="10.00",
        claimed_amount="10.00",
        currency="USD",
        delivered_at=at,
        description="Broken.",
        windows=Windows(),
        at=at,
    )
    claim.assign_mediator(actor=Actor(Role.MEDIATOR, "med1"), mediator_id="med1", at=at)
    return claim


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
    claim = _claim()
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
