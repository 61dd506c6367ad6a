"""Every cell of the permission matrix, over HTTP, on each store: generated from ``permissions.RULES``.

For each route, each role and each relation to the route's subject, a real principal sends a valid
request. Cells the matrix allows must not be refused (401, 403, 404): they may still answer 409, 412
or 422 for the claim's state. Cells it refuses must get exactly the 403 or 404 it names, as
problem+json, and record nothing. Without a token every guarded route answers 401.

One server per store serves all the cells; a claim (b1's, on m1, under mediation with med1 assigned)
is opened for each allowed command, so that one cell's command never changes the state another sees.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from disputes.api.app import create_app
from disputes.api.auth import permissions
from disputes.api.auth.access import check_app, served_routes
from disputes.api.auth.permissions import Relation, Rule, Subject
from disputes.bootstrap import start_projections
from disputes.domain.parties import Actor, Role
from disputes.settings import Settings
from support import CELL_PRINCIPALS, COMMAND_EXAMPLES, migrated_container, order_record, policy_file
from support.http import START, Api, ManualClock, rfc3339, serving

_numbers = itertools.count(1)


SHARED_ORDER = "order-shared"
"""The order of the shared claim: b1's, of merchant m1."""
DELIVERED = rfc3339(START - timedelta(days=2))


@dataclass
class World:
    api: Api
    shared_claim: str
    """The claim every refused request is sent to: it must never change."""

    def claim_under_mediation(self, order_id: str | None = None) -> str:
        order_id = order_id or f"order-{next(_numbers)}"
        claim_id: str = self.api.open_claim("b1", order_id=order_id, delivered_at=DELIVERED)["id"]
        self.api.act("m1", claim_id, "merchant-response", {"decision": "reject", "message": "Worn."})
        self.api.act("b1", claim_id, "mediation-request", {"reason": "It was never worn."})
        self.api.act("med1", claim_id, "assignment")
        return claim_id

    def throwaway_token_id(self) -> str:
        record, _ = self.api.principals.add(Role.BUYER, f"spare-{next(_numbers)}", now=self.api.clock())
        return record.token_id

    def head(self) -> int:
        return self.api.container.app.recorder.max_notification_id() or 0

    def webhook_id(self) -> str:
        subscription, _ = self.api.container.webhooks.add(
            url="https://hooks.example.com/in", event_types=["*"], description="", created_by="admin:adm1",
            position=self.head(), now=self.api.clock(),
        )
        return subscription.id

    def export_job_id(self) -> str:
        """A finished export job of reg1's (the regulator of the matrix; any auditor may fetch it too)."""
        container = self.api.container
        job = container.export_jobs.start(Actor(Role.REGULATOR, "reg1"), period=(START, START + timedelta(days=1)))
        bundle = container.exports.bundle_path(job.id)
        bundle.parent.mkdir(parents=True, exist_ok=True)
        bundle.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip stands for the bundle
        container.export_jobs.finish(job.id, events=0, last_hash="0" * 64, key_id="0" * 64, filename="a.zip")
        return job.id


def _order_body() -> dict[str, Any]:
    """The shared order's facts again, as the platform sends them (200: nothing changes)."""
    body = {**order_record(buyer_id="b1"), "delivered_at": DELIVERED}
    body["placed_at"] = rfc3339(body["placed_at"])
    return body


def _claim_body() -> dict[str, Any]:
    return {
        "order_id": f"order-new-{next(_numbers)}",
        "merchant_id": "m1",
        "kind": "refund_only",
        "reason": "damaged",
        "order_amount": "10.00",
        "claimed_amount": "10.00",
        "currency": "USD",
        "delivered_at": rfc3339(START - timedelta(days=1)),
        "description": "Broken.",
    }


def _body(body: dict[str, object]) -> Example:
    return lambda w: {"json": body}


