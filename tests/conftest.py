"""Database fixtures for the whole suite.

``database_url`` runs a test once on SQLite and once on PostgreSQL; ``sqlite_url`` and ``postgres_url``
ask for one backend. Every test gets a database of its own, empty, that no other test or earlier run
has touched: a fresh SQLite file under ``tmp_path``, or a freshly created PostgreSQL database that is
dropped when the test ends.

The PostgreSQL server is found once per session, first match wins:

1. ``DISPUTES_TEST_DATABASE_URL``: a ``postgresql://user:pass@host:port/db`` URL of a database to
   connect to, as a user allowed to ``CREATE DATABASE``;
2. a server answering on 127.0.0.1:5432, as the current OS user, then as ``postgres`` (skip this with
   ``DISPUTES_TEST_NO_LOCAL_SERVER=1``);
3. a throwaway cluster: ``initdb`` and ``pg_ctl`` from ``PATH`` or ``/usr/lib/postgresql/*/bin``, a
   temporary data directory, trust authentication, a free port on 127.0.0.1; stopped and removed at
   the end of the session. As root it runs as an unprivileged user (``postgres`` or ``nobody``).

If none works the PostgreSQL tests are skipped, or fail when ``CI=true``: under CI a missing server is
a broken build, not a reason to test less.
"""

from __future__ import annotations

import contextlib
import getpass
import itertools
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

if TYPE_CHECKING:
    from support import LoginUser

pytest_plugins = ("pytester",)

SERVER_URL_ENV = "DISPUTES_TEST_DATABASE_URL"
NO_LOCAL_SERVER_ENV = "DISPUTES_TEST_NO_LOCAL_SERVER"
LOCAL_HOST, LOCAL_PORT = "127.0.0.1", 5432
CONNECT_TIMEOUT = 5

INSTALL_HINT = (
    "PostgreSQL is needed for the tests marked 'postgres'. Either set "
    f"{SERVER_URL_ENV}=postgresql://USER:PASSWORD@HOST:PORT/DB (a user that may CREATE DATABASE), "
    f"run a server on {LOCAL_HOST}:{LOCAL_PORT}, or install the PostgreSQL server binaries so that "
    "initdb and pg_ctl can start a throwaway cluster (Debian/Ubuntu: apt-get install postgresql; "
    "Fedora: dnf install postgresql-server; macOS: brew install postgresql). "
    "Deselect them with -m 'not postgres'."
)


# --- markers ---------------------------------------------------------------------------------------

END_TO_END_FIXTURES = frozenset({"server", "api", "reads_api", "lagging_api", "served"})
"""Fixtures that serve the API over real HTTP: a test that uses one is end to end."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``slow`` on every end-to-end test: over real HTTP, or running the program as a process (the
    ``cli`` folder), so that ``-m "not slow and not postgres"`` leaves the quick ones."""
    for item in items:
        in_cli = item.path.parent.name == "cli"
        if in_cli or END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# --- where the server is -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    """How to reach one database on a PostgreSQL server over TCP."""

    host: str
    port: int
    user: str
    password: str = ""
    dbname: str = "postgres"

    @classmethod
    def from_url(cls, url: str) -> PostgresServer:
        params = conninfo_to_dict(url)
        host = str(params.get("host") or LOCAL_HOST)
        if host.startswith("/"):
            raise ValueError(f"{SERVER_URL_ENV} must name a TCP host, not a socket directory ({host})")
        return cls(
            host=host,
            port=int(params.get("port") or 5432),
            user=str(params.get("user") or getpass.getuser()),
            password=str(params.get("password") or ""),
            dbname=str(params.get("dbname") or "postgres"),
        )

    @property
    def url(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{auth}@{host}:{self.port}/{quote(self.dbname, safe='')}"

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection, so that CREATE/DROP DATABASE may run on it."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=self.dbname,
            connect_timeout=CONNECT_TIMEOUT,
            autocommit=True,
        )

    def may_create_databases(self) -> bool:
        query = "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
        with self.connect() as conn:
            row = conn.execute(query).fetchone()
        return bool(row and row[0])


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(reason: str) -> NoReturn:
    """Fail under CI, skip elsewhere."""
    message = f"{reason}\n{INSTALL_HINT}"
    if _truthy("CI"):
        pytest.fail(f"CI=true and no PostgreSQL: {message}", pytrace=False)
    pytest.skip(message)


def _local_server() -> PostgresServer | None:
    """A server on 127.0.0.1:5432 on which one of the usual users may create databases, if any."""
    users = dict.fromkeys([getpass.getuser(), "postgres"])
    for user in users:
        server = PostgresServer(host=LOCAL_HOST, port=LOCAL_PORT, user=user)
        with contextlib.suppress(psycopg.Error):
            if server.may_create_databases():
                return server
    return None


# --- a throwaway cluster -------------------------------------------------------------------------------


