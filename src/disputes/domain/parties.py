"""Who acts: roles and the actor recorded on every event."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from disputes.domain.errors import InvalidValue

PRINCIPAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$"
_PRINCIPAL_ID = re.compile(PRINCIPAL_ID_PATTERN)


class Role(StrEnum):
    BUYER = "buyer"
    MERCHANT = "merchant"
    MEDIATOR = "mediator"
    AUDITOR = "auditor"
    REGULATOR = "regulator"
    ADMIN = "admin"
    PLATFORM = "platform"
    """The shop's own services (order system, payments, messaging)."""
    SYSTEM = "system"
    """The platform itself (deadline engine); never issued a token."""


TOKEN_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)


@dataclass(frozen=True)
class Actor:
    """A principal acting: its role and its id within that role."""

    role: Role
    id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))
        if not _PRINCIPAL_ID.fullmatch(self.id):  # match() would accept a trailing newline
            raise InvalidValue(
                f"principal id {self.id!r} must be 1-64 characters of letters, digits and ._:@- "
                "starting with a letter or digit"
            )

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role.value, "id": self.id}

    def __str__(self) -> str:
        return f"{self.role.value}:{self.id}"
