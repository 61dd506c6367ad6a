"""An operator's least-privilege deployment on PostgreSQL, process by process.

``disputes migrate`` runs as the schema's owner (DISPUTES_MIGRATION_DATABASE_URL); the server, the
token commands and the audit check run as a login user in ``disputes_app``, which may only read and add
to the event store and the seal.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support import LoginUser, order_record
from support.processes import assert_one_line_error, run_cli, serving_process

pytestmark = pytest.mark.slow

CLAIM = {
    "order_id": "order-9",
    "merchant_id": "m1",
    "kind": "refund_only",
    "reason": "not_as_described",
    "order_amount": "120.00",
    "claimed_amount": "80.00",
    "currency": "USD",
    "delivered_at": "2026-11-18T17:30:00+00:00",
    "description": "The jacket is blue, the listing said black.",
}


def token(app_url: str, role: str, principal: str) -> str:
    added = run_cli(app_url, "principals", "add", "--role", role, "--id", principal)
    assert added.returncode == 0, added.stderr
    return added.stdout.strip().splitlines()[-1]


@pytest.fixture
def served(postgres_url: str, app_role_login: LoginUser) -> Iterator[tuple[str, str]]:
    """Migrated by the owner, then served as the login user: (base URL, the login user's URL)."""
    migrated = run_cli(app_role_login.url, "migrate", DISPUTES_MIGRATION_DATABASE_URL=postgres_url)
    assert migrated.returncode == 0, migrated.stderr
    assert "applied 0030_application_role" in migrated.stdout
    app_url = app_role_login.create()
    with serving_process(app_url) as base_url:
        yield base_url, app_url


def _ready_once_sealed(http: httpx.Client, position: int) -> dict[str, Any]:
    """/readyz once the in-process seal has reached ``position`` (bounded: it must get there)."""
    deadline = time.monotonic() + 30
    while True:
        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        body: dict[str, Any] = ready.json()
        if body["seal"]["head_position"] >= position:
            return body
        assert time.monotonic() < deadline, f"the seal did not reach {position}: {body}"
        time.sleep(0.1)


def test_a_claim_runs_its_course_served_by_the_application_role(served: tuple[str, str]) -> None:
    base_url, app_url = served
    platform, buyer, merchant, auditor = (
        token(app_url, r, i) for r, i in [("platform", "p1"), ("buyer", "b1"), ("merchant", "m1"), ("auditor", "a1")]
    )

    with httpx.Client(base_url=base_url, timeout=30) as http:
        order = {**order_record(buyer_id="b1"), "delivered_at": CLAIM["delivered_at"]}
        order["placed_at"] = order["placed_at"].isoformat()
        recorded = http.put("/orders/order-9", json=order, headers={"Authorization": f"Bearer {platform}"})
        assert recorded.status_code == 201, recorded.text  # the platform's order, as the application role
        opened = http.post("/claims", json=CLAIM, headers={"Authorization": f"Bearer {buyer}"})
        assert opened.status_code == 201, opened.text
        claim_id = opened.json()["id"]
        rejected = http.post(
            f"/claims/{claim_id}/merchant-response",
            json={"decision": "reject", "message": "Worn."},
            headers={"Authorization": f"Bearer {merchant}"},
        )
        assert rejected.status_code == 200, rejected.text
        position = int(rejected.headers["X-Disputes-Position"])
        timeline = http.get(
            f"/claims/{claim_id}/timeline",
            params={"min_position": position},
            headers={"Authorization": f"Bearer {auditor}"},
        )
        ready = _ready_once_sealed(http, position)

    assert timeline.status_code == 200, timeline.text
    assert len(timeline.json()["entries"]) == 2
    assert ready["store"]["head_position"] == position == 3  # the order, the claim, the answer
    assert ready["seal"]["lag"] == 0
    verified = run_cli(app_url, "verify-store")
    assert verified.returncode == 0, verified.stderr


def test_migrating_as_the_application_role_says_to_use_the_owner(
    postgres_url: str, app_role_login: LoginUser
) -> None:
    assert run_cli(postgres_url, "migrate").returncode == 0
    app_url = app_role_login.create()

    result = run_cli(app_url, "migrate")

    assert_one_line_error(result, "permission denied", "DISPUTES_MIGRATION_DATABASE_URL")


def test_a_migration_url_naming_another_database_is_refused(postgres_url: str, app_role_login: LoginUser) -> None:
    other = postgres_url.rsplit("/", 1)[0] + "/postgres"

    result = run_cli(app_role_login.url, "migrate", DISPUTES_MIGRATION_DATABASE_URL=other)

    assert_one_line_error(result, "DISPUTES_MIGRATION_DATABASE_URL", "must name the database")
