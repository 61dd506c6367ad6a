"""Typed settings (``DISPUTES_`` environment variables) and their translation to eventsourcing's."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from disputes.database import DatabaseUrl
from disputes.domain.policy import Windows

DEFAULT_DATABASE_URL = "sqlite:///var/disputes.sqlite"


class Settings(BaseSettings):
    """Everything an operator can set. Read once, in the composition root."""

    model_config = SettingsConfigDict(env_prefix="DISPUTES_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    snapshot_interval: int = Field(default=50, ge=1, description="events between claim snapshots")
    postgres_pool_size: int = Field(default=5, ge=1)
    idempotency_ttl_hours: float = Field(default=24, gt=0, description="keyed POSTs' answers kept this long")
    signing_key_file: Path | None = None

    merchant_response_hours: float = Field(default=48, gt=0)
    offer_answer_hours: float = Field(default=48, gt=0)
    mediation_request_days: float = Field(default=7, gt=0)
    return_shipment_days: float = Field(default=7, gt=0)
    merchant_refund_days: float = Field(default=7, gt=0)
    no_reason_return_days: int = Field(default=7, ge=1)
    evidence_request_hours: float = Field(default=72, gt=0)
    policy_timezone: str = Field(default="UTC", description="zone whose calendar days count return windows")
    policy_version: str = "2026-11"

    projections_in_process: bool = Field(
        default=True, description="disputes serve runs the projections itself (false: run disputes project)"
    )
    projection_batch_size: int = Field(default=1000, ge=1, le=10_000, description="events per transaction")
    projection_poll_seconds: float = Field(
        default=0.2, gt=0, le=60, description="SQLite: how often to look for new events"
    )
    projection_cache_size: int = Field(default=10_000, ge=1, description="claims kept in the worker's cache")
    read_wait_seconds: float = Field(
        default=2.0, ge=0, le=30, description="how long a read with min_position waits for the views"
    )
    scorecard_good_min: int = Field(default=80, ge=0, le=100, description="lowest score of tier good")
    scorecard_watch_min: int = Field(default=60, ge=0, le=100, description="lowest score of tier watch")

    @model_validator(mode="after")
    def _tiers_in_order(self) -> Self:
        if self.scorecard_watch_min > self.scorecard_good_min:
            raise ValueError("scorecard_watch_min must not be above scorecard_good_min")
        return self

    @field_validator("database_url")
    @classmethod
    def _database_url_parses(cls, value: str) -> str:
        DatabaseUrl.parse(value)
        return value

    @property
    def database(self) -> DatabaseUrl:
        return DatabaseUrl.parse(self.database_url)

    def windows(self) -> Windows:
        return Windows.from_units(
            merchant_response_hours=self.merchant_response_hours,
            offer_answer_hours=self.offer_answer_hours,
            mediation_request_days=self.mediation_request_days,
            return_shipment_days=self.return_shipment_days,
            merchant_refund_days=self.merchant_refund_days,
            evidence_request_hours=self.evidence_request_hours,
            no_reason_return_days=self.no_reason_return_days,
            timezone=self.policy_timezone,
            version=self.policy_version,
        )

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing environment for this database.

        ``POSTGRES_ENABLE_DB_FUNCTIONS`` stays off on purpose: the library's plain insert path takes a
        table lock so that notification order equals commit order, which the audit chain relies on.
        """
        db = self.database
        env = {
            "IS_SNAPSHOTTING_ENABLED": "y",
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "CREATE_TABLE": "y",
        }
        if db.dialect == "sqlite":
            assert db.sqlite_path is not None
            db.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=str(db.sqlite_path),
                SQLITE_LOCK_TIMEOUT="10",
            )
        else:
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                POSTGRES_DBNAME=db.dbname,
                POSTGRES_HOST=db.host,
                POSTGRES_PORT=str(db.port),
                POSTGRES_USER=db.user or getpass.getuser(),
                POSTGRES_PASSWORD=db.password,
                POSTGRES_POOL_SIZE=str(self.postgres_pool_size),
                POSTGRES_MAX_OVERFLOW=str(self.postgres_pool_size),
                POSTGRES_CONNECT_TIMEOUT="10",
                POSTGRES_LOCK_TIMEOUT="5",
                POSTGRES_PRE_PING="y",
            )
        return env
