"""``disputes principals add|list|revoke``: API tokens (only their digests are stored)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from disputes.adapters.migrations import require_migrated
from disputes.adapters.principals import PrincipalStore, TokenRecord, token_role
from disputes.cli.common import positive_int, table, utc_text
from disputes.domain.errors import DisputesError
from disputes.settings import Settings


def register(commands: Any) -> None:
    principals = commands.add_parser("principals", help="issue, list and revoke API tokens")
    actions = principals.add_subparsers(title="actions", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="issue a token; the token is the last line printed")
    add.add_argument("--role", required=True, help="buyer, merchant, mediator, auditor, regulator or admin")
    add.add_argument("--id", required=True, dest="principal_id", help="the principal's id within its role")
    add.add_argument("--expires-in-days", type=positive_int, metavar="N", help="default: never expires")
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list tokens (never the tokens themselves)")
    listing.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    listing.set_defaults(handler=run_list)

    revoke = actions.add_parser("revoke", help="revoke one token, or all of a principal's tokens")
    revoke.add_argument("--token-id", help="the token's public id, as listed")
    revoke.add_argument("--role", help="with --id: revoke all of this principal's tokens")
    revoke.add_argument("--id", dest="principal_id", help="with --role")
    revoke.set_defaults(handler=run_revoke)


def run_add(args: argparse.Namespace) -> int:
    store = _store()
    now = datetime.now(UTC)
    expires_at = now + timedelta(days=args.expires_in_days) if args.expires_in_days else None
    record, token = store.add(token_role(args.role), args.principal_id, expires_at, now=now)
    expiry = f"expires {utc_text(record.expires_at)}" if record.expires_at else "never expires"
    print(
        f"added token {record.token_id} for {record.role.value} {record.principal_id!r} ({expiry}); "
        "the token below is shown only this once:"
    )
    print(token)
    return 0


def run_list(args: argparse.Namespace) -> int:
    records = _store().list()
    now = datetime.now(UTC)
    if args.json:
        print(json.dumps([_record_json(r, now) for r in records], indent=2))
    else:
        header = ("token_id", "role", "id", "created_at", "expires_at", "status")
        rows = [
            (
                r.token_id,
                r.role.value,
                r.principal_id,
                utc_text(r.created_at),
                utc_text(r.expires_at) if r.expires_at else "never",
                r.status(now),
            )
            for r in records
        ]
        print("\n".join(table(header, rows)))
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    by_token = args.token_id is not None
    by_principal = args.role is not None or args.principal_id is not None
    if by_token == by_principal or (by_principal and (args.role is None or args.principal_id is None)):
        raise DisputesError("principals revoke needs either --token-id, or both --role and --id")
    store = _store()
    now = datetime.now(UTC)
    if by_token:
        count = store.revoke(token_id=args.token_id, now=now)
    else:
        count = store.revoke(role=token_role(args.role), principal_id=args.principal_id, now=now)
    print(f"revoked {count} token{'' if count == 1 else 's'}")
    return 0 if count else 1


def _store() -> PrincipalStore:
    db = Settings().database
    require_migrated(db)
    return PrincipalStore(db)


def _record_json(record: TokenRecord, now: datetime) -> dict[str, str | None]:
    return {
        "token_id": record.token_id,
        "role": record.role.value,
        "id": record.principal_id,
        "created_at": utc_text(record.created_at),
        "expires_at": utc_text(record.expires_at) if record.expires_at else None,
        "revoked_at": utc_text(record.revoked_at) if record.revoked_at else None,
        "status": record.status(now),
    }
