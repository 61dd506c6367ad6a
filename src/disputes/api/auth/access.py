"""The one dependency that applies the permission matrix (``permissions.RULES``) to every request.

It runs before anything else of the route (its parameters, its body): it finds the route's rule,
authenticates (401), finds the principal's relation to the route's subject and answers 404 or 403 as
the rule says. For a route about a claim it loads the claim once; the route hands that same claim to
the application (``Access.claim``), so a command still loads its claim a single time. The domain
keeps its own checks of who may act, as a second line of defence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Route

from disputes.api.auth import permissions
from disputes.api.auth.permissions import Rule, Subject
from disputes.api.auth.refusals import refusal_detail
from disputes.api.deps import container_of, required_actor
from disputes.api.middleware.language import request_language
from disputes.api.problems import ApiProblem
from disputes.application.visibility import Relation, claim_relation, merchant_relation, order_relation
from disputes.domain import errors
from disputes.domain.claim import Claim
from disputes.domain.parties import Actor


@dataclass(frozen=True)
class Access:
    """What the matrix let through: the rule, the actor (None on public routes), and the claim."""

    rule: Rule
    actor: Actor | None
    claim: Claim | None

    @property
    def the_claim(self) -> Claim:
        """The claim of a route about a claim (loaded by :func:`enforce`): as it stands now, or, on a
        rule with ``parties_only``, as it was opened (its id and parties; version 1)."""
        assert self.claim is not None, f"{self.rule.method} {self.rule.path} is not about a claim"
        return self.claim


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


async def enforce(request: Request) -> Access:
    """Let the request through as the matrix says, or answer 401, 403 or 404.

    Judged on the event loop where nothing is read (a public route, a token kept in memory, a rule
    about a merchant or none): ``/healthz`` answers even when every worker thread is waiting on the
    database, and a command's request does not cross threads before its route. A rule about a claim
    or an order is judged in a worker thread (it loads the claim or the order).
    """
    rule = permissions.rule_for(request.method, _route_template(request), request.query_params.keys())
    if rule.public:
        return Access(rule, None, None)
    actor = await required_actor(request)
    if rule.subject in (Subject.CLAIM, Subject.ORDER):
        return await run_in_threadpool(_judge, request, rule, actor)
    return _judge(request, rule, actor)


def _judge(request: Request, rule: Rule, actor: Actor) -> Access:
    claim = None
    if rule.subject is Subject.CLAIM:
        claim_id = request.path_params["claim_id"]
        claim = container_of(request).app.load_claim(claim_id, version=1 if rule.parties_only else None)
        relation = claim_relation(actor, claim)
    elif rule.subject is Subject.MERCHANT:
        relation = merchant_relation(actor, request.path_params["merchant_id"])
    elif rule.subject is Subject.ORDER:
        relation = order_relation(actor, container_of(request).app.orders.find_recorded(request.path_params["order_id"]))
    else:
        relation = Relation.OTHER
    verdict = rule.verdict(actor.role, relation)
    if verdict == "allow":
        return Access(rule, actor, claim)
    language = request_language(request)
    if claim is not None:
        claim_id = request.path_params["claim_id"]
        if verdict == 404:  # the same answer as for a claim that does not exist
            raise errors.ClaimNotFound(f"no claim {claim_id}", claim_id=claim_id)
        refusal = rule.refusal()
        error = refusal(f"{refusal_detail(rule, language)} ({actor})", claim_id=claim_id)
        error.localised = True
        raise error
    if verdict == 404:
        raise ApiProblem(404, "not-found", "Not found", f"no such {rule.subject.value} for you")
    raise ApiProblem(403, "forbidden-role", "Forbidden", refusal_detail(rule, language), localised=True)


Permit = Annotated[Access, Depends(enforce)]
"""The route's :class:`Access` (the same one the app-wide dependency computed: FastAPI caches it)."""


def served_routes(routes: list[BaseRoute]) -> Iterator[tuple[str, str, bool]]:
    """(method, path template, guarded by ``enforce``) of every route the app serves."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        guarded = isinstance(route, APIRoute) and any(
            dependency.call is enforce for dependency in context.dependant.dependencies
        )
        if isinstance(route, APIRoute | Route):
            for method in sorted(context.methods or ()):
                yield method, str(context.path), guarded


def check_app(api: FastAPI) -> None:
    """Refuse an app serving a route without a rule, or an unguarded route whose rule is not public."""
    served = list(served_routes(api.routes))
    permissions.check_covered((method, path) for method, path, _ in served)
    unguarded = sorted(
        f"{method} {path}"
        for method, path, guarded in served
        if not guarded and not permissions.rule_for(method, path).public
    )
    if unguarded:
        raise permissions.MissingRule("routes not guarded by the permission matrix: " + ", ".join(unguarded))
