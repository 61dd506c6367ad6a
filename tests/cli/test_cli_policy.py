"""``disputes policy simulate`` run as a separate process against claims recorded at chosen times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from disputes.adapters.policy_file import default_policy_text
from disputes.domain.parties import Actor, Role
from disputes.domain.vocabulary import MerchantDecision
from disputes.settings import Settings
from support import ManualClock, migrated_container, open_with_order
from support.processes import assert_one_line_error, run_cli

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
BUYER = Actor(Role.BUYER, "b1")
MERCHANT = Actor(Role.MERCHANT, "m1")
PERIOD = ("--from", "2025-03-03T00:00:00Z", "--to", "2025-03-05T09:00:00Z")


def record_claims(database_url: str) -> dict[str, str]:
    """Two claims: the merchant answers one after 30 h and the other after 10 h."""
    clock = ManualClock(T0)
    ids = {}
    with migrated_container(Settings(database_url=database_url), clock) as container:
        app = container.app
        for order in ("late", "quick"):
            ids[order] = str(
                open_with_order(
                    app,
                    BUYER,
                    order_id=order,
                    merchant_id="m1",
                    kind="refund_only",
                    reason="damaged",
                    order_amount="120.00",
                    claimed_amount="80.00",
                    currency="USD",
                    delivered_at=T0 - timedelta(days=1),
                    description="Broken.",
                ).claim.id
            )
        clock.advance(hours=10)
        app.respond(MERCHANT, ids["quick"], decision=MerchantDecision.REJECT, amount=None, message="No.")
        clock.advance(hours=20)
        app.respond(MERCHANT, ids["late"], decision=MerchantDecision.REJECT, amount=None, message="No.")
    return ids


def policy_file(tmp_path: Path, merchant_response: str) -> Path:
    text = default_policy_text().replace('version = "2026-11"', 'version = "what-if"')
    text = text.replace('merchant_response = "48h"', f'merchant_response = "{merchant_response}"')
    path = tmp_path / "new.toml"
    path.write_text(text, encoding="utf-8")
    return path


def max_position(database_url: str) -> int | None:
    with migrated_container(Settings(database_url=database_url), ManualClock(T0)) as container:
        return container.app.recorder.max_notification_id()


def test_simulate_prints_the_changed_outcomes_per_rule_and_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    ids = record_claims(database_url)
    before = max_position(database_url)
    new = str(policy_file(tmp_path, "24h"))

    table = run_cli(database_url, "policy", "simulate", "--policy", new, *PERIOD)
    assert table.returncode == 0, table.stderr
    assert "policy what-if: 2 claim(s)" in table.stdout
    [row] = [line for line in table.stdout.splitlines() if line.startswith("merchant-silent-accepts")]
    assert row.split()[1:4] == ["1", "+80.00", "USD"]
    assert ids["late"] in row and ids["quick"] not in table.stdout

    as_json = run_cli(database_url, "policy", "simulate", "--policy", new, *PERIOD, "--json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["outcomes_changed"] == 1
    assert report["rules"] == [
        {
            "rule": "merchant-silent-accepts",
            "outcomes_changed": 1,
            "money_change": {"USD": "80.00"},
            "claim_ids": [ids["late"]],
        }
    ]
    assert max_position(database_url) == before


def test_simulate_refuses_bad_input_in_one_line(database_url: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.toml")
    assert_one_line_error(run_cli(database_url, "policy", "simulate", "--policy", missing, *PERIOD), "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("version = \n", encoding="utf-8")
    assert_one_line_error(
        run_cli(database_url, "policy", "simulate", "--policy", str(broken), *PERIOD), "not valid TOML"
    )
    good = str(policy_file(tmp_path, "24h"))
    result = run_cli(database_url, "policy", "simulate", "--policy", good, "--from", "yesterday", "--to", "now")
    assert_one_line_error(result, "yesterday")
    backwards = ("--from", PERIOD[3], "--to", PERIOD[1])
    assert_one_line_error(run_cli(database_url, "policy", "simulate", "--policy", good, *backwards), "--to")
    assert_one_line_error(run_cli(database_url, "policy", "simulate", "--policy", good, *PERIOD), "migrate")
