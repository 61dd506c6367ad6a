"""The audit seal as a read-side projection: the runner feeds it each batch, in store order.

Its table is append-only and never emptied by a rebuild; the seal keeps its own head, so a batch
delivered twice (after a rebuild reset its position) is skipped rather than sealed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from disputes.audit.chain import AuditSeal
from projections.changes import Change, OtherEvent
from projections.runner import Projection
from projections.store import ViewConnection


class AuditSealProjection(Projection):
    name: ClassVar[str] = "audit_seal"
    tables: ClassVar[tuple[str, ...]] = ()
    claims_only: ClassVar[bool] = False
    """The chain runs over the whole log: a merchant's standing events are sealed too."""

    def __init__(self) -> None:
        self.seal = AuditSeal()

    def process(self, changes: Sequence[Change | OtherEvent], tx: ViewConnection) -> None:
        self.seal.process_batch(changes, tx)
