"""Benchmark (not a test): the command path over HTTP, the project's server against a naive stack, in one run.

    .venv/bin/python bench/commands.py [--stores sqlite,postgres] [--connections 16,64] [--duration 10]
                                       [--server-url postgresql://USER@HOST:PORT/postgres]

Needs ``wrk`` (``apt-get install wrk``); without it, it says so and stops. For each store (a SQLite file,
and throwaway databases on the PostgreSQL server) it serves, one after the other, on one machine with
the same load tool:

- **ours**: ``disputes serve`` with every production check on (``DISPUTES_ENV=production``, a signing
  key, buyer and merchant tokens checked on every request, recorded orders and eligibility, the
  projections and the engines in the process, idempotency and input guards), on data prepared in
  process beforehand (orders to claim on, and claims to answer and refund);
- **naive**: bench/naive_app.py, FastAPI and eventsourcing with one save per request and nothing else.

and drives each with wrk, at every connection count, for ``--duration`` seconds per workload:

- ``open-claim``: ``POST /claims``, each request on an order of its own;
- ``mixed``: on existing claims, 3 messages to 1 merchant response (accept) to 1 refund;
- ``health``: ``GET /healthz`` (ours) and ``GET /health`` (naive).

It prints, per store, workload and connection count, each side's requests per second, p50 and p99 (ms)
and the answers that were not 2xx, and the ratio ours / naive of the rates; then each side's CPU per
request, of the server's processes (ours: until its views caught up with the run) and of the PostgreSQL
server's (read from /proc; the steadier figures on a shared machine). Goals (issue 15): open-claim
at 16 connections at least 2x naive with p99 <= 50 ms; mixed at least 1x; health at least 0.8x.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

# Run as a script, this file's directory comes first on sys.path, and its projections.py would hide the
# projections package: it goes last instead (auth.py is still found there).
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]
from auth import throwaway_database  # noqa: E402

from disputes.adapters.migrations import apply_migrations  # noqa: E402
from disputes.application.claims import DisputesApplication  # noqa: E402
from disputes.audit.keys import generate_key  # noqa: E402
from disputes.bootstrap import bootstrap  # noqa: E402
from disputes.domain.order import OrderFacts  # noqa: E402
from disputes.domain.parties import Actor, Role  # noqa: E402
from disputes.settings import Settings  # noqa: E402

BUYER, MERCHANT, PLATFORM = Actor(Role.BUYER, "b1"), Actor(Role.MERCHANT, "m1"), Actor(Role.PLATFORM, "plat")
SOURCE = HERE.parent / "src"
AMOUNT = "10.00"

OPEN_CLAIM_LUA = r"""
local counter = 0
local threads = {}
function setup(thread) thread:set("tid", #threads); table.insert(threads, thread) end
function init(args)
  prefix = args[1]; per_buyer = tonumber(args[3]); nthreads = tonumber(args[4])
  tokens = {}
  for line in io.lines(args[2]) do table.insert(tokens, line) end
end
function request()
  local i = counter * nthreads + tid
  counter = counter + 1
  local token = tokens[math.floor(i / per_buyer) % #tokens + 1]
  local body = string.format('{"order_id":"%s-%d","kind":"refund_only","reason":"damaged",' ..
    '"claimed_amount":"10.00","description":"Broken on arrival."}', prefix, i)
  return wrk.format("POST", "/claims", {["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json"}, body)
end
"""

MIXED_LUA = r"""
local counter = 0
local threads = {}
function setup(thread) thread:set("tid", #threads); table.insert(threads, thread) end
local function lines(path)
  local t = {}
  for line in io.lines(path) do table.insert(t, line) end
  return t
end
function init(args)
  messages = lines(args[1]); responses = lines(args[2]); refunds = lines(args[3])
  buyer = args[4]; merchant = args[5]; nthreads = tonumber(args[6])
  math.randomseed(tid * 7919 + 17)
  nresp = 0; nrefund = 0
end
local function post(path, token, body)
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json"}, body)
end
function request()
  local slot = counter % 5
  counter = counter + 1
  if slot == 3 then
    local id = responses[(nresp * nthreads + tid) % #responses + 1]; nresp = nresp + 1
    return post("/claims/" .. id .. "/merchant-response", merchant,
      '{"decision":"accept","message":"Sorry about that."}')
  elseif slot == 4 then
    local id = refunds[(nrefund * nthreads + tid) % #refunds + 1]; nrefund = nrefund + 1
    return post("/claims/" .. id .. "/refunds", merchant,
      string.format('{"amount":"10.00","payment_reference":"pay-%d-%d"}', tid, nrefund))
  end
  local id = messages[math.random(#messages)]
  return post("/claims/" .. id .. "/messages", buyer, '{"body":"Any news on this?"}')
end
"""

GET_LUA = r"""
function init(args) path = args[1] end
function request() return wrk.format("GET", path) end
"""

DONE_LUA = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Figures:
    rate: float
    p50_ms: float
    p99_ms: float
    refused: int
    """Answers that were not 2xx or 3xx, and socket errors."""
    server_cpu_ms: float | None = None
    """CPU per request of the server's processes (serving, and ours' background process, until its views
    caught up with the run): steadier than the rates on a shared machine. None without /proc."""
    database_cpu_ms: float | None = None
    """CPU per request of the PostgreSQL server's processes on this machine (whatever else they served
    meanwhile included). None on SQLite (in the server's processes) or without /proc."""


# --- CPU of processes, from /proc (Linux) -----------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()] if Path("/proc").is_dir() else []


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants."""
    children: dict[int, list[int]] = {}
    for pid in _pids():
        fields = _stat(pid)
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def postgres_processes() -> list[int]:
    found = []
    for pid in _pids():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
                found.append(pid)
        except OSError:
            pass
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User and system CPU of these processes so far (those that ended since are not counted)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


# --- the processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    base: str
    pid: int
    postgres: bool
    settle: Callable[[], None] | None = None
    """Called after a run, before the CPU is read: until the server's background work is done."""


@contextmanager
def serving(argv: Sequence[str], env: dict[str, str], ready_path: str, log: Path) -> Iterator[Served]:
    """A server process on a free port, once ``ready_path`` answers 200."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [*argv, "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server stopped at start:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(base + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server was not ready within 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        url = env.get("DISPUTES_DATABASE_URL") or env.get("NAIVE_DATABASE_URL") or ""
        yield Served(base, process.pid, url.startswith("postgresql"))
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_caught_up(base: str, log: Path | None = None) -> None:
    """Until the projections have processed everything recorded so far."""
    deadline = time.monotonic() + 300
    answer = None
    while time.monotonic() < deadline:
        answer = httpx.get(base + "/readyz", timeout=10)
        if answer.status_code == 200 and not any(answer.json()["projections_lag"].values()):
            return
        time.sleep(0.5)
    last = answer.text if answer is not None else "no answer"
    tail = log.read_text()[-3000:] if log is not None else ""
    raise SystemExit(f"the projections did not catch up within 300 s: {last}\n{tail}")


def wrk(served: Served, script: str, args: Sequence[str], connections: int, duration: int, work: Path) -> Figures:
    base = served.base
    server, database = process_tree(served.pid), postgres_processes() if served.postgres else []
    before = cpu_seconds(server), cpu_seconds(database)
    path = work / "script.lua"
    path.write_text(script + DONE_LUA)
    threads = 2
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(path),
            base, "--", *args, str(threads)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    requests, micros, p50, p99, status, sockets = (int(v) for v in line.split()[1:])
    if served.settle is not None:
        served.settle()
    server_ms = (cpu_seconds(server) - before[0]) * 1000 / max(1, requests) if server else None
    database_ms = (cpu_seconds(database) - before[1]) * 1000 / max(1, requests) if database else None
    return Figures(requests / (micros / 1e6), p50 / 1000, p99 / 1000, status + sockets, server_ms, database_ms)


# --- the data ----------------------------------------------------------------------------------------


CLAIMS_PER_BUYER = 4
"""Open-claim runs spread over many buyers, each with a token of its own and a few claims: under the
policy's claim-rate limit, and each token checked in the database once per process, as in life."""


def facts(buyer_id: str = "b1") -> OrderFacts:
    return OrderFacts.parse(
        buyer_id=buyer_id, merchant_id="m1", currency="CNY", total_amount=AMOUNT,
        placed_at=datetime.now(UTC) - timedelta(days=2),
        lines=[{"line_id": "l1", "sku": "S1", "title": "Vase", "quantity": 1, "unit_price": AMOUNT}],
    )


def record_orders(app: DisputesApplication, ids: Sequence[str], workers: int, buyer_of: Callable[[int], str] | None = None) -> None:
    at = datetime.now(UTC) - timedelta(days=1)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda n, i: app.orders.record(PLATFORM, i, facts(buyer_of(n) if buyer_of else "b1"), at),
                      range(len(ids)), ids))


def open_claims(app: DisputesApplication, ids: Sequence[str], workers: int, *, accept: bool) -> list[str]:
    record_orders(app, ids, workers)

    def one(order_id: str) -> str:
        claim = app.open_claim(BUYER, order_id=order_id, kind="refund_only", reason="damaged",  # type: ignore[arg-type]
                               claimed_amount=AMOUNT, description="Broken.").claim
        if accept:
            app.respond(MERCHANT, claim, decision="accept", amount=None, message="Sorry.")  # type: ignore[arg-type]
        return str(claim.id)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, ids))


@dataclass
class Prepared:
    opener_tokens: dict[int, Path]
    """Per connection count: the tokens of the buyers of its open-claim orders, a line each."""
    buyer_token: str
    merchant_token: str
    messages: Path
    responses: dict[int, Path]
    refunds: dict[int, Path]


def prepare_ours(url: str, args: argparse.Namespace, work: Path) -> Prepared:
    settings = Settings(database_url=url, projections_in_process=False, deadlines_in_process=False,
                        postgres_pool_size=10)
    apply_migrations(settings.database)
    container = bootstrap(settings)
    workers = 8 if settings.database.dialect == "postgres" else 1
    app, now = container.app, datetime.now(UTC)
    try:
        _, buyer = container.principals.add(Role.BUYER, "b1", now=now)
        _, merchant = container.principals.add(Role.MERCHANT, "m1", now=now)
        opener_tokens = {}
        for c in args.connections:
            buyers = [f"b{c}-{n}" for n in range(-(-args.orders // CLAIMS_PER_BUYER))]
            opener_tokens[c] = work / f"openers-{c}.txt"
            opener_tokens[c].write_text("\n".join(container.principals.add(Role.BUYER, b, now=now)[1] for b in buyers))
            record_orders(app, [f"oc{c}-{i}" for i in range(args.orders)], workers,
                          lambda n, c=c: f"b{c}-{n // CLAIMS_PER_BUYER}")  # type: ignore[misc]
        messages = work / "messages.txt"
        messages.write_text("\n".join(open_claims(app, [f"msg-{i}" for i in range(500)], workers, accept=False)))
        responses, refunds = {}, {}
        for c in args.connections:
            n = args.mixed_claims
            responses[c] = work / f"responses-{c}.txt"
            responses[c].write_text("\n".join(open_claims(app, [f"r{c}-{i}" for i in range(n)], workers, accept=False)))
            refunds[c] = work / f"refunds-{c}.txt"
            refunds[c].write_text("\n".join(open_claims(app, [f"f{c}-{i}" for i in range(n)], workers, accept=True)))
    finally:
        container.close()
    return Prepared(opener_tokens, buyer, merchant, messages, responses, refunds)


def prepare_naive(base: str, n: int, work: Path, name: str) -> Path:
    with httpx.Client(base_url=base, timeout=10) as http:
        ids = [http.post("/claims", json={"order_id": f"{name}-{i}", "claimed_amount": AMOUNT,
                                          "description": "Broken."}).json()["id"] for i in range(n)]
    path = work / f"naive-{name}.txt"
    path.write_text("\n".join(ids))
    return path


# --- one store ---------------------------------------------------------------------------------------


def environment(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISPUTES_", "NAIVE_"))}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), os.environ.get("PYTHONPATH")]))
    return {**clean, **env}


def bench_store(ours_url: str, naive_url: str, args: argparse.Namespace, work: Path) -> dict[tuple[str, int], dict[str, Figures]]:
    results: dict[tuple[str, int], dict[str, Figures]] = {}
    started = time.monotonic()
    prepared = prepare_ours(ours_url, args, work)
    print(f"  prepared in {time.monotonic() - started:.0f} s", flush=True)
    private = generate_key(work / "keys").private_path
    env = environment(DISPUTES_ENV="production", DISPUTES_DATABASE_URL=ours_url,
                      DISPUTES_SIGNING_KEY_FILE=str(private))
    serve = [sys.executable, "-m", "disputes", "serve"]
    with serving(serve, env, "/readyz", work / "ours.log") as started_ours:
        wait_caught_up(started_ours.base, work / "ours.log")
        ours = replace(started_ours, settle=lambda: wait_caught_up(started_ours.base, work / "ours.log"))
        for c in args.connections:
            opening = [f"oc{c}", str(prepared.opener_tokens[c]), str(CLAIMS_PER_BUYER)]
            results[("open-claim", c)] = {"ours": wrk(ours, OPEN_CLAIM_LUA, opening, c, args.duration, work)}
            mixed = [str(prepared.messages), str(prepared.responses[c]), str(prepared.refunds[c]),
                     prepared.buyer_token, prepared.merchant_token]
            results[("mixed", c)] = {"ours": wrk(ours, MIXED_LUA, mixed, c, args.duration, work)}
            results[("health", c)] = {"ours": wrk(ours, GET_LUA, ["/healthz"], c, args.duration, work)}
    naive = [sys.executable, "-m", "uvicorn", "naive_app:create_app", "--factory", "--app-dir", str(HERE)]
    with serving(naive, environment(NAIVE_DATABASE_URL=naive_url), "/health", work / "naive.log") as naive_server:
        pool = prepare_naive(naive_server.base, 2000, work, "pool")
        for c in args.connections:
            opening = [f"oc{c}", str(prepared.opener_tokens[c]), str(CLAIMS_PER_BUYER)]
            results[("open-claim", c)]["naive"] = wrk(naive_server, OPEN_CLAIM_LUA, opening, c, args.duration, work)
            results[("mixed", c)]["naive"] = wrk(naive_server, MIXED_LUA, [str(pool)] * 3 + ["-", "-"], c, args.duration, work)
            results[("health", c)]["naive"] = wrk(naive_server, GET_LUA, ["/health"], c, args.duration, work)
    return results


@contextmanager
def sqlite_urls(work: Path) -> Iterator[tuple[str, str]]:
    # Production refuses SQLite under a temporary directory: the file lives beside the benchmark.
    directory = Path(tempfile.mkdtemp(prefix="bench-", dir=HERE))
    try:
        yield f"sqlite:///{directory / 'ours.sqlite'}", f"sqlite:///{directory / 'naive.sqlite'}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def postgres_urls(server_url: str) -> Iterator[tuple[str, str]]:
    with throwaway_database(server_url) as ours, throwaway_database(server_url) as naive:
        yield ours, naive


def report(store: str, results: dict[tuple[str, int], dict[str, Figures]]) -> None:
    print(f"\n{store}: {'workload':10} {'conns':>5}  {'ours req/s':>10} {'p50':>6} {'p99':>6} {'non-2xx':>7}  "
          f"{'naive req/s':>11} {'p50':>6} {'p99':>6} {'non-2xx':>7}  {'ratio':>6}")
    for (workload, c), sides in results.items():
        ours, naive = sides["ours"], sides["naive"]
        print(f"{store}: {workload:10} {c:5d}  {ours.rate:10.0f} {ours.p50_ms:6.1f} {ours.p99_ms:6.1f} "
              f"{ours.refused:7d}  {naive.rate:11.0f} {naive.p50_ms:6.1f} {naive.p99_ms:6.1f} {naive.refused:7d}  "
              f"{ours.rate / naive.rate:5.2f}x")
    print(f"{store}: CPU ms per request (server processes + database server): ours / naive")
    for (workload, c), sides in results.items():
        print(f"{store}: {workload:10} {c:5d}  " + "  ".join(
            f"{side} {_ms(f.server_cpu_ms)} + {_ms(f.database_cpu_ms)}" for side, f in sides.items()))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--connections", default="16,64", type=lambda v: [int(x) for x in v.split(",")])
    parser.add_argument("--duration", type=int, default=10, help="seconds per workload and side")
    parser.add_argument("--orders", type=int, default=4000, help="orders prepared per open-claim run")
    parser.add_argument("--mixed-claims", type=int, default=1000, help="claims to answer, and to refund, per mixed run")
    parser.add_argument("--server-url", default=f"postgresql://{getpass.getuser()}@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/commands.py needs wrk, which is not installed (apt-get install wrk)")
    print(f"wrk, 2 threads, {args.duration} s per run; connections {args.connections}; {os.cpu_count()} CPUs")
    all_results = {}
    for store in args.stores.split(","):
        print(f"{store}: preparing", flush=True)
        urls = sqlite_urls(HERE) if store == "sqlite" else postgres_urls(args.server_url)
        with urls as (ours, naive), tempfile.TemporaryDirectory() as work:
            all_results[store] = bench_store(ours, naive, args, Path(work))
        report(store, all_results[store])
    print(json.dumps({s: {f"{w}/{c}": {side: vars(f) for side, f in r.items()} for (w, c), r in res.items()}
                      for s, res in all_results.items()}))


if __name__ == "__main__":
    main()