def _postgres_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres; the newest version if several."""
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", str(path))) or (0,)

    for pattern in ("usr/lib/postgresql/*/bin", "usr/pgsql-*/bin", "usr/local/pgsql/bin"):
        candidates.extend(sorted(Path("/").glob(pattern), key=version, reverse=True))
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _unprivileged_user() -> pwd.struct_passwd | None:
    """initdb and pg_ctl refuse to run as root: the account to run them as instead."""
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCAL_HOST, 0))
        return int(sock.getsockname()[1])


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary directory, trust auth, reachable on 127.0.0.1 only."""

    superuser = "postgres"

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="disputes-test-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "server.log"
        self.port = 0
        self.run_as: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            self.run_as = _unprivileged_user()
            if self.run_as is None:
                self.stop()
                raise RuntimeError("running as root and no unprivileged account (postgres, nobody) exists")
            os.chown(self.root, self.run_as.pw_uid, self.run_as.pw_gid)

    @property
    def server(self) -> PostgresServer:
        return PostgresServer(host=LOCAL_HOST, port=self.port, user=self.superuser)

    def _run(self, program: str, *args: str) -> None:
        """Run a command as the cluster's owner; raise with its output if it fails."""
        if program in ("initdb", "pg_ctl"):
            program = str(self.bindir / program)
        argv: Sequence[str] = [program, *args]
        if self.run_as is not None:
            if shutil.which("runuser"):
                argv = ["runuser", "-u", self.run_as.pw_name, "--", *argv]
            else:
                argv = ["su", "-s", "/bin/sh", self.run_as.pw_name, "-c", shlex.join(argv)]
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        done = subprocess.run(argv, cwd=self.root, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")

    def start(self, attempts: int = 3) -> None:
        initdb_options = ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]
        self._run("initdb", "-D", str(self.data), "-U", self.superuser, *initdb_options)
        self._run("mkdir", "-m", "0700", str(self.socket_dir))
        for attempt in range(1, attempts + 1):
            self.port = _free_port()
            settings = {
                "listen_addresses": f"'{LOCAL_HOST}'",
                "port": str(self.port),
                "unix_socket_directories": f"'{self.socket_dir}'",
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "max_connections": "200",
            }
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
                return
            except RuntimeError:
                if attempt == attempts:  # the port may have been taken between choosing and binding
                    raise RuntimeError(f"PostgreSQL did not start:\n{self._log_tail()}") from None

    def pause(self) -> None:
        """Stop the server at once, as a crash would (its data and port are kept for :meth:`resume`)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        """Start the paused server again, on the same port."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no server log)"


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a database on a PostgreSQL server where the suite may create and drop databases."""
    configured = os.environ.get(SERVER_URL_ENV)
    if configured:
        try:
            server = PostgresServer.from_url(configured)
            if not server.may_create_databases():
                raise ValueError(f"user {server.user!r} may not CREATE DATABASE")
        except (psycopg.Error, ValueError) as error:
            pytest.fail(f"{SERVER_URL_ENV} is set but unusable: {error}", pytrace=False)
        yield server.url
        return

    if not _truthy(NO_LOCAL_SERVER_ENV):
        local = _local_server()
        if local is not None:
            yield local.url
            return

    bindir = _postgres_bindir()
    if bindir is None:
        _unavailable(
            f"No PostgreSQL: {SERVER_URL_ENV} is unset, nothing usable on {LOCAL_HOST}:{LOCAL_PORT}, "
            "and no initdb/pg_ctl to start a throwaway cluster."
        )
    try:
        cluster = ThrowawayCluster(bindir)
    except (OSError, RuntimeError) as error:
        _unavailable(f"Cannot prepare a throwaway PostgreSQL cluster: {error}")
    try:
        cluster.start()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
        cluster.stop()
        _unavailable(f"Cannot start a throwaway PostgreSQL cluster from {bindir}: {error}")
    try:
        yield cluster.server.url
    finally:
        cluster.stop()


_database_numbers = itertools.count(1)


@contextlib.contextmanager
def new_postgres_database(postgres_server_url: str) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped on leaving (for fixtures of any scope)."""
    server = PostgresServer.from_url(postgres_server_url)
    name = f"disputes_test_{os.getpid()}_{next(_database_numbers)}_{secrets.token_hex(4)}"
    with server.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield replace(server, dbname=name).url
    finally:
        with server.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    """A PostgreSQL cluster of this test's own, started for it, that it may stop and start again.

    Its commits are durable against a crash of the server (``synchronous_commit``; the session's
    cluster trades that for speed), so that a test may stop it abruptly and find everything
    acknowledged still there.
    """
    bindir = _postgres_bindir()
    if bindir is None:
        _unavailable("No initdb/pg_ctl to start a throwaway PostgreSQL cluster.")
    cluster = ThrowawayCluster(bindir)
    try:
        cluster.start()
        with cluster.server.connect() as conn:
            conn.execute("ALTER SYSTEM SET synchronous_commit = on")
            conn.execute("SELECT pg_reload_conf()")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database of this test's own; dropped when the test ends."""
    with new_postgres_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file of this test's own (absolute: ``sqlite:////...``); not created yet."""
    return f"sqlite:///{tmp_path.resolve() / 'disputes.sqlite'}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """The test's own empty database, once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def app_role_login(postgres_url: str) -> Iterator[LoginUser]:
    """A login user of this test's own for ``postgres_url``, as an operator makes one for the server.

    Its URL is known at once; :meth:`LoginUser.create` makes it after the database is migrated. It is
    dropped at the end; the group role stays, for other databases and runs of the cluster.
    """
    from support import LoginUser  # here: this file is also used alone, by the fixtures' own tests

    user = LoginUser(
        owner_url=postgres_url,
        name=f"disputes_test_login_{os.getpid()}_{secrets.token_hex(4)}",
        password=secrets.token_urlsafe(16),
    )
    try:
        yield user
    finally:
        if user.created:
            user.drop()


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``database_url`` shared by the tests of one module: a database per backend, set up once."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('module-db').resolve() / 'disputes.sqlite'}"
        return
    with new_postgres_database(request.getfixturevalue("postgres_server_url")) as url:
        yield url
