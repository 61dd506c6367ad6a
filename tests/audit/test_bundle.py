"""Export bundles: period and claim exports, their links, their agreement, and refusal over a tampered
range, on every backend; each bundle checked by both verifiers."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from disputes.adapters.database import DatabaseUrl
from disputes.application.claims import DisputesApplication
from disputes.audit import IntegrityFault
from disputes.audit.bundle import Period, export_bundle
from disputes.audit.canonical import ZERO_HASH
from disputes.audit.chain import seal_reader
from disputes.audit.format import CLAIM_COLUMNS, FORMAT, MEMBERS
from disputes.audit.keys import SigningKey
from disputes.domain.errors import ClaimNotFound
from support.audit import START, Clock, Tamper, bundle_lines, bundle_manifest, busy_store, verify_both

EVERYTHING = Period(START - timedelta(days=1), START + timedelta(days=30))


@pytest.fixture
def claims(app: DisputesApplication, clock: Clock) -> list[str]:
    """Three claims, five events each, one hour apart: positions 1..15 at START, START+1h, ... START+14h."""
    return busy_store(app, clock)


def test_a_period_export_holds_the_period_and_verifies(
    app: DisputesApplication,
    db: DatabaseUrl,
    key: SigningKey,
    claims: list[str],
    tmp_path: Path,
    key_dir: Path,
) -> None:
    result = export_bundle(app, db, key, tmp_path / "all.zip", period=EVERYTHING)

    with zipfile.ZipFile(result.path) as archive:
        assert sorted(archive.namelist()) == sorted(MEMBERS)
    manifest = bundle_manifest(result.path)
    assert manifest == result.manifest
    assert (manifest["format"], manifest["kind"], manifest["counts"]) == (
        FORMAT,
        "period",
        {"events": 15, "claims": 3},
    )
    assert (manifest["range"]["first_position"], manifest["range"]["last_position"]) == (1, 15)
    assert manifest["first_prev_hash"] == ZERO_HASH and manifest["key_id"] == key.key_id
    lines = bundle_lines(result.path)
    assert [r["position"] for r in lines] == list(range(1, 16))
    assert manifest["last_hash"] == lines[-1]["hash"]
    assert verify_both(result.path) is None
    assert verify_both(result.path, (key_dir / "signing-key.pub.pem").read_bytes()) is None


def test_the_export_matches_the_seal(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, claims: list[str], tmp_path: Path
) -> None:
    result = export_bundle(app, db, key, tmp_path / "all.zip", period=EVERYTHING)

    with seal_reader(db) as reader:
        sealed = [(r.position, r.hash) for r in reader.rows(0, 100)]
    assert [(r["position"], r["hash"]) for r in bundle_lines(result.path)] == sealed


def test_consecutive_period_exports_link(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, claims: list[str], tmp_path: Path
) -> None:
    cut = START + timedelta(hours=6)  # positions 1..6 before, 7..15 from then on
    first = export_bundle(app, db, key, tmp_path / "1.zip", period=Period(EVERYTHING.start, cut))
    second = export_bundle(app, db, key, tmp_path / "2.zip", period=Period(cut, EVERYTHING.end))

    assert [r["position"] for r in bundle_lines(first.path)] == list(range(1, 7))
    assert [r["position"] for r in bundle_lines(second.path)] == list(range(7, 16))
    assert (
        second.manifest["first_prev_hash"]
        == first.manifest["last_hash"]
        == bundle_lines(first.path)[-1]["hash"]
    )
    assert verify_both(second.path, previous=first.path) is None


def test_an_empty_period_carries_the_chain_through(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, claims: list[str], tmp_path: Path
) -> None:
    before = export_bundle(
        app, db, key, tmp_path / "1.zip", period=Period(EVERYTHING.start, START + timedelta(days=2))
    )
    empty = export_bundle(
        app, db, key, tmp_path / "2.zip", period=Period(START + timedelta(days=2), START + timedelta(days=3))
    )

    assert empty.manifest["counts"] == {"events": 0, "claims": 0}
    assert empty.manifest["first_prev_hash"] == empty.manifest["last_hash"] == before.manifest["last_hash"]
    assert verify_both(empty.path, previous=before.path) is None


def test_a_claim_export_holds_every_version_with_the_global_chain_hashes(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, claims: list[str], tmp_path: Path
) -> None:
    period = export_bundle(app, db, key, tmp_path / "all.zip", period=EVERYTHING)
    one = export_bundle(app, db, key, tmp_path / "claim.zip", claim_id=claims[1])

    lines = bundle_lines(one.path)
    assert [(r["claim_id"], r["version"]) for r in lines] == [(claims[1], v) for v in range(1, 6)]
    by_position = {r["position"]: r for r in bundle_lines(period.path)}
    assert all(by_position[r["position"]] == r for r in lines)
    assert one.manifest["kind"] == "claim"
    assert one.manifest["range"] == {
        "claim_id": claims[1],
        "first_version": 1,
        "last_version": 5,
        "first_position": 2,
        "last_position": 14,
    }
    assert one.manifest["first_prev_hash"] == by_position[1]["hash"]
    assert verify_both(one.path) is None


def test_an_unknown_claim_is_not_found(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, claims: list[str], tmp_path: Path
) -> None:
    with pytest.raises(ClaimNotFound):
        export_bundle(app, db, key, tmp_path / "x.zip", claim_id="00000000-0000-0000-0000-000000000000")
    assert not (tmp_path / "x.zip").exists()


def test_claims_csv_is_utf8_with_a_bom_and_one_row_per_claim(
    app: DisputesApplication, db: DatabaseUrl, key: SigningKey, claims: list[str], tmp_path: Path
) -> None:
    later = Period(START + timedelta(hours=5), EVERYTHING.end)  # from position 6: every claim opened before
    result = export_bundle(app, db, key, tmp_path / "later.zip", period=later)

    with zipfile.ZipFile(result.path) as archive:
        data = archive.read("claims.csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert [row["claim_id"] for row in rows] == [claims[2], claims[0], claims[1]]
    assert list(rows[0]) == list(CLAIM_COLUMNS)
    assert (
        rows[0]["order_id"] == "o-2" and rows[0]["order_amount"] == "100.00" and rows[0]["buyer_id"] == "b1"
    )
    assert (rows[0]["events"], rows[0]["first_version"], rows[0]["last_version"]) == ("4", "2", "5")
    assert rows[1]["last_event"] == "MediationRequested"


@pytest.mark.parametrize("damage", ["alter", "delete", "swap"])
def test_an_export_over_a_tampered_range_is_refused_naming_the_position(
    app: DisputesApplication,
    db: DatabaseUrl,
    key: SigningKey,
    claims: list[str],
    tmp_path: Path,
    tamper: Tamper,
    damage: str,
) -> None:
    export_bundle(app, db, key, tmp_path / "sealed.zip", period=EVERYTHING)  # seals everything
    if damage == "alter":
        tamper.replace_in_state(8, b"Not enough", b"Quite fair")
    elif damage == "delete":
        tamper.delete(8)
    else:
        tamper.swap(8, 11)

    with pytest.raises(IntegrityFault) as refused:
        export_bundle(app, db, key, tmp_path / "refused.zip", period=EVERYTHING)
    assert refused.value.position == 8
    assert refused.value.detail.startswith("position 8 ")
    assert not (tmp_path / "refused.zip").exists()
    assert list(tmp_path.glob("*.part")) == []

    with pytest.raises(IntegrityFault, match="position 8"):
        export_bundle(app, db, key, tmp_path / "claim.zip", claim_id=claims[1])
    # the period before the damage still exports
    early = export_bundle(
        app, db, key, tmp_path / "early.zip", period=Period(EVERYTHING.start, START + timedelta(hours=7))
    )
    assert early.manifest["counts"]["events"] == 7
