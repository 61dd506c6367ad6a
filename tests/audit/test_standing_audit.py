"""A merchant's standing events are part of the audit trail: sealed by the read-side runner in store
order among the claims' events, checked by verify-store, exported and verified by both verifiers."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from disputes.adapters.database import DatabaseUrl
from disputes.application.claims import DisputesApplication
from disputes.application.standing import MerchantStandings
from disputes.audit.bundle import Period, export_bundle
from disputes.audit.chain import seal_reader
from disputes.audit.format import CLAIM_COLUMNS
from disputes.audit.keys import SigningKey
from disputes.audit.verify_store import verify_store
from disputes.bootstrap import Container, build_runner
from disputes.domain.standing import StandingFigures, Tier, standing_id_for
from support.audit import MERCHANT, START, Clock, bundle_lines, bundle_manifest, busy_store, verify_both

EVERYTHING = Period(START - timedelta(days=1), START + timedelta(days=30))


@pytest.fixture
def standing_id(app: DisputesApplication, clock: Clock) -> str:
    """Three claims (positions 1..15), then the merchant restricted and appealing (16..18), then more claim
    events (19..): the standing's events sit inside the chain, not at its end."""
    ids = busy_store(app, clock, claims=3, steps=3)
    standings = MerchantStandings(app)
    figures = StandingFigures(Tier.RESTRICTED, 41, 3, 3, "1.0000", 3, "1.0000", 0, 0, 9, tuple(ids))
    assert standings.review(MERCHANT.id, figures) is not None
    clock.advance(hours=1)
    standings.lodge_appeal(MERCHANT, MERCHANT.id, reason="Carrier damage — 承运人损坏.")
    clock.advance(hours=1)
    busy_store(app, clock, claims=1, steps=2)
    return str(standing_id_for(MERCHANT.id))


def test_the_runner_seals_standing_events_in_store_order_and_verify_store_agrees(
    app: DisputesApplication, container: Container, db: DatabaseUrl, standing_id: str
) -> None:
    runner = build_runner(container, ["audit_seal"])
    try:
        runner.run_until_caught_up()
    finally:
        runner.close()
    head = int(app.recorder.max_notification_id() or 0)
    with seal_reader(db) as reader:
        rows = list(reader.rows(0, head))
        report = verify_store(app, reader, None, None)
    assert [r.position for r in rows] == list(range(1, head + 1))
    assert [(r.position, r.version) for r in rows if r.claim_id == standing_id] == [(10, 1), (11, 2), (12, 3)]
    assert report.ok, report.summary()
    assert (report.checked, report.unsealed) == (head, 0)


def test_an_export_holding_standing_events_verifies_and_lists_the_standing_in_claims_csv(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, standing_id: str, tmp_path: Path
) -> None:
    result = export_bundle(app, db, key, tmp_path / "all.zip", period=EVERYTHING)

    lines = bundle_lines(result.path)
    standing = [r for r in lines if r["claim_id"] == standing_id]
    assert [r["type"] for r in standing] == ["StandingOpened", "Restricted", "AppealLodged"]
    assert standing[1]["actor"] == {"role": "system", "id": "standing-engine"}
    assert standing[1]["data"]["rule"] == "scorecard-restricted-restricts"
    assert verify_both(result.path) is None
    with zipfile.ZipFile(result.path) as archive:
        text = archive.read("claims.csv").decode("utf-8-sig")
    rows = {row["claim_id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert list(next(csv.reader(io.StringIO(text)))) == list(CLAIM_COLUMNS)
    assert (rows[standing_id]["events"], rows[standing_id]["last_event"]) == ("3", "AppealLodged")
    assert rows[standing_id]["order_id"] == rows[standing_id]["buyer_id"] == ""
    assert bundle_manifest(result.path)["counts"] == {"events": len(lines), "claims": 5}


def test_a_later_period_starting_after_the_standing_opened_verifies_too(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, standing_id: str, tmp_path: Path
) -> None:
    later = Period(START + timedelta(hours=9, minutes=30), START + timedelta(days=30))
    result = export_bundle(app, db, key, tmp_path / "later.zip", period=later)

    assert [r["type"] for r in bundle_lines(result.path) if r["claim_id"] == standing_id] == ["AppealLodged"]
    with zipfile.ZipFile(result.path) as archive:
        text = archive.read("claims.csv").decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["claim_id"] == standing_id)
    assert (row["buyer_id"], row["opened_at"]) == ("", "")
    assert verify_both(result.path) is None


def test_a_standing_exports_alone_like_a_claim(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, standing_id: str, tmp_path: Path
) -> None:
    result = export_bundle(app, db, key, tmp_path / "standing.zip", claim_id=standing_id)

    assert [r["version"] for r in bundle_lines(result.path)] == [1, 2, 3]
    assert verify_both(result.path) is None
