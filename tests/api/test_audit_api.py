"""POST /exports and the history diff, through the real FastAPI application."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from disputes.adapters.migrations import apply_migrations
from disputes.api.app import create_app
from disputes.application.claims import DisputesApplication
from disputes.application.history import history_page
from disputes.bootstrap import Container, bootstrap
from disputes.domain.parties import Actor, Role
from disputes.settings import Settings
from support import CLAIMANT_FACTS, audit_fixtures
from support.audit import START, Clock, Tamper, bundle_manifest, busy_store, verify_both

with warnings.catch_warnings():  # starlette's notice that its TestClient will move to httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

app, clock, db, key, key_dir, tamper = (
    audit_fixtures.app,
    audit_fixtures.clock,
    audit_fixtures.db,
    audit_fixtures.key,
    audit_fixtures.key_dir,
    audit_fixtures.tamper,
)
PERIOD = {"from": (START - timedelta(days=1)).isoformat(), "to": (START + timedelta(days=1)).isoformat()}


@pytest.fixture
def container(database_url: str, clock: Clock, key_dir: Path) -> Iterator[Container]:
    """The composition root with a signing key configured."""
    settings = Settings(
        database_url=database_url, signing_key_file=key_dir / "signing-key.pem", order_facts=CLAIMANT_FACTS
    )
    apply_migrations(settings.database)
    built = bootstrap(settings, clock=clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as http:
        yield http


def bearer(container: Container, role: Role, principal: str) -> dict[str, str]:
    _, token = container.principals.add(role, principal, now=container.clock())
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def claims(app: DisputesApplication, clock: Clock) -> list[str]:
    return busy_store(app, clock)


def test_a_regulator_receives_a_signed_period_bundle(
    client: TestClient, container: Container, claims: list[str], tmp_path: Path, key_dir: Path
) -> None:
    response = client.post("/exports", json=PERIOD, headers=bearer(container, Role.REGULATOR, "reg1"))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(response.content)
    assert verify_both(bundle, (key_dir / "signing-key.pub.pem").read_bytes()) is None
    assert response.headers["x-audit-last-hash"] == bundle_manifest(bundle)["last_hash"]


def test_an_auditor_exports_one_claim(
    client: TestClient, container: Container, claims: list[str], tmp_path: Path
) -> None:
    response = client.post(
        "/exports", json={"claim_id": claims[1]}, headers=bearer(container, Role.AUDITOR, "aud1")
    )

    assert response.status_code == 200, response.text
    bundle = tmp_path / "claim.zip"
    bundle.write_bytes(response.content)
    assert verify_both(bundle) is None


@pytest.mark.parametrize("role", [Role.BUYER, Role.MERCHANT, Role.MEDIATOR])
def test_only_regulators_and_auditors_export(
    client: TestClient, container: Container, claims: list[str], role: Role
) -> None:
    response = client.post("/exports", json=PERIOD, headers=bearer(container, role, "someone"))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [{}, {"from": PERIOD["from"]}, {**PERIOD, "claim_id": "x"}, {"from": PERIOD["to"], "to": PERIOD["from"]},
     {"from": "2026-11-01T00:00:00", "to": "2026-11-02T00:00:00"}, {**PERIOD, "extra": 1}],
    ids=["nothing", "from only", "both kinds", "backwards", "no zone", "unknown field"],
)  # fmt: skip
def test_a_malformed_export_request_is_422(
    client: TestClient, container: Container, body: dict[str, object]
) -> None:
    response = client.post("/exports", json=body, headers=bearer(container, Role.AUDITOR, "aud1"))

    assert response.status_code == 422, response.text


def test_an_unknown_claim_is_404(client: TestClient, container: Container, claims: list[str]) -> None:
    response = client.post(
        "/exports", json={"claim_id": "nope"}, headers=bearer(container, Role.AUDITOR, "aud1")
    )

    assert response.status_code == 404
    assert response.json()["type"] == "/problems/claim-not-found"


def test_an_export_over_a_tampered_store_is_refused_with_the_position(
    client: TestClient, container: Container, claims: list[str], tamper: Tamper
) -> None:
    headers = bearer(container, Role.REGULATOR, "reg1")
    assert client.post("/exports", json=PERIOD, headers=headers).status_code == 200
    tamper.replace_in_state(8, b"Not enough", b"Very fair!")

    response = client.post("/exports", json=PERIOD, headers=headers)

    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "/problems/audit-chain-broken"
    assert problem["detail"].startswith("position 8 altered")


def test_without_a_signing_key_exports_are_unavailable(database_url: str, clock: Clock) -> None:
    settings = Settings(database_url=database_url)
    apply_migrations(settings.database)
    built = bootstrap(settings, clock=clock)
    try:
        with TestClient(create_app(built)) as http:
            response = http.post("/exports", json=PERIOD, headers=bearer(built, Role.AUDITOR, "aud1"))
    finally:
        built.close()

    assert response.status_code == 503
    assert response.json()["type"] == "/problems/signing-key-missing"


def test_history_with_diff_shows_what_each_event_changed(app: DisputesApplication, claims: list[str]) -> None:
    auditor = Actor(Role.AUDITOR, "aud1")

    entries = history_page(app, auditor, claims[0], diff=True).entries

    assert [e["version"] for e in entries] == [1, 2, 3, 4, 5]
    assert set(entries[0]) == {"version", "type", "recorded_at", "actor", "data", "changes"}
    opened = entries[0]["changes"]
    assert opened["status"] == {"before": None, "after": "awaiting_merchant"}
    assert opened["order_amount"] == {"before": None, "after": {"amount": "100.00", "currency": "CNY"}}
    offer = entries[1]["changes"]
    assert offer["status"] == {"before": "awaiting_merchant", "after": "offer_pending"}
    assert offer["offer_amount"] == {"before": None, "after": {"amount": "50.00", "currency": "CNY"}}
    assert entries[2]["type"] == "MessagePosted" and entries[2]["changes"] == {}
    assert entries[3]["changes"]["status"]["after"] == "offer_declined"


def test_a_page_of_the_history_with_diff_shows_the_same_changes_as_the_whole(
    app: DisputesApplication, claims: list[str]
) -> None:
    auditor = Actor(Role.AUDITOR, "aud1")
    whole = history_page(app, auditor, claims[0], diff=True).entries

    first = history_page(app, auditor, claims[0], diff=True, limit=2)
    second = history_page(app, auditor, claims[0], diff=True, limit=2, after_version=2)

    assert [e["version"] for e in first.entries] == [1, 2] and first.next_after == 2
    assert second.entries == whole[2:4] and second.next_after == 4
    assert history_page(app, auditor, claims[0], after_version=5).entries == []
