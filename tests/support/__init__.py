"""Tools every test layer shares: a hand-turned clock and a migrated composition root."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from disputes.adapters.database import DatabaseUrl
from disputes.adapters.migrations import apply_migrations
from disputes.application.claims import CommandResult, DisputesApplication
from disputes.bootstrap import Container, bootstrap
from disputes.domain.order import OrderFacts
from disputes.domain.parties import Actor, Role
from disputes.settings import Settings

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class ManualClock:
    """A clock that moves only when told: events, deadlines and token checks read it."""

    def __init__(self, now: datetime = START) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


PLACED_AT = datetime(2020, 1, 2, 9, 0, tzinfo=UTC)
"""When every test order was placed: before any test clock's first reading, so deliveries follow it."""
PLATFORM = Actor(Role.PLATFORM, "plat1")


def order_record(
    *,
    buyer_id: str,
    merchant_id: str = "m1",
    total: str = "120.00",
    currency: str = "USD",
    lines: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """An order's facts as the platform sends them (``PUT /orders/{id}``): one line by default."""
    return {
        "buyer_id": buyer_id,
        "merchant_id": merchant_id,
        "currency": currency,
        "total_amount": total,
        "placed_at": PLACED_AT,
        "lines": list(
            lines or [{"line_id": "line-1", "sku": "SKU-1", "title": "The goods", "quantity": 1, "unit_price": total}]
        ),
    }


def given_order(
    app: DisputesApplication,
    order_id: str,
    *,
    delivered_at: datetime | None,
    **facts: Any,
) -> None:
    """The platform's order ``order_id`` recorded (the same facts again change nothing); nothing when
    the application takes the claimant's word for the order (``order_facts = "claimant"``)."""
    if app.order_facts == "claimant":
        return
    record = order_record(**facts)
    parsed = OrderFacts.parse(**{k: v for k, v in record.items()})
    app.orders.record(PLATFORM, order_id, parsed, delivered_at)


def open_with_order(app: DisputesApplication, buyer: Actor, **claim: Any) -> CommandResult:
    """Open a claim as a v1 client states it, after the platform recorded its order with those facts."""
    given_order(
        app,
        claim["order_id"],
        buyer_id=buyer.id,
        merchant_id=claim["merchant_id"],
        total=claim["order_amount"],
        currency=claim["currency"],
        delivered_at=claim.get("delivered_at"),
    )
    return app.open_claim(buyer, **claim)


CLAIMANT_FACTS = "claimant"
"""The read-side and audit tests judge claims by the claimant's word (v1): their arithmetic of positions
is the claims' own. Orders in the log, the seal and exports have tests of their own."""


@contextmanager
def migrated_container(settings: Settings, clock: ManualClock) -> Iterator[Container]:
    """The composition root on a migrated database, closed afterwards."""
    apply_migrations(settings.database)
    built = bootstrap(settings, clock=clock)
    try:
        yield built
    finally:
        built.close()


APPLICATION_ROLE = "disputes_app"
"""The group role migration 0030 creates; shared by every database of the cluster, so never dropped."""


@dataclass
class LoginUser:
    """A LOGIN user IN ROLE disputes_app for one PostgreSQL database, as an operator makes for the server.

    Its URL is known at once; :meth:`create` makes it once the database is migrated (migration 0030
    creates the group role), :meth:`drop` removes it.
    """

    owner_url: str
    name: str
    password: str
    created: bool = field(default=False, init=False)

    @property
    def url(self) -> str:
        db = DatabaseUrl.parse(self.owner_url)
        auth = f"{quote(self.name, safe='')}:{quote(self.password, safe='')}"
        return f"postgresql://{auth}@{db.host}:{db.port}/{quote(db.dbname, safe='')}"

    def create(self) -> str:
        statement = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            sql.Identifier(self.name), sql.Literal(self.password), sql.Identifier(APPLICATION_ROLE)
        )
        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            conn.execute(statement)
        self.created = True
        return self.url

    def drop(self) -> None:
        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (self.name,)
            )
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.name)))


COMMAND_EXAMPLES: dict[str, dict[str, object]] = {
    "merchant-response": {"decision": "accept"},
    "offer-answer": {"accept": True},
    "messages": {"body": "Hello."},
    "evidence": {"kind": "photo", "description": "Box.", "sha256": "a" * 64, "size_bytes": 1},
    "mediation-request": {"reason": "Please."},
    "assignment": {},
    "evidence-request": {"from_party": "buyer", "description": "A photo."},
    "decision": {"outcome": "claim_rejected", "rationale": "Worn."},
    "return-shipment": {"carrier": "Post", "tracking_number": "T1"},
    "return-receipt": {"condition": "as_sent"},
    "refunds": {"amount": "1.00", "payment_reference": "P1"},
    "legal-escalation": {"reason": "Court."},
    "legal-outcome": {"outcome": "won", "reference": "R1"},
    "withdrawal": {"reason": "Found it."},
    "closure": {"summary": "Done."},
    "appeal": {"reason": "The decision is wrong."},
    "appeal-decision": {"outcome": "upheld", "rationale": "The decision stands."},
}
"""A valid body of each claim command (``POST /claims/{claim_id}/<name>``)."""

CELL_PRINCIPALS: dict[tuple[str, str], str] = {
    ("buyer", "own buyer"): "b1",
    ("buyer", "other"): "b2",
    ("merchant", "own merchant"): "m1",
    ("merchant", "other"): "m2",
    ("mediator", "assigned mediator"): "med1",
    ("mediator", "other"): "med2",
    ("auditor", "other"): "aud1",
    ("regulator", "other"): "reg1",
    ("admin", "other"): "adm1",
    ("platform", "other"): "plat1",
}
"""Who stands in each cell of the permission matrix (role, relation), for a claim b1 opened on m1 with
med1 assigned, or for merchant m1."""


def run_together(*work: Callable[[], None]) -> None:
    """Run each function in a thread of its own, all released at once; return when all are done."""
    start = threading.Barrier(len(work))

    def released(fn: Callable[[], None]) -> None:
        start.wait()
        fn()

    threads = [threading.Thread(target=released, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def policy_file(directory: Any, name: str = "policy.toml", **values: Any) -> Any:
    """The built-in policy with some ``key = value`` lines changed (``standing_min_decided=1``), written to
    ``directory / name``; each key must be in the built-in file once."""
    from disputes.adapters.policy_file import default_policy_text

    lines = default_policy_text().splitlines()
    for key, value in values.items():
        matches = [i for i, line in enumerate(lines) if line.split("=")[0].strip() == key]
        assert len(matches) == 1, f"{key} is not one line of the built-in policy"
        written = f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else value
        lines[matches[0]] = f"{key} = {written}"
    path = directory / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
