"""``disputes orders import FILE.jsonl`` as a platform back-filling its orders runs it: a process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from disputes.adapters.migrations import require_migrated
from disputes.bootstrap import bootstrap
from disputes.settings import Settings
from support.processes import assert_one_line_error, run_cli


def order(order_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "buyer_id": "b1",
        "merchant_id": "m1",
        "currency": "CNY",
        "total_amount": "90.00",
        "placed_at": "2026-11-01T10:00:00+08:00",
        "delivered_at": "2026-11-03T15:30:00+08:00",
        "lines": [
            {"line_id": "cup", "sku": "C-1", "title": "茶杯", "quantity": 1, "unit_price": "30.00"},
            {"line_id": "pot", "sku": "P-1", "title": "茶壶", "quantity": 1, "unit_price": "60.00"},
        ],
        **changes,
    }


def write(path: Path, *orders: dict[str, Any] | str) -> Path:
    lines = [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in orders]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def recorded(database_url: str) -> list[str]:
    settings = Settings(database_url=database_url)
    require_migrated(settings.database)
    container = bootstrap(settings)
    try:
        return [o for o in ("o-1", "o-2", "o-3") if container.app.orders.find_recorded(o) is not None]
    finally:
        container.close()


@pytest.fixture
def migrated(database_url: str) -> str:
    assert run_cli(database_url, "migrate").returncode == 0
    return database_url


def test_a_file_of_orders_is_imported_with_a_progress_bar_and_again_changes_nothing(
    migrated: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "orders.jsonl", order("o-1"), order("o-2"), order("o-3", delivered_at=None))

    done = run_cli(migrated, "orders", "import", str(path))

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"imported 3 orders from {path}; 0 already recorded"
    assert "import [" in done.stderr and "3/3 orders" in done.stderr
    assert recorded(migrated) == ["o-1", "o-2", "o-3"]
    again = run_cli(migrated, "orders", "import", str(path))
    assert again.stdout.strip() == f"imported 0 orders from {path}; 3 already recorded"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (order("o-2", total_amount="100.00"), "line 2: total_amount 100.00 CNY is not the sum"),
        (order("o-2", total_amount=90.0), "line 2: 90.0 is a JSON number where a decimal string is due"),
        (order("o-2", placed_at="2026-11-01"), "line 2: placed_at must be an RFC 3339 time with a zone"),
        ('{"order_id": "o-2", ', "line 2: not JSON"),
        (order("o-2", shipping="express"), "line 2: unknown field shipping"),
        (order("o-1"), "line 2: order o-1 is on line 1 too"),
    ],
    ids=["a wrong total", "a float", "a date without a time", "not JSON", "an unknown field", "twice"],
)
def test_a_file_with_a_bad_line_is_refused_before_anything_of_it_is_recorded(
    migrated: str, tmp_path: Path, bad: dict[str, Any] | str, reason: str
) -> None:
    path = write(tmp_path / "orders.jsonl", order("o-1"), bad, order("o-3"))

    failed = run_cli(migrated, "orders", "import", str(path))

    assert_one_line_error(failed, reason)
    assert recorded(migrated) == []


def test_an_order_recorded_with_other_facts_refuses_the_file(migrated: str, tmp_path: Path) -> None:
    assert run_cli(migrated, "orders", "import", str(write(tmp_path / "a.jsonl", order("o-1")))).returncode == 0
    path = write(tmp_path / "b.jsonl", order("o-2"), order("o-1", merchant_id="m2"))

    failed = run_cli(migrated, "orders", "import", str(path))

    assert_one_line_error(failed, "line 2:", "merchant_id")
    assert recorded(migrated) == ["o-1"]
