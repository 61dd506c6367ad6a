"""What the schemas of the HTTP contract (shared/API.md) share: strict request bodies and their field
types, problems, actors, deadlines and refund totals. One module per resource holds the rest.

Requests are strict: unknown fields, wrong JSON types (a number where a string is due, "true" or 1 for
a boolean, "5" for an integer), amounts that are not decimal strings, unknown enum values and naive times are all refused
with 422 before the application is called.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
)

from disputes.domain.parties import PRINCIPAL_ID_PATTERN
from disputes.domain.policy import Deadline, deadline_key

AMOUNT_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,4})?$"

Amount = Annotated[
    str,
    StringConstraints(pattern=AMOUNT_PATTERN, max_length=18),
    Field(description='Decimal string in the claim\'s currency, e.g. "12.50"', examples=["12.50"]),
]
Currency = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code", examples=["CNY"])
]
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$")


def _rfc3339_text(value: Any) -> Any:
    """Refuse what lax pydantic would take for a time: a JSON number or a digit string (Unix seconds)."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 time with a zone, e.g. 2026-11-20T09:00:00Z")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
PrincipalId = Annotated[str, StringConstraints(pattern=PRINCIPAL_ID_PATTERN)]
LineId = Annotated[str, StringConstraints(pattern=PRINCIPAL_ID_PATTERN), Field(examples=["line-1"])]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
# Tab, line feed and carriage return are text; other control characters are refused (input_guard
# refuses them first, in any string; the pattern says so in the OpenAPI document).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=TEXT_PATTERN)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=TEXT_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Uri = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://[^\s]+$")]


class RequestBody(BaseModel):
    """A request body: strict, unknown fields refused."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    claim_id: str | None = None
    errors: list[dict[str, Any]] | None = None


class ActorPublic(BaseModel):
    role: str
    id: str


class RefundTotal(BaseModel):
    currency: str
    amount: str
    refunds: int


class DeadlinePublic(BaseModel):
    name: str = Field(examples=["merchant_response"])
    due_at: datetime
    rule: str | None = Field(
        default=None,
        description="the policy rule applied when the deadline passes, as set when it opened (null: a claim "
        "recorded before deadlines were fixed at opening)",
        examples=["merchant-silent-accepts"],
    )
    policy_version: str | None = Field(default=None, description="the policy in force when it opened")

    @computed_field(  # type: ignore[prop-decorator]
        description="the rule in plain words, on the published rules (GET /policy)",
        examples=["/policy#merchant_response"],
    )
    @property
    def rule_url(self) -> str:
        return "/policy#" + deadline_key(self.name)

    @classmethod
    def of(cls, deadline: Deadline) -> DeadlinePublic:
        return cls(
            name=deadline.name, due_at=deadline.due_at, rule=deadline.rule, policy_version=deadline.policy_version
        )
