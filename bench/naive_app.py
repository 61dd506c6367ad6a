"""The naive reference of bench/commands.py (not part of the product): FastAPI and eventsourcing, one save
per request, no authentication, no checks, no middleware, no projections.

    NAIVE_DATABASE_URL=postgresql://USER@HOST:PORT/DB  uvicorn naive_app:create_app --factory --app-dir bench

It answers what the project's server answers, in its simplest form: ``POST /claims`` creates an
aggregate; ``POST /claims/{id}/messages``, ``/merchant-response`` and ``/refunds`` load one, trigger an
event and save it; ``GET /health`` answers without touching anything. Tables are created on start
(the library's ``CREATE_TABLE``), pools are the library's (``POSTGRES_POOL_SIZE`` 10).
"""

from __future__ import annotations

import getpass
import os
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI
from fastapi.responses import JSONResponse


class NaiveClaim(Aggregate):
    @event("Opened")
    def __init__(self, order_id: str, claimed_amount: str, description: str) -> None:
        self.order_id = order_id
        self.claimed_amount = claimed_amount
        self.description = description
        self.notes: list[str] = []

    @event("Noted")
    def note(self, what: str, body: dict[str, Any]) -> None:
        self.notes.append(what)


class NaiveClaims(Application[UUID]):
    name = "naive"


def environment(url: str) -> dict[str, str]:
    if url.startswith("sqlite:///"):
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": url[len("sqlite:///") :]}
    parts = urlsplit(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or getpass.getuser()),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": "10",
    }


def create_app() -> FastAPI:
    claims = NaiveClaims(environment(os.environ["NAIVE_DATABASE_URL"]))
    api = FastAPI()

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.post("/claims", status_code=201)
    def open_claim(body: dict[str, Any]) -> JSONResponse:
        claim = NaiveClaim(body["order_id"], body["claimed_amount"], body["description"])
        claims.save(claim)
        return JSONResponse({"id": str(claim.id), "version": claim.version}, status_code=201)

    def noted(claim_id: str, what: str, body: dict[str, Any]) -> JSONResponse:
        claim: NaiveClaim = claims.repository.get(UUID(claim_id))
        claim.note(what, body)
        claims.save(claim)
        return JSONResponse({"id": claim_id, "version": claim.version})

    @api.post("/claims/{claim_id}/{what}")
    def command(claim_id: str, what: str, body: dict[str, Any]) -> JSONResponse:
        return noted(claim_id, what, body)

    return api