Example = Callable[[World], dict[str, Any]]
"""httpx keyword arguments (json=, params=) of a valid request to the route."""
EXAMPLES: dict[tuple[str, str], Example] = {
    ("POST", "/claims"): lambda w: {"json": _claim_body()},
    ("PUT", "/orders/{order_id}"): lambda w: {"json": _order_body()},
    ("POST", "/orders/{order_id}/delivery"): _body({"delivered_at": DELIVERED}),
    ("GET", "/orders/{order_id}"): lambda w: {},
    ("GET", "/claims/{claim_id}"): lambda w: {},
    ("GET", "/claims/{claim_id}/history"): lambda w: {"params": {"diff": "true"}},
    ("GET", "/claims/{claim_id}/timeline"): lambda w: {"params": {"min_position": w.head()}},
    ("GET", "/claims/{claim_id}/case-file"): lambda w: {},
    ("GET", "/claims/{claim_id}/signals"): lambda w: {"params": {"min_position": w.head()}},
    ("GET", "/claims"): lambda w: {"params": {"min_position": w.head()}},
    ("GET", "/queue"): lambda w: {"params": {"min_position": w.head()}},
    ("GET", "/merchants/{merchant_id}/scorecard"): lambda w: {"params": {"min_position": w.head()}},
    ("GET", "/merchants/{merchant_id}/standing"): lambda w: {},
    ("GET", "/merchants/{merchant_id}/standing/history"): lambda w: {},
    ("POST", "/merchants/{merchant_id}/standing/appeals"): _body({"reason": "The losses were a carrier's."}),
    ("POST", "/merchants/{merchant_id}/standing/appeals/decision"): _body(
        {"outcome": "upheld", "rationale": "The figures stand."}
    ),
    ("GET", "/reports/audit"): lambda w: {"params": {"from": "2026-11-01", "to": "2026-11-30"}},
    ("POST", "/exports"): lambda w: {"json": {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}},
    ("GET", "/exports/{job_id}"): lambda w: {},
    ("POST", "/principals"): lambda w: {"json": {"role": "buyer", "id": f"new-{next(_numbers)}"}},
    ("GET", "/principals"): lambda w: {},
    ("DELETE", "/principals/{token_id}"): lambda w: {},
    ("POST", "/webhooks"): lambda w: {"json": {"url": "https://hooks.example.com/in", "event_types": ["*"]}},
    ("GET", "/webhooks"): lambda w: {},
    ("GET", "/webhooks/{webhook_id}"): lambda w: {},
    ("DELETE", "/webhooks/{webhook_id}"): lambda w: {},
    ("GET", "/webhooks/{webhook_id}/deliveries"): lambda w: {"params": {"status": "pending"}},
    ("POST", "/webhooks/{webhook_id}/redelivery"): _body({"from_position": 1}),
    ("GET", "/events"): lambda w: {"params": {"after": 0, "limit": 5}},
    **{("POST", f"/claims/{{claim_id}}/{name}"): _body(body) for name, body in COMMAND_EXAMPLES.items()},
}
VARIANT_PARAMS = {
    frozenset({"as_of_version", "as_of"}): {"as_of_version": 1},
    frozenset({"as_of"}): {"as_of": rfc3339(START + timedelta(days=365))},
}

GUARDED = [rule for rule in permissions.RULES if not rule.public]
CELLS = [
    pytest.param(
        rule,
        role,
        relation,
        id=f"{rule.method} {rule.path}{'?' + '|'.join(sorted(rule.query)) if rule.query else ''} {role.value} {relation.value}",
    )
    for rule in GUARDED
    for role, relation in permissions.cells(rule.subject)
]


