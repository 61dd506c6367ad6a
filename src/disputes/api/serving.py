"""The application factory of each serving process of ``disputes serve --workers N``: the API, in a
process that stops when its supervisor is gone (``adapters/orphans.py``)."""

from __future__ import annotations

from fastapi import FastAPI

from disputes.adapters.orphans import stop_when_orphaned
from disputes.api.app import create_app


def create_serving_app() -> FastAPI:
    stop_when_orphaned()
    return create_app()
