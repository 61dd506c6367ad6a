"""Audit-trail benchmark: export and verify throughput (events/s) and peak memory, at N events.

    .venv/bin/python bench/audit.py                      # 50,000 events on a temporary SQLite store
    .venv/bin/python bench/audit.py --events 1000000     # the issue's figure (a few minutes)
    .venv/bin/python bench/audit.py --database-url postgresql://USER@HOST/DB --events 200000
    .venv/bin/python bench/audit.py --events 1000000 --keep /tmp/audit-bench   # record once, reuse after

The store is filled directly through the application (claims of five events each, saved 500 claims per
transaction), then sealed. Export, ``disputes verify``'s verifier and tools/verify_bundle.py each run in
a child process of their own, which reports its wall time and its peak resident memory (``ru_maxrss``:
VmHWM on Linux: the whole process, interpreter included, so an upper bound of what the work needs; the
verifier's worker processes are reported separately, as the largest of them). Not a test: goals are printed, not asserted.
Goals (issue 4): verify >= 200,000 events/s; export peak memory < 256 MB whatever the size. Goals (issue 15):
export >= 50,000 events/s, tools/verify_bundle.py >= 100,000 events/s. Each is measured beside a reference
in the same run, and the ratio printed: the export beside the store's raw read and JSON decode of the same
events (what no export can beat), the verifiers beside inflating events.jsonl and hashing it with sha256.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

START = datetime(2026, 1, 1, tzinfo=UTC)
CLAIMS_PER_SAVE = 500
VERIFY_GOAL = 200_000
EXPORT_GOAL = 50_000
TOOL_GOAL = 100_000
TASKS = ("read", "export1", "export", "digest", "verify", "tool")
"""Each of ours after its reference, in one run: the ratios are steadier than the figures. ``export1`` is
the export in one process (``--workers 1``: the HTTP export job's way), ``export`` the command's default
(a worker process per CPU for a large period)."""
DEFAULT_BATCH = 1000
EXPORT_MEMORY_GOAL_MB = 256


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process (or of its finished children), in MB.

    For this process, Linux's VmHWM: ``ru_maxrss`` would include the parent's size at fork time.
    """
    if who == resource.RUSAGE_SELF:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def fill(database_url: str, events: int) -> dict[str, Any]:
    """Record ``events`` events (rounded up to whole claims of five) and seal them."""
    from disputes.adapters.migrations import apply_migrations
    from disputes.audit.chain import seal_new_events
    from disputes.bootstrap import bootstrap
    from disputes.domain.claim import Claim
    from disputes.domain.parties import Actor, Role
    from disputes.domain.policy import Windows
    from disputes.settings import Settings

    settings = Settings(database_url=database_url)
    apply_migrations(settings.database)
    container = bootstrap(settings)
    app, windows = container.app, Windows()
    buyer, merchant = Actor(Role.BUYER, "b1"), Actor(Role.MERCHANT, "m1")
    started, made, n = time.perf_counter(), 0, 0
    while made < events:
        claims = []
        for _ in range(CLAIMS_PER_SAVE):
            at = START + timedelta(seconds=n)
            claim = Claim.open(
                actor=buyer,
                order_id=f"o-{n}",
                merchant_id="m1",
                kind="refund_only",  # type: ignore[arg-type]
                reason="damaged",  # type: ignore[arg-type]
                order_amount="100.00",
                claimed_amount="80.00",
                currency="CNY",
                delivered_at=START - timedelta(days=1),
                description=f"Order o-{n}: the vase arrived broken (花瓶).",
                windows=windows,
                at=at,
            )
            claim.respond(actor=merchant, decision="offer", amount="50.00", message="Half?", at=at)  # type: ignore[arg-type]
            claim.post_message(actor=buyer, body="Not enough.", at=at)
            claim.answer_offer(actor=buyer, accept=False, at=at)
            claim.request_mediation(actor=buyer, reason="We disagree.", at=at)
            claims.append(claim)
            made, n = made + 5, n + 1
            if made >= events:
                break
        app.save(*claims)
    recorded = time.perf_counter() - started
    started = time.perf_counter()
    head = seal_new_events(app, settings.database, batch=5000)
    sealed = time.perf_counter() - started
    container.close()
    return {"events": made, "claims": n, "record_s": recorded, "seal_s": sealed, "head": head.position}


def _cpu_s() -> float:
    """CPU seconds (user and system) of this process and of its finished children (the workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child(task: str, args: argparse.Namespace) -> None:
    """Run one task in this (child) process and print its figures as JSON."""
    baseline = _peak_mb()
    started, cpu_started = time.perf_counter(), _cpu_s()
    opened: list[Any] = []
    if task in ("export", "export1"):
        from disputes.audit.bundle import Period, export_bundle
        from disputes.audit.keys import load_signing_key
        from disputes.bootstrap import bootstrap
        from disputes.settings import Settings

        settings = Settings(database_url=args.database_url)
        container = bootstrap(settings)
        baseline = _peak_mb()
        started, cpu_started = time.perf_counter(), _cpu_s()
        result = export_bundle(
            container.app,
            settings.database,
            load_signing_key(Path(args.key)),
            Path(args.out),
            period=Period(START - timedelta(days=1), START + timedelta(days=3650)),
            workers=1 if task == "export1" else args.workers,
        )
        count = result.manifest["counts"]["events"]
        opened.append(container)  # closed once timed (see below)
    elif task == "read":  # reference of the export: the store's raw read and JSON decode, nothing else
        import orjson

        from disputes.audit.chain import iter_notifications
        from disputes.bootstrap import bootstrap
        from disputes.settings import Settings

        settings = Settings(database_url=args.database_url)
        container = bootstrap(settings)
        baseline = _peak_mb()
        started, cpu_started = time.perf_counter(), _cpu_s()
        count = sum(1 for n in iter_notifications(container.app, 0, batch=DEFAULT_BATCH) if orjson.loads(n.state))
        opened.append(container)  # closed once timed (see below)
    elif task == "digest":  # reference of the verifiers: inflate events.jsonl and sha256 it, nothing else
        import hashlib
        import zipfile

        baseline = _peak_mb()
        started, cpu_started = time.perf_counter(), _cpu_s()
        digest = hashlib.sha256()
        with zipfile.ZipFile(args.out) as archive, archive.open("events.jsonl") as stream:
            count = 0
            while block := stream.read(1 << 20):
                digest.update(block)
                count += block.count(b"\n")
    elif task == "verify":
        from disputes.audit.verify_bundle import verify_bundle

        baseline = _peak_mb()
        started, cpu_started = time.perf_counter(), _cpu_s()
        report = verify_bundle(Path(args.out))
        assert report.ok, report.summary()
        count = report.events
    else:  # the regulator's standalone verifier
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "verify_bundle_tool", ROOT / "tools" / "verify_bundle.py"
        )
        assert spec is not None and spec.loader is not None
        tool = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tool)
        baseline = _peak_mb()
        started, cpu_started = time.perf_counter(), _cpu_s()
        report = tool.verify_bundle(Path(args.out))
        assert report.ok, report.summary()
        count = report.events
    seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu_started
    for container in opened:  # not the task's work: on PostgreSQL the token cache's listener takes up to 1 s to stop
        container.close()
    print(
        json.dumps(
            {
                "task": task,
                "events": count,
                "seconds": seconds,
                "cpu_s": cpu,
                "rate": count / seconds if seconds else 0.0,
                "baseline_mb": baseline,
                "peak_mb": _peak_mb(),
                "workers_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN),
            }
        )
    )


def run_child(task: str, database_url: str, key: Path, out: Path, workers: int) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        task,
        "--database-url",
        database_url,
        "--key",
        str(key),
        "--out",
        str(out),
        "--workers",
        str(workers),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{task} failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000, help="events to record (default 50,000)")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the SQLite store in DIR and reuse it when it already holds the events asked for",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
        help="the export's worker processes (default: the CPUs this process may use, as disputes export)",
    )
    parser.add_argument("--child", choices=TASKS, help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return 0

    from disputes.audit.keys import generate_key

    with tempfile.TemporaryDirectory(prefix="disputes-bench-") as scratch:
        work = Path(scratch)
        store = Path(args.keep) if args.keep else work
        store.mkdir(parents=True, exist_ok=True)
        database_url = args.database_url or f"sqlite:///{store / 'bench.sqlite'}"
        marker = store / "filled.json"
        kept = json.loads(marker.read_text()) if args.keep and marker.exists() else None
        if kept is not None and kept["asked"] == args.events and kept["database"] == database_url:
            filled = kept
            print(
                f"reusing {filled['events']:,} events recorded in {database_url.split('@')[-1]}", flush=True
            )
        else:
            if args.keep and not args.database_url:  # a partial or different store: start afresh
                for old in store.glob("bench.sqlite*"):
                    old.unlink()
            print(f"recording {args.events:,} events on {database_url.split('@')[-1]} ...", flush=True)
            filled = fill(database_url, args.events)
            if args.keep:
                marker.write_text(json.dumps({**filled, "asked": args.events, "database": database_url}))
        n = filled["events"]
        print(
            f"recorded {n:,} events ({filled['claims']:,} claims) in {filled['record_s']:.1f} s; "
            f"sealed in {filled['seal_s']:.1f} s ({n / filled['seal_s']:,.0f} events/s)",
            flush=True,
        )
        key = generate_key(work / "keys").private_path
        out = store / "bundle.zip"  # with --keep, left there to verify again by hand
        rows = [run_child(task, database_url, key, out, args.workers) for task in TASKS]
        size = out.stat().st_size
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nbundle: {size / 2**20:,.1f} MiB zip; {cpus} CPUs (load average {load:.1f} at the end: other "
        f"work on the machine slows the wall-clock figures; CPU s, workers included, does not depend on it); "
        f"Python {sys.version.split()[0]}"
    )
    print(
        f"{'task':<26}{'events':>11}{'seconds':>10}{'events/s':>12}{'CPU s':>8}{'peak RSS MB':>13}"
        f"{'workers MB':>12}"
    )
    names = {
        "read": "ref: store read+decode",
        "export1": "export, one process",
        "export": f"export, {args.workers} workers",
        "digest": "ref: inflate+sha256",
        "verify": "verify (disputes verify)",
        "tool": "tools/verify_bundle.py",
    }
    for row in rows:
        print(
            f"{names[row['task']]:<26}{row['events']:>11,}{row['seconds']:>10.2f}{row['rate']:>12,.0f}"
            f"{row['cpu_s']:>8.1f}{row['peak_mb']:>13.0f}{row['workers_peak_mb']:>12.0f}"
        )
    by = {row["task"]: row for row in rows}
    export, verify, tool = by["export"], by["verify"], by["tool"]
    print(
        f"\nratios (ours / reference, same run): export / store read {export['rate'] / by['read']['rate']:.2f}x; "
        f"export with workers / in one process {export['rate'] / by['export1']['rate']:.2f}x; "
        f"verify / inflate+sha256 {verify['rate'] / by['digest']['rate']:.2f}x; "
        f"tools/verify_bundle.py / inflate+sha256 {tool['rate'] / by['digest']['rate']:.2f}x"
    )
    print(
        f"goals (issue 15): export >= {EXPORT_GOAL:,} events/s: "
        f"{'met' if export['rate'] >= EXPORT_GOAL else 'NOT met'} ({export['rate']:,.0f}); "
        f"tools/verify_bundle.py >= {TOOL_GOAL:,} events/s: "
        f"{'met' if tool['rate'] >= TOOL_GOAL else 'NOT met'} ({tool['rate']:,.0f})"
    )
    print(
        f"\ngoals: verify >= {VERIFY_GOAL:,} events/s: {'met' if verify['rate'] >= VERIFY_GOAL else 'NOT met'} "
        f"({verify['rate']:,.0f}); export peak < {EXPORT_MEMORY_GOAL_MB} MB: "
        f"{'met' if export['peak_mb'] < EXPORT_MEMORY_GOAL_MB else 'NOT met'} ({export['peak_mb']:.0f} MB, "
        f"{export['baseline_mb']:.0f} MB before exporting)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
