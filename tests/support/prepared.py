"""Data for the tests that drive ``disputes serve`` as a process: a buyer's token, open claims to post
messages on, and orders not yet claimed, recorded before the server starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from disputes.domain.parties import Actor, Role
from disputes.settings import Settings
from support import given_order, migrated_container

BUYER = Actor(Role.BUYER, "b1")


@dataclass
class Prepared:
    buyer_token: str
    claims: list[str]
    spare_orders: list[str]


def prepare(database_url: str, claims: int, spare_orders: int = 2) -> Prepared:
    """Tokens, ``claims`` open claims of buyer b1 to post messages on, and orders not yet claimed."""
    settings = Settings(database_url=database_url, projections_in_process=False, deadlines_in_process=False)
    with migrated_container(settings, lambda: datetime.now(UTC)) as container:  # type: ignore[arg-type]
        app = container.app
        _, token = container.principals.add(Role.BUYER, "b1", now=datetime.now(UTC))
        delivered = datetime.now(UTC) - timedelta(days=1)
        ids = []
        for i in range(claims):
            given_order(app, f"o-load-{i}", delivered_at=delivered, buyer_id="b1")
            opened = app.open_claim(BUYER, order_id=f"o-load-{i}", kind="refund_only", reason="damaged",  # type: ignore[arg-type]
                                    claimed_amount="10.00", description="Broken on arrival.")
            ids.append(str(opened.claim.id))
        spare = [f"o-spare-{i}" for i in range(spare_orders)]
        for order_id in spare:
            given_order(app, order_id, delivered_at=delivered, buyer_id="b1")
    return Prepared(token, ids, spare)
