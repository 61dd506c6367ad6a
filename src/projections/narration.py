"""The timeline's codes and parameters (:mod:`projections.wording`) told to one reader: in the reader's
language, times in the policy's time zone, money in the language's currency format, the reader as
"you" and the other side by name; each time limit with what the policy does when it passes, in plain
words, and a link to that rule on ``GET /policy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from disputes.domain.parties import Actor, Role
from disputes.domain.policy import Policy, deadline_key
from disputes.i18n import moment, money, text

_OWN_ROLES = (Role.BUYER, Role.MERCHANT, Role.MEDIATOR)


@dataclass(frozen=True)
class Narrator:
    """Tells one claim to one reader."""

    reader: Actor
    buyer_id: str
    merchant_id: str
    mediator_id: str | None
    language: str
    policy: Policy

    def t(self, key: str, **params: Any) -> str:
        return text(self.language, "timeline." + key, **params)

    def is_reader(self, role: str, id_: str | None) -> bool:
        return self.reader.role in _OWN_ROLES and self.reader.role.value == role and self.reader.id == id_

    def party(self, role: str, id_: str | None = None) -> str:
        """A person in a sentence: "you" for the reader, else by role and id ("merchant m1")."""
        if id_ is None:
            id_ = {"buyer": self.buyer_id, "merchant": self.merchant_id}.get(role)
        if self.is_reader(role, id_):
            return self.t("who.you")
        if role in ("system", "platform"):
            return self.t("who.platform")
        key = f"who.{role}" if role in ("buyer", "merchant", "mediator", "auditor", "regulator", "admin") else "who.other"
        return self.t(key, id=id_ or "")

    def when(self, value: str | None) -> str:
        return "?" if value is None else moment(datetime.fromisoformat(value), self.language, self.policy.windows.zone)

    def amount(self, value: dict[str, str] | None) -> str:
        return "?" if value is None else money(value["amount"], value["currency"], self.language)

    def _sentence(self, words: str) -> str:
        return words[:1].upper() + words[1:] if self.language == "en" else words

    def _params(self, code: str, params: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = dict(params)
        for name, value in params.items():
            if name == "amount":
                out[name] = self.amount(value)
            elif name == "due":
                out[name] = self.when(value)
            elif isinstance(value, dict) and "role" in value:
                out[name] = self.party(value["role"], value.get("id"))
        if "kind" in params:
            out["kind"] = self.t(("evidence." if code == "evidence_added" else "kind.") + params["kind"])
        if "reason" in params and code == "claim_opened":
            out["reason"] = self.t("reason." + params["reason"])
        if "deadline" in params:
            out["deadline"] = self.t("deadline." + params["deadline"])
        if "outcome" in params and code in ("mediated", "appeal_overturned"):
            outcome = self.t("outcome." + params["outcome"])
            amount = params.get("amount")
            out["outcome"] = outcome if amount is None else self.t("outcome.with_amount", outcome=outcome, amount=self.amount(amount))
        out["merchant"] = self.party("merchant")
        out["buyer"] = self.party("buyer")
        return out

    def event(self, code: str, params: dict[str, Any], actor_role: str, actor_id: str) -> str:
        """One timeline entry's sentence."""
        who = self.party(actor_role, actor_id)
        return self._sentence(self.t("event." + code, **self._params(code, params), who=who))

    def step(self, step: dict[str, Any]) -> dict[str, Any]:
        """One next step for this reader: who, what, by when, and what happens if the time passes."""
        who_role = step["who"]
        who_id = {"buyer": self.buyer_id, "merchant": self.merchant_id, "mediator": self.mediator_id}.get(who_role)
        params = self._params(step["code"], step.get("params", {}))
        mine = self.is_reader(who_role, who_id)
        key = "next." + step["code"] + (".you" if mine else "")
        words = self._sentence(self.t(key, **params, who=self.party(who_role, who_id)))
        answer: dict[str, Any] = {"who": who_role, "text": words, "due_at": step["due_at"]}
        deadline = step.get("deadline")
        if deadline and step["due_at"]:
            rule = self.policy.rule_for(deadline)
            due = self.when(step["due_at"])
            answer["due"] = due
            outcome = text(self.language, "policy.outcome." + rule.outcome.value)
            answer["if_missed"] = self.t("if_missed", due=due, outcome=outcome)
            answer["rule_url"] = "/policy#" + deadline_key(deadline)
        return answer
