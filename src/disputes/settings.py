"""Typed settings (``DISPUTES_`` environment variables) and their translation to eventsourcing's."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from disputes.adapters.database import DatabaseUrl, DatabaseUrlError, redact
from disputes.adapters.event_store import eventsourcing_env
from disputes.adapters.policy_file import duration, load_policy
from disputes.domain.errors import DisputesError
from disputes.domain.policy import Policy, ScorecardThresholds, Windows

DEFAULT_DATABASE_URL = "sqlite:///var/disputes.sqlite"
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


class Settings(BaseSettings):
    """Everything an operator can set. Read once, in the composition root."""

    model_config = SettingsConfigDict(env_prefix="DISPUTES_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    migration_database_url: str | None = Field(
        default=None,
        description="`disputes migrate` connects with this URL (the schema's owner); default: database_url",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    snapshot_interval: int = Field(default=50, ge=1, description="events between claim snapshots")
    worker_threads: int = Field(
        default=40, ge=1, le=1000, description="threads of a server process that run requests' blocking work"
    )
    postgres_pool_size: int | None = Field(
        default=None,
        ge=1,
        description="the most connections of each PostgreSQL pool; default: sized from worker_threads",
    )
    database_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="the longest a request waits for the database before 503 (less while it is away)",
    )
    health_sample_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="/readyz and /metrics answer from figures taken at most this long ago (one batch of "
        "queries per period, whatever the number of callers)",
    )
    idempotency_ttl_hours: float = Field(default=24, gt=0, description="keyed POSTs' answers kept this long")
    signing_key_file: Path | None = None
    export_inline_max_events: int = Field(
        default=20_000,
        ge=0,
        description="POST /exports of a period holding at most this many events answers the zip at once; "
        "a larger period is exported as a job (202)",
    )
    export_dir: Path | None = Field(
        default=None,
        description="where export jobs keep their bundles; default: exports/ beside the SQLite file, else "
        "disputes-exports in the temporary directory (every serving process must see the same directory)",
    )
    export_concurrency: int = Field(
        default=2, ge=1, le=64, description="exports running at once, across every process (over it: 503)"
    )
    export_retention_hours: float = Field(
        default=24, gt=0, description="how long a finished export job and its bundle are kept"
    )
    export_lease_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="a running export's lease, renewed by its process every quarter of it; when it passes "
        "(the process died) the job is failed",
    )
    debug: bool = Field(default=False, description="development aid; refused when env is production")
    cors_origins: str = Field(
        default="", description="comma-separated origins allowed cross-origin requests; empty: CORS off"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="the level of the JSON log lines of serve and the workers"
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="serving processes of disputes serve (--workers); default: the CPU count on PostgreSQL, "
        "1 on SQLite",
    )

    order_facts: Literal["platform", "claimant"] = Field(
        default="platform",
        description="whose word a claim's order facts are: the platform's recorded orders, or the buyer's "
        "(for a platform without an order feed)",
    )
    policy_file: Path | None = Field(
        default=None, description="the policy (TOML); default: the built-in policy_default.toml"
    )
    # The policy's values below override the policy file's when they are set in the environment.
    merchant_response_hours: float = Field(default=48, gt=0)
    offer_answer_hours: float = Field(default=48, gt=0)
    mediation_request_days: float = Field(default=7, gt=0)
    return_shipment_days: float = Field(default=7, gt=0)
    merchant_refund_days: float = Field(default=7, gt=0)
    no_reason_return_days: int = Field(default=7, ge=1)
    evidence_request_hours: float = Field(default=72, gt=0)
    mediator_decision_days: float = Field(default=5, gt=0)
    policy_timezone: str = Field(default="UTC", description="zone whose calendar days count return windows")
    policy_version: str = "2026-11"

    projections_in_process: bool = Field(
        default=True, description="disputes serve runs the projections itself (false: run disputes project)"
    )
    deadlines_in_process: bool = Field(
        default=True, description="disputes serve runs the deadline engine itself (false: run disputes deadlines)"
    )
    deadline_poll_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="how often the deadline engine looks for passed deadlines"
    )
    standing_review_seconds: float = Field(
        default=30, ge=0, le=86400,
        description="the least time between two rounds of the standing engine (each reads every moved merchant's facts)",
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

    # --- events out (docs/events.md) ---
    deliveries_in_process: bool = Field(
        default=True,
        description="disputes serve runs the webhook deliveries and the NATS publisher itself "
        "(false: run disputes deliver)",
    )
    webhook_retry_schedule: str = Field(
        default="5s,30s,2m,10m,1h,6h,24h",
        description="the waits before each retry of a webhook delivery; after the last: failed",
    )
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60, description="a delivery's time to answer 2xx")
    webhook_allow_private: bool = Field(
        default=False, description="allow webhook URLs on private, loopback and link-local addresses (and http)"
    )
    webhook_poll_seconds: float = Field(
        default=0.5, gt=0, le=60, description="how often delivery workers look for new events and subscriptions"
    )
    feed_heartbeat_seconds: float = Field(default=15, gt=0, le=300, description="SSE heartbeat interval")
    feed_max_streams: int = Field(default=2, ge=1, le=100, description="open event streams per principal")
    nats_url: str | None = Field(default=None, description="NATS server of the JetStream publisher; none: off")
    nats_stream: str = Field(default="DISPUTES", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    nats_subject_prefix: str = Field(default="disputes", pattern=r"^[A-Za-z0-9_-]{1,64}$")

    _policy: Policy = PrivateAttr(default_factory=Policy)

    @model_validator(mode="after")
    def _policy_then_overrides(self) -> Self:
        """Values not set in the environment come from the policy file; set ones override it."""
        policy = load_policy(self.policy_file)
        windows = policy.windows
        from_file: dict[str, object] = {
            "merchant_response_hours": windows.merchant_response / _HOUR,
            "offer_answer_hours": windows.offer_answer / _HOUR,
            "mediation_request_days": windows.mediation_request / _DAY,
            "return_shipment_days": windows.return_shipment / _DAY,
            "merchant_refund_days": windows.merchant_refund / _DAY,
            "evidence_request_hours": windows.evidence_request / _HOUR,
            "mediator_decision_days": windows.mediator_decision / _DAY,
            "no_reason_return_days": windows.no_reason_return_days,
            "policy_timezone": windows.timezone,
            "scorecard_good_min": policy.scorecard.good_min,
            "scorecard_watch_min": policy.scorecard.watch_min,
        }
        overridden = sorted(set(from_file) & self.model_fields_set)
        for name, value in from_file.items():
            if name not in self.model_fields_set:
                object.__setattr__(self, name, value)
        if "policy_version" not in self.model_fields_set:
            # An auditor must be able to tell that the file's rules were not the whole story.
            version = policy.version + ("+env" if overridden else "")
            object.__setattr__(self, "policy_version", version)
        if self.scorecard_watch_min > self.scorecard_good_min:
            raise ValueError("scorecard_watch_min must not be above scorecard_good_min")
        self._policy = Policy(
            # The appeal window has no variable of its own: the file's.
            windows=replace(self._windows(), appeal=windows.appeal),
            rules=policy.rules,
            eligibility=policy.eligibility,
            scorecard=ScorecardThresholds(self.scorecard_good_min, self.scorecard_watch_min),
            reminders=policy.reminders,
            default_language=policy.default_language,
            signals=policy.signals,
            limits=policy.limits,
        )
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _database_url_parses(cls, value: str | None) -> str | None:
        if value is not None:
            DatabaseUrl.parse(value)
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule_parses(cls, value: str) -> str:
        retry_schedule(value)
        return value

    @property
    def webhook_retries(self) -> tuple[timedelta, ...]:
        return retry_schedule(self.webhook_retry_schedule)

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def database(self) -> DatabaseUrl:
        return DatabaseUrl.parse(self.database_url)

    @property
    def export_directory(self) -> Path:
        """Where export jobs keep their bundles (``export_dir``, else a default beside the data)."""
        if self.export_dir is not None:
            return self.export_dir
        database = self.database
        if database.dialect == "sqlite" and database.sqlite_path is not None:
            return database.sqlite_path.parent / "exports"
        return Path(tempfile.gettempdir()) / "disputes-exports"

    @property
    def migration_url(self) -> str:
        """The URL ``disputes migrate`` connects with: the owner's, when one is set apart."""
        return self.migration_database_url or self.database_url

    @property
    def migration_database(self) -> DatabaseUrl:
        """The database to migrate; refused unless it is the one served (another is a slip)."""
        served, migrated = self.database, DatabaseUrl.parse(self.migration_url)
        if (served.dialect, served.sqlite_path, served.dbname) != (
            migrated.dialect,
            migrated.sqlite_path,
            migrated.dbname,
        ):
            raise DatabaseUrlError(
                f"DISPUTES_MIGRATION_DATABASE_URL ({redact(self.migration_url)}) must name the database "
                f"of DISPUTES_DATABASE_URL ({redact(self.database_url)})"
            )
        return migrated

    def policy(self) -> Policy:
        """The policy in force: the policy file's, with the environment's overrides."""
        return self._policy

    def windows(self) -> Windows:
        return self._policy.windows

    def _windows(self) -> Windows:
        return Windows.from_units(
            merchant_response_hours=self.merchant_response_hours,
            offer_answer_hours=self.offer_answer_hours,
            mediation_request_days=self.mediation_request_days,
            return_shipment_days=self.return_shipment_days,
            merchant_refund_days=self.merchant_refund_days,
            evidence_request_hours=self.evidence_request_hours,
            mediator_decision_days=self.mediator_decision_days,
            no_reason_return_days=self.no_reason_return_days,
            timezone=self.policy_timezone,
            version=self.policy_version,
        )

    @property
    def event_pool_size(self) -> int:
        """The event store's pool: half as many connections as worker threads (saves are committed in
        groups, a batch on one connection, so a command seldom waits for one), which keeps several
        serving processes within PostgreSQL's default ``max_connections``."""
        return self.postgres_pool_size or max(4, self.worker_threads // 2)

    @property
    def side_pool_size(self) -> int:
        """The pools of token checks and idempotency keys, and of the read routes: a quarter as many
        (a token check is mostly served from memory; a read holds its connection briefly)."""
        return self.postgres_pool_size or max(2, self.worker_threads // 4)

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing environment of a running process: it never creates tables."""
        return eventsourcing_env(
            self.database, pool_size=self.event_pool_size, wait_seconds=self.database_timeout_seconds
        )


def retry_schedule(text: str) -> tuple[timedelta, ...]:
    """``5s,30s,2m`` as durations (ValueError naming the bad one)."""
    try:
        return tuple(duration(part, "DISPUTES_WEBHOOK_RETRY_SCHEDULE") for part in text.split(",") if part.strip())
    except DisputesError as bad:
        raise ValueError(bad.detail) from None


# --- production refuses unsafe settings ----------------------------------------------------------


class UnsafeSettings(DisputesError):
    code = "unsafe-settings"
    title = "Unsafe settings for production"
    status = 500


def _temporary_roots() -> list[Path]:
    roots = {Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")}
    return [root.resolve() for root in roots]


def unsafe_for_production(settings: Settings) -> list[str]:
    """What keeps these settings from being used in production (empty when nothing does)."""
    found: list[str] = []
    db = settings.database
    if db.dialect == "sqlite":
        assert db.sqlite_path is not None
        path = db.sqlite_path.resolve()
        if str(db.sqlite_path) in ("", ":memory:") or any(path.is_relative_to(r) for r in _temporary_roots()):
            found.append(f"DISPUTES_DATABASE_URL: SQLite under a temporary directory ({db.sqlite_path})")
    if settings.signing_key_file is None:
        found.append("DISPUTES_SIGNING_KEY_FILE is not set (exports could not be signed)")
    elif not settings.signing_key_file.is_file():
        found.append(f"DISPUTES_SIGNING_KEY_FILE: no such file {settings.signing_key_file}")
    if settings.debug:
        found.append("DISPUTES_DEBUG is on")
    return found


def check_production(settings: Settings) -> None:
    """In production (DISPUTES_ENV=production), refuse to start with unsafe settings."""
    if settings.env != "production":
        return
    found = unsafe_for_production(settings)
    if found:
        raise UnsafeSettings("refusing to start in production: " + "; ".join(found))
