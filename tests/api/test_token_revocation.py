"""A revoked token is refused on its very next request by every server process, though each checks
tokens from memory."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from disputes.domain.parties import Role
from disputes.settings import Settings
from support import migrated_container
from support.processes import server_process


@pytest.mark.slow
def test_a_token_revoked_through_one_server_process_is_refused_by_another_on_its_very_next_request(
    database_url: str,
) -> None:
    now = datetime.now(UTC)
    with migrated_container(Settings(database_url=database_url), lambda: now) as container:  # type: ignore[arg-type]
        buyer, buyer_token = container.principals.add(Role.BUYER, "b1", now=now)
        _, admin_token = container.principals.add(Role.ADMIN, "adm1", now=now)
    as_buyer = {"Authorization": f"Bearer {buyer_token}"}
    with server_process(database_url) as (_, first), server_process(database_url) as (_, second):
        with httpx.Client(timeout=30) as http:
            for _ in range(3):  # known to both, and from then on checked from memory
                for base in (first, second):
                    assert http.get(f"{base}/claims?limit=1", headers=as_buyer).status_code == 200

            revoked = http.delete(f"{first}/principals/{buyer.token_id}",
                                  headers={"Authorization": f"Bearer {admin_token}"})
            assert revoked.status_code == 200, revoked.text

            for base in (second, first):
                refused = http.get(f"{base}/claims?limit=1", headers=as_buyer)
                assert refused.status_code == 401
                assert refused.json()["type"] == "/problems/invalid-token"
