"""The policy as data: the built-in TOML, a file of one's own, and the environment's overrides."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from disputes.adapters.policy_file import PolicyFileError, load_policy, parse_policy
from disputes.domain.errors import InvalidValue
from disputes.domain.policy import AutoOutcome, Policy, Windows
from disputes.settings import Settings

SHORT = """
version = "demo-seconds"
[windows]
merchant_response = "5s"
offer_answer = "5s"
mediator_decision = "10s"
[eligibility]
no_reason_return_days = 15
one_open_claim_per_order = false
[scorecard]
good_min = 90
watch_min = 70
[rules.merchant-silent-mediates]
deadline = "merchant_response"
outcome = "mediate_with_flag"
"""


def test_the_built_in_policy_holds_every_window_rule_and_threshold() -> None:
    policy = load_policy()

    assert policy.version == "2026-11"
    assert policy.windows == Windows()
    assert policy.windows.evidence_request == timedelta(hours=72)
    assert policy.windows.mediator_decision == timedelta(days=5)
    assert policy == Policy()  # the file and the code's defaults agree
    assert (policy.scorecard.good_min, policy.scorecard.watch_min) == (80, 60)
    assert policy.rule_for("merchant_response").outcome is AutoOutcome.ACCEPT_CLAIM
    assert policy.rule_for("evidence_from_buyer").name == "evidence-not-provided"


def test_a_policy_file_sets_windows_rules_eligibility_and_tiers(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(SHORT, encoding="utf-8")

    policy = load_policy(path)

    assert policy.version == "demo-seconds"
    assert policy.windows.merchant_response == timedelta(seconds=5)
    assert policy.windows.mediator_decision == timedelta(seconds=10)
    assert policy.windows.return_shipment == timedelta(days=7)  # not named: the default
    assert policy.windows.no_reason_return_days == 15
    assert policy.eligibility.one_open_claim_per_order is False
    assert (policy.scorecard.good_min, policy.scorecard.watch_min) == (90, 70)
    assert policy.rule_for("merchant_response").name == "merchant-silent-mediates"
    # A deadline without a rule is only recorded.
    assert policy.rule_for("offer_answer").outcome is AutoOutcome.RECORD_ONLY


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[windows]\nmerchant_response = '5s'", "needs a `version`"),
        ("version = 'x'\n[windows]\nmerchant_response = 'soon'", "must be a duration"),
        ("version = 'x'\n[windows]\nmerchant_answer = '5s'", "unknown key in [windows]: merchant_answer"),
        (
            "version = 'x'\n[rules.r]\ndeadline = 'mediator_decision'\noutcome = 'accept_claim'",
            "'accept_claim' is not an outcome for mediator_decision",
        ),
        ("version = 'x'\n[rules.r]\ndeadline = 'lunch'\noutcome = 'close_claim'", "no deadline 'lunch'"),
        ("version = 'x'\n[rules.r]\ndeadline = 'offer_answer'\noutcome = 'shrug'", "outcome must be one of"),
        ("version = 'x'\n[scorecard]\ngood_min = 50\nwatch_min = 70", "watch_min must not be above"),
        ("version = 'x'\ntimezone = 'Mars/Olympus'", "unknown time zone"),
        ("version = ", "not valid TOML"),
    ],
)
def test_a_bad_policy_is_refused_with_a_reason(text: str, complaint: str) -> None:
    with pytest.raises(PolicyFileError) as refused:
        parse_policy(text, "p.toml")
    assert complaint in refused.value.detail
    assert refused.value.detail.startswith("p.toml")
    assert isinstance(refused.value, InvalidValue)


def test_settings_read_the_policy_file_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(SHORT, encoding="utf-8")
    monkeypatch.setenv("DISPUTES_POLICY_FILE", str(path))

    settings = Settings()

    assert settings.policy().version == "demo-seconds"
    assert settings.windows().merchant_response == timedelta(seconds=5)
    assert settings.policy().rule_for("merchant_response").name == "merchant-silent-mediates"
    assert (settings.scorecard_good_min, settings.scorecard_watch_min) == (90, 70)


def test_a_window_set_in_the_environment_overrides_the_file_and_marks_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPUTES_MERCHANT_RESPONSE_HOURS", "24")

    settings = Settings()

    assert settings.windows().merchant_response == timedelta(hours=24)
    assert settings.windows().offer_answer == timedelta(hours=48)
    assert settings.policy().version == "2026-11+env"


def test_an_explicit_policy_version_names_the_overridden_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPUTES_MERCHANT_RESPONSE_HOURS", "24")
    monkeypatch.setenv("DISPUTES_POLICY_VERSION", "2026-12-fast-merchants")

    assert Settings().policy().version == "2026-12-fast-merchants"


def test_a_missing_policy_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="cannot read the policy file"):
        load_policy(tmp_path / "nowhere.toml")


def test_reminder_lead_times_default_to_24_and_2_hours_and_a_policy_file_sets_them() -> None:
    assert load_policy().reminders.lead_times == (timedelta(hours=24), timedelta(hours=2))
    policy = parse_policy('version = "r1"\n[reminders]\nlead_times = ["30m", "3d"]\n')
    assert policy.reminders.lead_times == (timedelta(days=3), timedelta(minutes=30))
    assert Settings(policy_file=None).policy().reminders.lead_times == (timedelta(hours=24), timedelta(hours=2))


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ('lead_times = "24h"', "must be a list of durations"),
        ('lead_times = ["24h", "24h"]', "must differ"),
        ('lead_times = ["soon"]', "lead_times must be a duration"),
        ('leads = ["2h"]', "leads"),
    ],
)
def test_bad_reminder_lead_times_are_refused_with_a_reason(table: str, complaint: str) -> None:
    with pytest.raises(PolicyFileError, match=complaint):
        parse_policy(f'version = "r1"\n[reminders]\n{table}\n')
def test_signals_and_limits_are_read_from_the_file_with_exact_rates() -> None:
    policy = parse_policy(
        'version = "x"\n[signals]\nsilence_wins_share = "0.35"\nreject_then_lose_rate = 0.75\n'
        'near_total_window = "24h"\n[limits]\nbuyer_claims = 3\nbuyer_claims_window = "7d"\nstanding_min_decided = 10\n'
    )
    assert (policy.signals.silence_wins_share, policy.signals.reject_then_lose_rate) == (Decimal("0.35"), Decimal("0.75"))
    assert policy.signals.near_total_window == timedelta(hours=24)
    assert (policy.limits.buyer_claims, policy.limits.buyer_claims_window) == (3, timedelta(days=7))
    assert (policy.limits.standing_min_decided, policy.limits.standing_window) == (10, timedelta(days=90))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[signals]\nsilence_wins_share = "1.5"', "[signals] silence_wins_share must be above 0 and at most 1"),
        ('[signals]\nsilence_wins_share = "half"', '[signals] silence_wins_share must be a share from 0 to 1, like "0.6"'),
        ("[signals]\nserial_refund_only_claims = 0", "[signals] serial_refund_only_claims must be a whole number"),
        ('[limits]\nbuyer_claims_window = "soon"', "[limits] buyer_claims_window must be a duration"),
        ("[limits]\nbuyer_claim = 3", "unknown key in [limits]: buyer_claim"),
    ],
)
def test_a_bad_signal_or_limit_is_refused_naming_the_key(table: str, message: str) -> None:
    with pytest.raises(PolicyFileError) as refused:
        parse_policy(f'version = "x"\n{table}\n', "new.toml")
    assert message in refused.value.detail
