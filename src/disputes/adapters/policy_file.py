"""Reading the policy file (TOML): the built-in default shipped in the package, or DISPUTES_POLICY_FILE."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from disputes.domain.errors import InvalidValue
from disputes.domain.policy import (
    AutoOutcome,
    DeadlineRule,
    Eligibility,
    Limits,
    Policy,
    Reminders,
    ScorecardThresholds,
    SignalThresholds,
    Windows,
    time_zone,
)

DEFAULT_POLICY = "policy_default.toml"
WINDOW_NAMES = (
    "merchant_response",
    "offer_answer",
    "mediation_request",
    "return_shipment",
    "merchant_refund",
    "evidence_request",
    "mediator_decision",
    "appeal",
)
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class PolicyFileError(InvalidValue):
    code = "invalid-policy"
    title = "Invalid policy file"


def default_policy_text() -> str:
    return resources.files("disputes.adapters").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")


def load_policy(path: Path | None = None) -> Policy:
    """The policy of ``path``, or the built-in default when ``path`` is None."""
    if path is None:
        return parse_policy(default_policy_text(), "the built-in policy")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyFileError(f"cannot read the policy file {path}: {exc.strerror or exc}") from None
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str = "the policy") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{source} is not valid TOML: {exc}") from None
    try:
        return _policy(data)
    except PolicyFileError as exc:
        raise PolicyFileError(f"{source}: {exc.detail}") from None
    except InvalidValue as exc:
        raise PolicyFileError(f"{source}: {exc.detail}") from None


def duration(text: Any, what: str) -> timedelta:
    if not isinstance(text, str) or not (match := _DURATION.fullmatch(text)):
        raise PolicyFileError(f'{what} must be a duration like "48h", "7d" or "5s", not {text!r}')
    value = timedelta(**{_UNITS[match[2]]: float(match[1])})
    if value <= timedelta(0):
        raise PolicyFileError(f"{what} must be longer than zero")
    return value


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise PolicyFileError(f"[{key}] must be a table")
    return value


def _unknown(table: dict[str, Any], known: set[str] | tuple[str, ...], where: str) -> None:
    extra = sorted(set(table) - set(known))
    if extra:
        raise PolicyFileError(f"unknown key{'s' if len(extra) > 1 else ''} in {where}: {', '.join(extra)}")


def _policy(data: dict[str, Any]) -> Policy:
    _unknown(
        data,
        {
            "version", "timezone", "default_language", "windows", "eligibility", "scorecard", "rules", "reminders",
            "signals", "limits",
        },
        "the policy",
    )
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise PolicyFileError("a policy needs a `version` string")
    zone = data.get("timezone", "UTC")
    if not isinstance(zone, str):
        raise PolicyFileError("`timezone` must be a string")
    time_zone(zone)
    language = data.get("default_language", "en")
    if not isinstance(language, str):
        raise PolicyFileError("`default_language` must be a string")
    windows = _table(data, "windows")
    _unknown(windows, WINDOW_NAMES, "[windows]")
    defaults = Windows()
    eligibility = _table(data, "eligibility")
    _unknown(eligibility, {"no_reason_return_days", *Eligibility.__dataclass_fields__}, "[eligibility]")
    days = eligibility.get("no_reason_return_days", defaults.no_reason_return_days)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise PolicyFileError("[eligibility] no_reason_return_days must be a whole number of at least 1")
    flags: dict[str, Any] = {}
    for name, field in Eligibility.__dataclass_fields__.items():
        value = eligibility.get(name, field.default)
        if isinstance(field.default, bool):
            if not isinstance(value, bool):
                raise PolicyFileError(f"[eligibility] {name} must be true or false")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise PolicyFileError(f"[eligibility] {name} must be a whole number of at least 1")
        flags[name] = value
    scorecard = _table(data, "scorecard")
    _unknown(scorecard, {"good_min", "watch_min"}, "[scorecard]")
    thresholds = ScorecardThresholds()
    tiers = {}
    for name in ("good_min", "watch_min"):
        value = scorecard.get(name, getattr(thresholds, name))
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            raise PolicyFileError(f"[scorecard] {name} must be a whole number from 0 to 100")
        tiers[name] = value
    return Policy(
        windows=Windows(
            **{
                name: duration(windows[name], f"[windows] {name}")
                if name in windows
                else getattr(defaults, name)
                for name in WINDOW_NAMES
            },
            no_reason_return_days=days,
            timezone=zone,
            version=version.strip(),
        ),
        rules=_rules(_table(data, "rules")),
        eligibility=Eligibility(**flags),
        scorecard=ScorecardThresholds(**tiers),
        reminders=_reminders(_table(data, "reminders")),
        default_language=language,
        signals=_thresholds(SignalThresholds, _table(data, "signals"), "[signals]"),
        limits=_thresholds(Limits, _table(data, "limits"), "[limits]"),
    )


def _reminders(table: dict[str, Any]) -> Reminders:
    _unknown(table, {"lead_times"}, "[reminders]")
    leads = table.get("lead_times")
    if leads is None:
        return Reminders()
    if not isinstance(leads, list):
        raise PolicyFileError('[reminders] lead_times must be a list of durations, such as ["24h", "2h"]')
    try:
        return Reminders(tuple(duration(lead, "[reminders] lead_times") for lead in leads))
    except InvalidValue as refused:
        raise PolicyFileError(f"[reminders] {refused.detail}") from None


_T = TypeVar("_T")


def _thresholds(cls: type[_T], table: dict[str, Any], where: str) -> _T:
    """A table of whole numbers, durations and rates, each key a field of ``cls`` (its type as the default's)."""
    defaults = cls()
    known = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    _unknown(table, known, where)
    values: dict[str, Any] = {}
    for name in known:
        if name not in table:
            continue
        value, default = table[name], getattr(defaults, name)
        if isinstance(default, timedelta):
            values[name] = duration(value, f"{where} {name}")
        elif isinstance(default, Decimal):
            values[name] = _rate(value, f"{where} {name}")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise PolicyFileError(f"{where} {name} must be a whole number of at least 1")
        else:
            values[name] = value
    return cls(**values)


def _rate(value: Any, what: str) -> Decimal:
    """A share from 0 to 1, written as a string ("0.6") or a TOML number, kept as an exact decimal."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PolicyFileError(f'{what} must be a share from 0 to 1, like "0.6"')
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise PolicyFileError(f'{what} must be a share from 0 to 1, like "0.6", not {value!r}') from None
    if not rate.is_finite() or not 0 < rate <= 1:
        raise PolicyFileError(f"{what} must be above 0 and at most 1")
    return rate


def _rules(table: dict[str, Any]) -> tuple[DeadlineRule, ...]:
    rules = []
    for name, body in table.items():
        if not isinstance(body, dict):
            raise PolicyFileError(f"[rules.{name}] must be a table")
        _unknown(body, {"deadline", "outcome"}, f"[rules.{name}]")
        try:
            outcome = AutoOutcome(str(body.get("outcome")))
        except ValueError:
            raise PolicyFileError(
                f"[rules.{name}] outcome must be one of {', '.join(o.value for o in AutoOutcome)}"
            ) from None
        rules.append(DeadlineRule(name, str(body.get("deadline")), outcome))
    return tuple(rules)
