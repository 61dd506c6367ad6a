"""The audit commands of ``disputes``: seal, verify-store, keys generate, export, verify, replay.

``register(subparsers)`` adds them to the main parser. Every handler returns the exit status: 0 when
all is well, 1 when a check finds a fault (tampered store or bundle, export refused), 2 for any other
error; a fault or an error is one line on stderr, ``disputes: error: ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from disputes.audit import AuditError, IntegrityFault
from disputes.cli.common import (
    ERROR_STATUS,
    FAULT_STATUS,
    PROG,
    ProgressBar,
    log_position,
    opened_container,
    positive_int,
    rfc3339_argument,
)

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: Any) -> None:
    """Add the audit commands to the ``disputes`` parser's subparsers."""
    seal = subparsers.add_parser("seal", help="seal the events recorded since the last seal (audit chain)")
    seal.set_defaults(handler=_guarded(run_seal))

    store = subparsers.add_parser(
        "verify-store",
        help="recompute the audit chain from the stored events and compare it with the seal; check every "
        "snapshot against the replay of its events (over the whole store)",
    )
    store.add_argument("--from", dest="start", type=log_position, metavar="POSITION", help="first position")
    store.add_argument("--to", dest="stop", type=log_position, metavar="POSITION", help="last position")
    store.set_defaults(handler=_guarded(run_verify_store))

    keys = subparsers.add_parser("keys", help="manage the Ed25519 key that signs export bundles")
    key_actions = keys.add_subparsers(title="actions", metavar="ACTION", required=True)
    generate = key_actions.add_parser("generate", help="write a new key pair (private key mode 0600)")
    generate.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="directory for the key files"
    )
    generate.set_defaults(handler=_guarded(run_keys_generate))

    export = subparsers.add_parser(
        "export", help="write the signed audit-trail bundle of a period or a claim"
    )
    export.add_argument(
        "--from", dest="start", type=rfc3339_argument, metavar="TIME", help="RFC 3339, with a zone"
    )
    export.add_argument(
        "--to", dest="end", type=rfc3339_argument, metavar="TIME", help="RFC 3339, with a zone (excluded)"
    )
    export.add_argument("--claim", dest="claim_id", metavar="ID", help="export this claim's whole history")
    export.add_argument("--out", required=True, type=Path, metavar="FILE.zip")
    export.add_argument(
        "--key", type=Path, metavar="FILE", help="signing key (default: DISPUTES_SIGNING_KEY_FILE)"
    )
    export.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="processes that make a large period's records (default: the CPUs this process may use; "
        "1: all in this process)",
    )
    export.add_argument("--no-progress", action="store_true", help="no progress bar")
    export.set_defaults(handler=_guarded(run_export))

    verify = subparsers.add_parser("verify", help="verify an export bundle offline")
    verify.add_argument("bundle", type=Path, metavar="BUNDLE")
    verify.add_argument(
        "--public-key", type=Path, metavar="FILE", help="the signer's public key PEM (pins it)"
    )
    verify.add_argument(
        "--previous", type=Path, metavar="BUNDLE", help="the period bundle this one continues"
    )
    verify.set_defaults(handler=_guarded(run_verify))

    replay = subparsers.add_parser("replay", help="print a claim's timeline: each event and what it changed")
    replay.add_argument("claim_id", metavar="CLAIM_ID")
    replay.add_argument("--json", action="store_true", help="one JSON object per event instead of text")
    replay.set_defaults(handler=_guarded(run_replay))


