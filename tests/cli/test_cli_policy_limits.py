"""``disputes policy simulate`` also reports, for a candidate policy, which buyers its claim-rate limit
would have refused and which merchants' standings it would change, with the ids: hand-computed cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from disputes.domain.parties import Actor, Role
from disputes.domain.vocabulary import MerchantDecision, Outcome
from disputes.settings import Settings
from support import ManualClock, migrated_container, open_with_order, policy_file
from support.processes import run_cli

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
"""Two days ago: the standing's sample window (90 days) is counted back from now."""
PERIOD = ("--from", (T0 - timedelta(days=1)).isoformat(), "--to", (T0 + timedelta(days=3)).isoformat())
MEDIATOR = Actor(Role.MEDIATOR, "med1")


def record(database_url: str) -> dict[str, list[str]]:
    """b1 opens three claims against m1 in three hours, and m1 loses them in mediation; b2 opens two
    claims against m2, which accepts them."""
    clock = ManualClock(T0)
    ids: dict[str, list[str]] = {"b1": [], "b2": []}
    with migrated_container(Settings(database_url=database_url), clock) as container:
        app = container.app
        for who, merchant_id, count in (("b1", "m1", 3), ("b2", "m2", 2)):
            for n in range(count):
                claim = open_with_order(
                    app, Actor(Role.BUYER, who), order_id=f"{who}-{n}", merchant_id=merchant_id,
                    kind="refund_only", reason="damaged", order_amount="120.00", claimed_amount="80.00",
                    currency="USD", delivered_at=T0 - timedelta(days=1), description="Broken.",
                ).claim
                ids[who].append(str(claim.id))
                clock.advance(hours=1)
        merchant = {"b1": Actor(Role.MERCHANT, "m1"), "b2": Actor(Role.MERCHANT, "m2")}
        for claim_id in ids["b1"]:
            app.respond(merchant["b1"], claim_id, decision=MerchantDecision.REJECT, amount=None, message="No.")
            app.request_mediation(Actor(Role.BUYER, "b1"), claim_id, reason="Please look.")
            app.assign_mediator(MEDIATOR, claim_id, mediator_id=None)
            app.decide_claim(MEDIATOR, claim_id, outcome=Outcome.FULL_REFUND, amount=None, rationale="Broken.")
        for claim_id in ids["b2"]:
            app.respond(merchant["b2"], claim_id, decision=MerchantDecision.ACCEPT, amount=None, message="Sorry.")
    assert run_cli(database_url, "project", "--once").returncode == 0
    return ids


def test_simulate_names_the_buyers_a_limit_would_refuse_and_the_standings_it_would_change(
    database_url: str, tmp_path: Path
) -> None:
    ids = record(database_url)
    # Under the policy in force nothing moved: five decided claims are needed, m1 has three.
    assert "0 merchant standing(s) would change" in run_cli(
        database_url, "policy", "simulate", "--policy", str(policy_file(tmp_path, "same.toml")), *PERIOD
    ).stdout
    candidate = policy_file(
        tmp_path, "candidate.toml", version="what-if", buyer_claims=2, buyer_claims_window="1d", standing_min_decided=3
    )

    done = run_cli(database_url, "policy", "simulate", "--policy", str(candidate), *PERIOD, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(b["buyer_id"], b["claims_refused"]) for b in report["limited_buyers"]] == [("b1", [ids["b1"][2]])]
    [moved] = report["standings_changed"]
    assert (moved["merchant_id"], moved["recorded_tier"], moved["simulated_tier"], moved["event"]) == (
        "m1", "good", "restricted", "Restricted",
    )
    # 100 - 35 (all lost) - 25 (all mediated) - 15 x 4 h / 48 h (median first answer): 38.75
    assert (moved["score"], moved["decided_in_window"], moved["claim_ids"]) == (39, 3, ids["b1"])

    table = run_cli(database_url, "policy", "simulate", "--policy", str(candidate), *PERIOD).stdout
    assert "1 buyer(s) would be limited (rule buyer-claim-rate-limit)" in table
    assert "1 merchant standing(s) would change" in table
    [row] = [line for line in table.splitlines() if line.startswith("m1 ")]
    assert "good -> restricted" in row and "Restricted" in row
    # It wrote nothing: the standing is still unrecorded, and the same run says the same again.
    again = run_cli(database_url, "policy", "simulate", "--policy", str(candidate), *PERIOD).stdout
    assert again.splitlines()[1:] == table.splitlines()[1:]  # the first line names the horizon: now
