"""The read routes served over HTTP with the projections running in the server's process.

``reads_api`` is the e2e ``api`` with :func:`disputes.bootstrap.start_projections` started, as
``disputes serve`` does. ``lagging_api``
serves the read routes with no projection running, so that views fall behind on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from disputes.api.app import create_app
from disputes.bootstrap import Container, start_projections
from support.http import Api, ManualClock, serving


@pytest.fixture
def reads_api(container: Container, clock: ManualClock) -> Iterator[Api]:
    api = create_app(container)
    handle = start_projections(container, run=True)
    api.state.read_side = handle.read_side
    try:
        with serving(api) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            yield Api(http, container, clock)
    finally:
        handle.stop()


@pytest.fixture
def lagging_api(container: Container, clock: ManualClock) -> Iterator[Api]:
    api = create_app(container)
    handle = start_projections(container, run=False)
    handle.read_side.settings = handle.read_side.settings.but(read_wait_seconds=0.2)
    api.state.read_side = handle.read_side
    try:
        with serving(api) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            yield Api(http, container, clock)
    finally:
        handle.stop()
