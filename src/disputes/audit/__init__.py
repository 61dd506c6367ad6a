"""Audit integrity: the sealed event chain, signed export bundles and their verification.

The format is fixed by ``docs/audit-trail.md`` (and DESIGN.md, "Audit trail format"): every event of the
store becomes a canonical record whose ``hash`` covers the record and the hash of the event before it in
the whole store.
"""

from __future__ import annotations


class AuditError(Exception):
    """An audit command could not do its work (missing key, unsealed store, bad input).

    Deliberately not a ``DisputesError``: those are API problem types documented in docs/problems.md.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class IntegrityFault(AuditError):
    """Stored events or a bundle do not match their chain: something was altered, removed or reordered."""

    def __init__(self, detail: str, *, position: int | None = None, code: str = "integrity-fault") -> None:
        super().__init__(detail)
        self.position = position
        self.code = code
