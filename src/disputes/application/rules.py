"""The published rules (``GET /policy``): every time limit, what the platform does when it passes,
eligibility, the appeal route, the buyer's rights and where else to turn, in every language.

Generated from the :class:`~disputes.domain.policy.Policy` the engine enforces (its windows, the rule
and outcome of each deadline, its eligibility), so the page cannot say other than what is done.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from disputes.application.html import e, page
from disputes.domain.policy import CLAIM_EVIDENCE_LIMIT_RULE, CLAIM_MESSAGE_LIMIT_RULE, Policy
from disputes.domain.vocabulary import LANGUAGES
from disputes.i18n import duration_words, text

DEADLINE_WINDOWS = {
    "merchant_response": "merchant_response",
    "offer_answer": "offer_answer",
    "mediation_request": "mediation_request",
    "return_shipment": "return_shipment",
    "merchant_refund": "merchant_refund",
    "evidence_request": "evidence_request",
    "mediator_decision": "mediator_decision",
    "appeal_decision": "mediator_decision",
}
"""Each deadline a rule may name, and the window of the policy that sets it."""
DEADLINE_PARTIES = {
    "merchant_response": "merchant",
    "offer_answer": "buyer",
    "mediation_request": "buyer",
    "return_shipment": "buyer",
    "merchant_refund": "merchant",
    "evidence_request": "buyer or merchant",
    "mediator_decision": "platform",
    "appeal_decision": "platform",
}
RIGHTS = ("mediation", "reasons", "refund_limit", "court")
CHANNELS = ("negotiation", "platform", "hotline", "mediation_bodies", "courts")


def iso_duration(window: timedelta) -> str:
    """RFC 3339 / ISO 8601 duration in hours and seconds (``PT48H``)."""
    seconds = int(window.total_seconds())
    hours, rest = divmod(seconds, 3600)
    return f"PT{hours}H" if rest == 0 else f"PT{seconds}S"


def _words(key: str, **params: Any) -> dict[str, str]:
    return {language: text(language, "policy." + key, **params) for language in LANGUAGES}


def _per_language(make: Any) -> dict[str, str]:
    return {language: make(language) for language in LANGUAGES}


def published(policy: Policy) -> dict[str, Any]:
    """The rules in force, as data: machine fields (window, rule, outcome) and the words in each language."""
    windows = policy.windows
    deadlines = []
    for deadline, window_name in DEADLINE_WINDOWS.items():
        window: timedelta = getattr(windows, window_name)
        rule = policy.rule_for(deadline)
        deadlines.append(
            {
                "id": deadline,
                "who": DEADLINE_PARTIES[deadline],
                "window": iso_duration(window),
                "window_seconds": int(window.total_seconds()),
                "rule": rule.name,
                "outcome": rule.outcome.value,
                "text": _per_language(
                    lambda lang, d=deadline, w=window: text(lang, f"policy.deadline.{d}", window=duration_words(w, lang))
                ),
                "when_missed": _per_language(
                    lambda lang, o=rule.outcome.value: text(
                        lang, "policy.when_missed", outcome=text(lang, f"policy.outcome.{o}")
                    )
                ),
            }
        )
    rules = policy.eligibility
    eligibility: list[dict[str, Any]] = [
        {"id": "no_reason_return", "days": windows.no_reason_return_days,
         "text": _words("eligibility.no_reason_return", days=windows.no_reason_return_days)},
    ]
    if rules.not_received_requires_undelivered:
        eligibility.append({"id": "not_received", "text": _words("eligibility.not_received")})
    if rules.claimed_amount_within_order:
        eligibility.append({"id": "amount", "text": _words("eligibility.amount")})
    if rules.one_open_claim_per_order:
        eligibility.append({"id": "one_open", "text": _words("eligibility.one_open")})
    eligibility.append(
        {"id": "max_claims", "count": rules.max_claims_per_order,
         "text": _words("eligibility.max_claims", count=rules.max_claims_per_order)}
    )
    return {
        "version": policy.version,
        "timezone": windows.timezone,
        "default_language": policy.default_language,
        "languages": list(LANGUAGES),
        "title": _words("title"),
        "intro": _words("intro", version=policy.version, timezone=windows.timezone),
        "deadlines": deadlines,
        "eligibility": eligibility,
        "limits": [
            {"id": name, "count": count, "rule": rule, "text": _words(f"limits.{name}", count=count)}
            for name, count, rule in (
                ("claim_messages", policy.limits.claim_messages, CLAIM_MESSAGE_LIMIT_RULE),
                ("claim_evidence", policy.limits.claim_evidence, CLAIM_EVIDENCE_LIMIT_RULE),
            )
        ],
        "appeal": {
            "id": "appeal",
            "window": iso_duration(windows.appeal),
            "window_seconds": int(windows.appeal.total_seconds()),
            "text": _per_language(
                lambda lang: text(lang, "policy.appeal.text", window=duration_words(windows.appeal, lang))
            ),
        },
        "rights": [{"id": name, "text": _words(f"rights.{name}")} for name in RIGHTS],
        "channels": [{"id": name, "text": _words(f"channels.{name}")} for name in CHANNELS],
    }


def _both(words: dict[str, str], language: str) -> str:
    """The words in ``language``, and beneath them in our other language."""
    others = "".join(f'<p class="other" lang="{e(lang)}">{e(words[lang])}</p>' for lang in LANGUAGES if lang != language)
    return f"<p>{e(words[language])}</p>{others}"


def _heading(deadline: str, language: str) -> str:
    words = text(language, f"timeline.deadline.{deadline}")
    return words[:1].upper() + words[1:]


def published_html(policy: Policy, language: str) -> str:
    """The published rules as one printable page in ``language`` (the other language beneath); each
    deadline's section has its id as anchor (``/policy#merchant_response``)."""
    rules = published(policy)
    parts = [f"<h1>{e(rules['title'][language])}</h1>", _both(rules["intro"], language)]
    parts.append(f'<p class="meta">{e(text(language, "policy.version", version=policy.version))}</p>')
    parts.append(f"<h2>{e(text(language, 'policy.section.deadlines'))}</h2>")
    for item in rules["deadlines"]:
        parts.append(
            f'<section id="{e(item["id"])}"><h3>{e(_heading(item["id"], language))}</h3>'
            f"{_both(item['text'], language)}{_both(item['when_missed'], language)}</section>"
        )
    parts.append(f'<h2 id="eligibility">{e(text(language, "policy.section.eligibility"))}</h2>')
    parts += [f'<section id="{e(item["id"])}">{_both(item["text"], language)}</section>' for item in rules["eligibility"]]
    parts.append(f'<h2 id="limits">{e(text(language, "policy.section.limits"))}</h2>')
    parts += [f'<section id="{e(item["id"])}">{_both(item["text"], language)}</section>' for item in rules["limits"]]
    parts.append(f'<h2 id="appeal">{e(text(language, "policy.section.appeal"))}</h2>')
    parts.append(_both(rules["appeal"]["text"], language))
    parts.append(f'<h2 id="rights">{e(text(language, "policy.section.rights"))}</h2>')
    parts += [f'<section id="{e(item["id"])}">{_both(item["text"], language)}</section>' for item in rules["rights"]]
    parts.append(f'<h2 id="channels">{e(text(language, "policy.section.channels"))}</h2>')
    parts += [f'<section id="{e(item["id"])}">{_both(item["text"], language)}</section>' for item in rules["channels"]]
    return page(rules["title"][language], language, "\n".join(parts))
