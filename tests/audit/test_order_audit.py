"""Orders are sealed into the audit chain like every other aggregate, and shown in exports."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from disputes.adapters.migrations import apply_migrations
from disputes.audit.bundle import Period, export_bundle
from disputes.audit.chain import seal_new_events
from disputes.audit.keys import SigningKey
from disputes.audit.verify_store import verify_store_at
from disputes.bootstrap import Container, bootstrap
from disputes.settings import Settings
from support import given_order
from support.audit import BUYER, MERCHANT, START, Clock, bundle_lines, verify_both


@pytest.fixture
def platform_container(database_url: str) -> Iterator[Container]:
    """The production default: claims judged by the platform's orders."""
    settings = Settings(database_url=database_url)
    apply_migrations(settings.database)
    built = bootstrap(settings, clock=Clock(START))
    try:
        yield built
    finally:
        built.close()


def test_an_orders_events_are_sealed_exported_and_verified_with_its_claims(
    platform_container: Container, key: SigningKey, key_dir: Path, tmp_path: Path
) -> None:
    app = platform_container.app
    given_order(app, "o-77", buyer_id=BUYER.id, merchant_id=MERCHANT.id, total="100.00", currency="CNY",
                delivered_at=START - timedelta(days=1))
    claim_id = str(app.open_claim(BUYER, order_id="o-77", kind="refund_only", reason="damaged",  # type: ignore[arg-type]
                                  claimed_amount="100.00", description="Broken.").claim.id)
    app.respond(MERCHANT, claim_id, decision="accept", amount=None, message="Sorry.")  # type: ignore[arg-type]
    app.refund(MERCHANT, claim_id, amount="100.00", payment_reference="pay-1")
    db = platform_container.settings.database
    seal_new_events(app, db)
    assert verify_store_at(app, db).fault is None

    out = tmp_path / "period.zip"
    export_bundle(app, db, key, out, period=Period(START - timedelta(days=1), START + timedelta(days=1)), now=START)

    assert verify_both(out, (key_dir / "signing-key.pub.pem").read_bytes()) is None
    types = [line["type"] for line in bundle_lines(out)]
    assert types == ["OrderRecorded", "ClaimOpened", "MerchantResponded", "Refunded", "RefundCounted"]
    with zipfile.ZipFile(out) as bundle:
        rows = list(csv.DictReader(io.StringIO(bundle.read("claims.csv").decode("utf-8-sig"))))
    order_row = next(row for row in rows if row["order_id"] == "o-77" and row["claim_id"] != claim_id)
    assert (order_row["buyer_id"], order_row["merchant_id"], order_row["currency"]) == ("b1", "m1", "CNY")
