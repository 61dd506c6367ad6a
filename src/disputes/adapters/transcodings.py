"""How the domain's value types are stored in events and snapshots (JSON, no floats)."""

from __future__ import annotations

from decimal import Decimal

from eventsourcing.persistence import Transcoding

from disputes.domain.money import Money
from disputes.domain.parties import Actor, Role


class MoneyAsDict(Transcoding):
    type = Money
    name = "money"

    def encode(self, obj: Money) -> dict[str, str]:
        return obj.as_dict()

    def decode(self, data: dict[str, str]) -> Money:
        return Money(Decimal(data["amount"]), data["currency"])


class ActorAsDict(Transcoding):
    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, str]:
        return obj.as_dict()

    def decode(self, data: dict[str, str]) -> Actor:
        return Actor(Role(data["role"]), data["id"])


TRANSCODINGS: tuple[Transcoding, ...] = (MoneyAsDict(), ActorAsDict())
