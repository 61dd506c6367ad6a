"""Names fixed by the bundle format (docs/audit-trail.md): members, record fields, claims.csv columns."""

from __future__ import annotations

FORMAT = "disputes-audit-trail/1"
ZERO_HASH = "0" * 64
"""The ``prev_hash`` of the first event of the whole store."""

EVENTS = "events.jsonl"
CLAIMS = "claims.csv"
PUBLIC_KEY = "public-key.pem"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MEMBERS = (EVENTS, CLAIMS, PUBLIC_KEY, MANIFEST, SIGNATURE)

RECORD_FIELDS = (
    "position",
    "claim_id",
    "version",
    "type",
    "recorded_at",
    "actor",
    "data",
    "prev_hash",
    "hash",
)

CLAIM_COLUMNS = (
    "claim_id",
    "order_id",
    "buyer_id",
    "merchant_id",
    "kind",
    "reason",
    "currency",
    "order_amount",
    "claimed_amount",
    "opened_at",
    "events",
    "first_version",
    "last_version",
    "first_position",
    "last_position",
    "last_event",
    "last_recorded_at",
)
