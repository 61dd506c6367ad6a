"""A 403 that says who may do the act, worded from the permission matrix's own cells ("only the claim's
merchant or its assigned mediator may record refunds"), in the caller's language; no route writes one."""

from __future__ import annotations

from disputes.api.auth.permissions import RELATIONS, Rule
from disputes.i18n import CATALOGUES, text


def _parts(rule: Rule, language: str) -> list[str]:
    parts = []
    subject = rule.subject
    for role, relations in RELATIONS[subject].items():
        allowed = [relation for relation in relations if (role, relation) in rule.act]
        if not allowed:
            continue
        if len(allowed) == len(relations):
            parts.append(text(language, f"access.role.{role.value}"))
            continue
        for relation in allowed:
            key = f"access.cell.{subject.value}.{role.value}.{relation.value.replace(' ', '_')}"
            parts.append(text(language, key) if CATALOGUES.has(key) else text(language, f"access.role.{role.value}"))
    return parts


def who_may(rule: Rule, language: str) -> str:
    """The cells of ``rule.act`` in words: "the claim's merchant or its assigned mediator"."""
    parts = _parts(rule, language)
    if len(parts) <= 1:
        return parts[0] if parts else text(language, "access.role.admin")
    separator = text(language, "access.list_sep")
    return text(language, "access.or", first=separator.join(parts[:-1]), last=parts[-1])


def act_words(rule: Rule, language: str) -> str:
    key = f"access.act.{rule.method} {rule.path}"
    return text(language, key) if CATALOGUES.has(key) else text(language, "access.act.default")


def refusal_detail(rule: Rule, language: str) -> str:
    """The 403's detail: who may do this act."""
    return text(language, "access.only", who=who_may(rule, language), act=act_words(rule, language))


