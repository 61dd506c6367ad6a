"""The read routes served over HTTP with the projections running in the server's process.

``reads_api`` is the e2e ``api`` with the read routes included (if the app does not have them yet)
and :func:`projections.readside.start_in_process` started, as ``disputes serve`` does. ``lagging_api``
serves the read routes with no projection running, so that views fall behind on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from e2e_client import Api, ManualClock, serving
from fastapi import FastAPI

from disputes.api.app import create_app
from disputes.api.routes import reads
from disputes.bootstrap import Container
from projections.readside import start_in_process


def with_read_routes(container: Container) -> FastAPI:
    api = create_app(container)
    if not any(getattr(route, "path", None) == "/queue" for route in api.routes):
        api.include_router(reads.router)
    return api


@pytest.fixture
def reads_api(container: Container, clock: ManualClock) -> Iterator[Api]:
    api = with_read_routes(container)
    handle = start_in_process(container, run=True)
    api.state.read_side = handle.read_side
    try:
        with serving(api) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            yield Api(http, container, clock)
    finally:
        handle.stop()


@pytest.fixture
def lagging_api(container: Container, clock: ManualClock) -> Iterator[Api]:
    api = with_read_routes(container)
    handle = start_in_process(container, run=False)
    handle.read_side.settings = handle.read_side.settings.but(read_wait_seconds=0.2)
    api.state.read_side = handle.read_side
    try:
        with serving(api) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            yield Api(http, container, clock)
    finally:
        handle.stop()