@pytest.fixture(scope="module")
def world(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    clock = ManualClock(START)
    # One buyer opens a claim per cell: the matrix is about who may act, not the claim-rate limit.
    policy = policy_file(tmp_path_factory.mktemp("policy"), buyer_claims=100_000)
    settings = Settings(database_url=module_database_url, policy_file=str(policy))
    with migrated_container(settings, clock) as container:
        app = create_app(container)
        projections = start_projections(container, run=True)
        app.state.read_side = projections.read_side
        try:
            with serving(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
                api = Api(http, container, clock)
                built = World(api, shared_claim="")
                built.shared_claim = built.claim_under_mediation(SHARED_ORDER)
                yield built
        finally:
            projections.stop()


def _request(world: World, rule: Rule, allowed: bool) -> tuple[str, str, dict[str, Any]]:
    """The path and arguments of a valid request to ``rule``'s route, on a claim of its own if allowed."""
    kwargs = EXAMPLES[rule.key](world)
    if rule.query:
        kwargs["params"] = {**kwargs.get("params", {}), **VARIANT_PARAMS[rule.query]}
    claim_id = world.shared_claim
    if allowed and rule.subject is Subject.CLAIM and rule.method == "POST":
        claim_id = world.claim_under_mediation()
    path = rule.path.format(
        claim_id=claim_id,
        merchant_id="m1",
        order_id=SHARED_ORDER,
        token_id=world.throwaway_token_id() if "{token_id}" in rule.path else "",
        webhook_id=world.webhook_id() if "{webhook_id}" in rule.path else "",
        job_id=world.export_job_id() if "{job_id}" in rule.path else "",
    )
    return rule.method, path, kwargs


def test_every_rule_has_an_example_request() -> None:
    assert {rule.key for rule in GUARDED} == set(EXAMPLES)


@pytest.mark.parametrize(("rule", "role", "relation"), CELLS)
def test_each_cell_of_the_matrix_is_answered_as_the_matrix_says(
    world: World, rule: Rule, role: Role, relation: Relation
) -> None:
    verdict = rule.verdict(role, relation)
    method, path, kwargs = _request(world, rule, verdict == "allow")
    before = world.api.container.app.load_claim(world.shared_claim).version
    answer = world.api.send(CELL_PRINCIPALS[role.value, relation.value], method, path, **kwargs)
    if verdict == "allow":
        assert answer.status_code not in (401, 403, 404), (
            f"{method} {path}: {answer.status_code} {answer.text}"
        )
        return
    problem = Api.problem(answer, verdict)
    if rule.subject is Subject.CLAIM:
        assert problem["claim_id"] == world.shared_claim
        assert problem["type"] == (
            "/problems/claim-not-found" if verdict == 404 else f"/problems/{rule.refusal().code}"
        )
    assert world.api.container.app.load_claim(world.shared_claim).version == before


@pytest.mark.parametrize("rule", [pytest.param(r, id=f"{r.method} {r.path}") for r in GUARDED if not r.query])
def test_every_guarded_route_answers_401_without_a_token(world: World, rule: Rule) -> None:
    method, path, kwargs = _request(world, rule, allowed=False)
    answer = world.api.send(None, method, path, **kwargs)
    Api.problem(answer, 401)
    assert answer.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "rule", [pytest.param(r, id=f"{r.method} {r.path}") for r in permissions.RULES if r.public]
)
def test_public_routes_answer_without_a_token(world: World, rule: Rule) -> None:
    answer = world.api.send(None, rule.method, rule.path.replace("{code}", "stale-version"))
    assert answer.status_code == 200, answer.text


def test_every_route_the_app_serves_has_a_rule_and_every_rule_a_route(world: World) -> None:
    app = create_app(world.api.container)
    served = {(method, path) for method, path, _ in served_routes(app.routes) if method != "HEAD"}
    assert served == {rule.key for rule in permissions.RULES}


def test_an_app_with_a_route_the_matrix_does_not_know_is_refused(world: World) -> None:
    app = create_app(world.api.container)
    app.add_api_route("/claims/{claim_id}/reopening", lambda claim_id: {}, methods=["POST"])
    with pytest.raises(permissions.MissingRule, match=re.escape("POST /claims/{claim_id}/reopening")):
        check_app(app)
