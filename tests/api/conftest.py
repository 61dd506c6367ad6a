"""End-to-end fixtures: the real API, served by uvicorn, called over real HTTP.

``api`` gives each test a freshly migrated database of its own (on every backend, through
``database_url``), an application on it whose clock the test turns by hand (``api.clock``), and a
uvicorn server on a free port of 127.0.0.1 in a background thread (one for the session, serving
each test's own ``create_app(container)`` in turn). Tokens are issued through the
PrincipalStore on first use, one per principal (see ``support.http.PRINCIPALS``).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from disputes.api.app import create_app
from disputes.bootstrap import Container
from disputes.settings import Settings
from support import migrated_container
from support.http import START, Api, AppSwitch, ManualClock, serving


@pytest.fixture(scope="session")
def server() -> Iterator[tuple[AppSwitch, str]]:
    """One uvicorn server for the session, and the switch through which each test mounts its app."""
    switch = AppSwitch()
    with serving(switch) as base_url:
        yield switch, base_url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def container(database_url: str, clock: ManualClock) -> Iterator[Container]:
    """The composition root on this test's own database, migrated."""
    with migrated_container(Settings(database_url=database_url), clock) as built:
        yield built


@pytest.fixture
def api(server: tuple[AppSwitch, str], container: Container, clock: ManualClock) -> Iterator[Api]:
    """``create_app(container)`` served over HTTP, and a client that sends as any principal."""
    switch, base_url = server
    with switch.mounted(create_app(container)), httpx.Client(base_url=base_url, timeout=30) as http:
        yield Api(http, container, clock)
