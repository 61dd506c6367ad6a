"""Failed authentications: one JSON line each on the ``disputes.auth`` logger, never the token."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from disputes.adapters.metrics import AUTH_FAILURES

auth_log = logging.getLogger("disputes.auth")


def log_failed_authentication(
    reason: str, *, method: str, path: str, client: str | None, scheme: str | None
) -> None:
    """One JSON line per failed authentication; never the token, nor any part of it."""
    record = {
        "event": "authentication_failed",
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "reason": reason,
        "method": method,
        "path": path,
        "client": client,
        "scheme": scheme,
    }
    AUTH_FAILURES.labels(reason=reason).inc()
    auth_log.warning(json.dumps(record, sort_keys=True))
