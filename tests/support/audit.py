"""Helpers of the audit tests: a turning clock, claims whose events interleave, raw tampering with the
event table (as someone with database access could), and the standalone verifier loaded from its path."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from disputes.adapters.database import DatabaseUrl, connect
from disputes.application.claims import DisputesApplication
from disputes.domain.parties import Actor, Role
from support import given_order

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "verify_bundle.py"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BUYER, MERCHANT = Actor(Role.BUYER, "b1"), Actor(Role.MERCHANT, "m1")


class Clock:
    """A clock that moves only when told."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def open_claim(
    app: DisputesApplication, order: str = "o-1", description: str = "The vase arrived broken."
) -> str:
    given_order(app, order, buyer_id=BUYER.id, merchant_id=MERCHANT.id, total="100.00", currency="CNY",
                delivered_at=START - timedelta(days=3))
    result = app.open_claim(
        BUYER,
        order_id=order,
        merchant_id=MERCHANT.id,
        kind="refund_only",  # type: ignore[arg-type]
        reason="damaged",  # type: ignore[arg-type]
        order_amount="100.00",
        claimed_amount="80.00",
        currency="CNY",
        delivered_at=START - timedelta(days=3),
        description=description,
    )
    return str(result.claim.id)


STEPS = ("open", "offer", "message", "decline", "mediation")
"""What :func:`busy_store` does to each claim, one step for every claim in turn (so claims interleave)."""


def busy_store(app: DisputesApplication, clock: Clock, claims: int = 3, steps: int = len(STEPS)) -> list[str]:
    """``claims`` claims whose events interleave in the log, the clock one hour on after each event."""
    ids: list[str] = []
    # Orders of their own on every call (one open claim per order), the same for the same history.
    head = app.recorder.max_notification_id() or 0
    prefix = f"o-{head}-" if head else "o-"
    for step in STEPS[:steps]:
        for n in range(claims):
            if step == "open":
                ids.append(open_claim(app, order=f"{prefix}{n}", description=f"Broken vase n°{n} — 花瓶"))
            elif step == "offer":
                app.respond(MERCHANT, ids[n], decision="offer", amount="50.00", message="Half?")  # type: ignore[arg-type]
            elif step == "message":
                app.post_message(BUYER, ids[n], body='Not enough: "half" is unfair.\nIt was new.')
            elif step == "decline":
                app.answer_offer(BUYER, ids[n], accept=False)
            else:
                app.request_mediation(BUYER, ids[n], reason="We disagree.")
            clock.advance(hours=1)
    return ids


@dataclass
class Tamper:
    """Raw changes to the event table, as an operator with database access (or a superuser) could make."""

    app: DisputesApplication
    db: DatabaseUrl

    @property
    def table(self) -> str:
        return str(getattr(self.app.recorder, "events_table_name"))  # noqa: B009 - not in the ABC

    @property
    def position(self) -> str:
        return "rowid" if self.db.dialect == "sqlite" else "notification_id"

    def _sql(self, text: str) -> str:
        text = text.replace("{table}", self.table).replace("{position}", self.position)
        return text if self.db.dialect == "sqlite" else text.replace("?", "%s")

    def _run(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        with connect(self.db) as conn:
            if self.db.dialect == "postgres":  # a superuser switches the append-only guard off first
                conn.execute(f"ALTER TABLE {self.table} DISABLE TRIGGER disputes_events_no_update")
                conn.execute(f"ALTER TABLE {self.table} DISABLE TRIGGER disputes_events_no_delete")
            for text, params in statements:
                conn.execute(self._sql(text), params)
            if self.db.dialect == "postgres":
                conn.execute(f"ALTER TABLE {self.table} ENABLE TRIGGER disputes_events_no_update")
                conn.execute(f"ALTER TABLE {self.table} ENABLE TRIGGER disputes_events_no_delete")

    def state(self, position: int) -> bytes:
        with connect(self.db) as conn:
            row = conn.execute(
                self._sql("SELECT state FROM {table} WHERE {position} = ?"), (position,)
            ).fetchone()
        return bytes(row[0])

    def replace_in_state(self, position: int, old: bytes, new: bytes) -> None:
        state = self.state(position)
        assert old in state, state
        self._run(("UPDATE {table} SET state = ? WHERE {position} = ?", (state.replace(old, new), position)))

    def delete(self, position: int) -> None:
        self._run(("DELETE FROM {table} WHERE {position} = ?", (position,)))

    def swap(self, a: int, b: int) -> None:
        move = "UPDATE {table} SET {position} = ? WHERE {position} = ?"
        self._run((move, (-1, a)), (move, (a, b)), (move, (b, -1)))


def load_tool() -> ModuleType:
    """tools/verify_bundle.py, imported from its path (it is not part of any package)."""
    name = "verify_bundle_tool"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def bundle_lines(path: Path) -> list[dict[str, Any]]:
    """The records of a bundle's events.jsonl."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return [json.loads(line) for line in archive.read("events.jsonl").splitlines()]


def bundle_manifest(path: Path) -> dict[str, Any]:
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return manifest


def verify_both(path: Path, public_key: bytes | None = None, previous: Path | None = None) -> str | None:
    """Verify with the server's verifier and with tools/verify_bundle.py; both must agree. The fault or None."""
    from disputes.audit.verify_bundle import verify_bundle

    ours = verify_bundle(path, public_key, previous)
    theirs = load_tool().verify_bundle(path, public_key, previous)
    assert (str(ours.fault) if ours.fault else None) == (str(theirs.fault) if theirs.fault else None)
    if ours.fault is not None:
        assert ours.fault.code == theirs.fault.code
        return f"{ours.fault.code}: {ours.fault}"
    assert ours.summary() == theirs.summary()
    return None
