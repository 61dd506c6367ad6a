"""Administration of principals: issue, list and revoke API tokens (admins; the matrix says so).

A token is shown once, in the answer that issues it; only its SHA-256 digest is stored. Listings and
revocations name a token by its public ``token_id``. The same store serves ``disputes principals``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, status

from disputes.adapters.principals import TokenRecord
from disputes.api.deps import ContainerDep, CurrentActor
from disputes.api.responses import problem_responses
from disputes.api.schemas.principals import PrincipalCreate, PrincipalCreated, PrincipalPublic
from disputes.bootstrap import Container
from disputes.domain.parties import Role

router = APIRouter(prefix="/principals", tags=["administration"])
TokenId = Annotated[str, Path(pattern=r"^[A-Za-z0-9]{12}$", description="the token's public id, as listed")]


DESCRIBED = {
    403: "only admins manage principals",
    404: "no token with this id",
    409: "the last active admin token cannot be revoked",
    422: "malformed input",
}


def _public(record: TokenRecord, container: Container) -> PrincipalPublic:
    return PrincipalPublic.of(record, container.clock())


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(DESCRIBED, 403, 422),
    summary="Issue a token for a principal (admins); the token is shown only in this answer",
)
def create_principal(body: PrincipalCreate, container: ContainerDep, actor: CurrentActor) -> PrincipalCreated:
    """Issue a token for a principal (admins); the token is shown only in this answer."""
    now = container.clock()
    expires_at = body.expires_at
    if body.ttl_seconds is not None:
        expires_at = now + timedelta(seconds=body.ttl_seconds)
    record, token = container.principals.add(Role(body.role.value), body.id, expires_at, now=now)
    return PrincipalCreated(**_public(record, container).model_dump(), token=token)


@router.get(
    "",
    responses=problem_responses(DESCRIBED, 403),
    summary="Every token issued, oldest first, never the token itself (admins)",
)
def list_principals(container: ContainerDep, actor: CurrentActor) -> list[PrincipalPublic]:
    """Every token issued, oldest first, never the token itself (admins)."""
    return [_public(record, container) for record in container.principals.list()]


@router.delete(
    "/{token_id}",
    responses=problem_responses(DESCRIBED, 403, 404, 409),
    summary="Revoke a token at once (admins); revoking a revoked token changes nothing",
)
def revoke_principal(token_id: TokenId, container: ContainerDep, actor: CurrentActor) -> PrincipalPublic:
    """Revoke a token at once (admins); revoking a revoked token changes nothing."""
    record = container.principals.revoke_keeping_an_admin(token_id, now=container.clock())
    return _public(record, container)
