"""Every read model by name, and which of them each read route depends on."""

from __future__ import annotations

from collections.abc import Sequence

from disputes.domain.errors import InvalidValue
from projections.audit_report import AuditProjection
from projections.audit_seal import AuditSealProjection
from projections.claims_list import ClaimsListProjection
from projections.deadlines import DeadlinesProjection
from projections.queue import QueueProjection
from projections.runner import Projection
from projections.scorecard import ScorecardProjection
from projections.signals import SignalsProjection
from projections.timeline import TimelineProjection

PROJECTIONS: dict[str, type[Projection]] = {
    p.name: p
    for p in (
        ClaimsListProjection,
        QueueProjection,
        TimelineProjection,
        ScorecardProjection,
        AuditProjection,
        AuditSealProjection,
        DeadlinesProjection,
        SignalsProjection,
    )
}
NAMES: tuple[str, ...] = tuple(PROJECTIONS)


def select(names: Sequence[str] | None = None) -> list[Projection]:
    """The named projections (all of them for None or an empty list), in catalog order."""
    if not names:
        return [cls() for cls in PROJECTIONS.values()]
    unknown = [n for n in names if n not in PROJECTIONS]
    if unknown:
        raise InvalidValue(f"no projection named {', '.join(unknown)}; the projections are {', '.join(NAMES)}")
    return [cls() for name, cls in PROJECTIONS.items() if name in names]