def _guarded(handler: Handler) -> Handler:
    """Audit errors as one line and a status; anything else goes to the main CLI's error handling."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except AuditError as exc:
            print(f"{PROG}: error: {' '.join(exc.detail.split())}", file=sys.stderr)
            return FAULT_STATUS if isinstance(exc, IntegrityFault) else ERROR_STATUS

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


# --- commands --------------------------------------------------------------------------------------


def run_seal(args: argparse.Namespace) -> int:
    from disputes.audit.chain import seal_new_events

    with opened_container() as container:
        head = seal_new_events(container.app, container.settings.database)
    print(f"sealed up to position {head.position}; head hash {head.hash}")
    return 0


def run_verify_store(args: argparse.Namespace) -> int:
    from disputes.audit.chain import seal_reader
    from disputes.audit.snapshots import verify_snapshots
    from disputes.audit.verify_store import verify_store

    if args.start is not None and args.stop is not None and args.start > args.stop:
        raise AuditError(f"--from {args.start} is after --to {args.stop}")
    whole = args.start is None and args.stop is None
    with opened_container() as container, seal_reader(container.settings.database) as reader:
        report = verify_store(container.app, reader, args.start, args.stop)
        snapshots = verify_snapshots(container.app, container.settings.database) if whole else None
    if report.fault is not None:
        raise report.fault
    if snapshots is not None and snapshots.fault is not None:
        raise snapshots.fault
    print(report.summary() + ("" if snapshots is None else f"; {snapshots.summary()}"))
    return 0


def run_keys_generate(args: argparse.Namespace) -> int:
    from disputes.audit.keys import generate_key

    files = generate_key(args.out)
    print(f"private key {files.private_path} (mode 0600; keep it secret)")
    print(f"public key  {files.public_path} (give it to regulators)")
    print(f"key id      {files.key_id}")
    print(f"set DISPUTES_SIGNING_KEY_FILE={files.private_path.resolve()} for the server and exports")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from disputes.audit.bundle import Period, export_bundle
    from disputes.audit.keys import load_signing_key
    from disputes.cli.workers import usable_cpus
    from disputes.settings import Settings

    period = None
    if args.claim_id is not None:
        if args.start is not None or args.end is not None:
            raise AuditError("give either --claim or --from and --to, not both")
    elif args.start is None or args.end is None:
        raise AuditError("export needs --from and --to, or --claim")
    else:
        period = Period(args.start, args.end)
    key_file = args.key or Settings().signing_key_file
    if key_file is None:
        raise AuditError("no signing key: pass --key FILE or set DISPUTES_SIGNING_KEY_FILE")
    key = load_signing_key(Path(key_file))
    bar = ProgressBar(sys.stderr, "export", enabled=not args.no_progress)
    try:
        with opened_container() as container:
            result = export_bundle(
                container.app,
                container.settings.database,
                key,
                args.out,
                period=period,
                claim_id=args.claim_id,
                progress=bar.update,
                workers=args.workers or usable_cpus(),
            )
    finally:
        bar.finish()
    print(result.summary())
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from disputes.audit.verify_bundle import verify_bundle

    pinned = None
    if args.public_key is not None:
        try:
            pinned = args.public_key.read_bytes()
        except OSError as exc:
            raise AuditError(f"cannot read {args.public_key}: {exc.strerror}") from None
    for path in (args.bundle, args.previous):
        if path is not None and not path.is_file():
            raise AuditError(f"no bundle at {path}")
    report = verify_bundle(args.bundle, pinned, args.previous)
    if report.fault is not None:
        raise IntegrityFault(str(report.fault), code=report.fault.code)
    print(report.summary())
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from disputes.application.history import replay
    from disputes.domain.claim import claim_id_of

    with opened_container(migrated=False) as container:
        claim = container.app.load_claim(args.claim_id)
        steps = list(replay(container.app.events.get(claim_id_of(args.claim_id))))
    if args.json:
        for step in steps:
            print(json.dumps({**step.record.as_dict(), "changes": step.changes}, ensure_ascii=False))
        return 0
    print(f"claim {claim.id}: {len(steps)} events, now {claim.status}")
    for step in steps:
        record = step.record.as_dict()
        actor = f"{record['actor']['role']}:{record['actor']['id']}"
        print(f"v{record['version']:<3} {record['recorded_at']}  {actor:<24} {record['type']}")
        if record["version"] > 1:  # the opening's data is all in its changes below
            for name, value in record["data"].items():
                print(f"       · {name} = {_show(value)}")
        for name, change in step.changes.items():
            if change["before"] is None:
                print(f"       + {name}: {_show(change['after'])}")
            else:
                print(f"       ~ {name}: {_show(change['before'])} -> {_show(change['after'])}")
    return 0


# --- helpers ---------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return f"{value['amount']} {value['currency']}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
