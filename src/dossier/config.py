"""One settings object for the whole service.

Every field is read from a ``DOSSIER_*`` environment variable (or an optional ``.env``). The
embedded shape needs no configuration at all; ``DOSSIER_ENV=production`` refuses to start on
values that are only safe on a developer's machine (see :meth:`Settings.production_problems`).
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Lists come from the environment as JSON (`["a", "b"]`) or comma separated (`a, b`).
StrList = Annotated[list[str], NoDecode]
SecretList = Annotated[list[SecretStr], NoDecode]

MIN_SECRET_LENGTH = 32


def _group(name: str) -> dict[str, Any]:
    return {"group": name}


class UnsafeSettingsError(RuntimeError):
    """Raised when production settings would be unsafe; names every offending setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "refusing to start with unsafe production settings:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOSSIER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # --- server -----------------------------------------------------------------------------
    env: Literal["development", "production"] = Field(
        "development",
        description="`development` or `production` (strict checks).",
        json_schema_extra=_group("server"),
    )
    host: str = Field(
        "127.0.0.1",
        description="Address `dossier serve` binds to.",
        json_schema_extra=_group("server"),
    )
    port: int = Field(
        8000,
        ge=1,
        le=65535,
        description="Port `dossier serve` listens on.",
        json_schema_extra=_group("server"),
    )
    data_dir: Path = Field(
        Path("var"),
        description="Folder for the SQLite file, blobs and the generated development secret.",
        json_schema_extra=_group("server"),
    )
    debug: bool = Field(
        False, description="Debug mode; refused in production.", json_schema_extra=_group("server")
    )
    docs_enabled: bool = Field(
        True,
        description="Serve `/docs`, `/redoc` and `/openapi.json`.",
        json_schema_extra=_group("server"),
    )
    allow_docs_in_production: bool = Field(
        False,
        description="Allow the API docs to be served when `DOSSIER_ENV=production`.",
        json_schema_extra=_group("server"),
    )
    cors_origins: StrList = Field(
        default_factory=list,
        description="Allowed CORS origins (JSON list or comma separated).",
        json_schema_extra=_group("server"),
    )
    cors_allow_credentials: bool = Field(
        False,
        description="Send `Access-Control-Allow-Credentials`; never allowed with `*`.",
        json_schema_extra=_group("server"),
    )

    trusted_proxies: StrList = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies whose `X-Forwarded-For` is "
        "believed (the client is the right-most untrusted hop).",
        json_schema_extra=_group("server"),
    )
    trusted_hosts: StrList = Field(
        default_factory=lambda: ["*"],
        description="Host names the API answers for (`*.example.com` allowed); `*` = any.",
        json_schema_extra=_group("server"),
    )
    max_upload_bytes: int = Field(
        25 * 1024 * 1024,
        ge=1,
        description="Largest accepted document upload.",
        json_schema_extra=_group("limits"),
    )
    max_request_body_bytes: int = Field(
        1024 * 1024,
        ge=1,
        description="Largest accepted request body on every other route.",
        json_schema_extra=_group("limits"),
    )
    request_timeout_seconds: float = Field(
        30.0,
        ge=0,
        description="A handler that has not started its response by then gets a "
        "503 problem (0 = no limit). Streaming responses are limited only until they start.",
        json_schema_extra=_group("limits"),
    )
    gzip_minimum_bytes: int = Field(
        1024,
        ge=0,
        description="Responses at least this large are gzip-compressed when the client accepts it.",
        json_schema_extra=_group("server"),
    )
    gc_tuning: bool = Field(
        True,
        description="After startup, exempt the objects alive then from Python's cyclic garbage "
        "collector (`gc.freeze`) and collect the youngest generation every 10,000 net "
        "allocations instead of 700 (docs/operations.md).",
        json_schema_extra=_group("server"),
    )

    # --- database ---------------------------------------------------------------------------
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default `sqlite+aiosqlite:///<data_dir>/dossier.db`. "
        "`postgresql://…` selects asyncpg.",
        json_schema_extra=_group("database"),
    )
    allow_sqlite_in_production: bool = Field(
        False,
        description="Allow SQLite when `DOSSIER_ENV=production` (single-node installs).",
        json_schema_extra=_group("database"),
    )
    database_pool_size: int = Field(
        10,
        ge=1,
        description="Connections kept open; size it to the concurrency you expect (connections "
        "beyond it are opened and closed per use).",
        json_schema_extra=_group("database"),
    )
    database_max_overflow: int = Field(
        10,
        ge=0,
        description="Extra connections under load, closed again when returned.",
        json_schema_extra=_group("database"),
    )
    database_pool_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds to wait for a pooled connection.",
        json_schema_extra=_group("database"),
    )
    database_pool_pre_ping: bool = Field(
        False,
        description="Test every pooled connection with a round trip before use (PostgreSQL). "
        "Off: a connection the server closed is still discarded at checkout, without a round "
        "trip.",
        json_schema_extra=_group("database"),
    )
    database_pool_recycle_seconds: int = Field(
        1800,
        ge=-1,
        description="Replace pooled connections older than this (PostgreSQL); -1 = never.",
        json_schema_extra=_group("database"),
    )
    database_echo: bool = Field(
        False,
        description="Log every SQL statement (development aid).",
        json_schema_extra=_group("database"),
    )
    sqlite_busy_timeout_ms: int = Field(
        5000, ge=0, description="SQLite `busy_timeout`.", json_schema_extra=_group("database")
    )

    # --- redis ------------------------------------------------------------------------------
    redis_url: str | None = Field(
        None,
        description="Redis URL for cache, rate limits and token deny-list; unset = memory.",
        json_schema_extra=_group("redis"),
    )
    redis_key_prefix: str = Field(
        "dossier:", description="Prefix of every Redis key.", json_schema_extra=_group("redis")
    )
    redis_timeout_seconds: float = Field(
        2.0,
        gt=0,
        description="Time limit to connect to Redis and for each reply (deny-list, rate limits, "
        "cache); then the documented fallback applies. Time the event loop spends busy counts.",
        json_schema_extra=_group("redis"),
    )

    # --- auth -------------------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        None,
        description="Signing secret (≥ 32 chars). Development generates one under "
        "`<data_dir>/secret_key`; production requires it.",
        json_schema_extra=_group("auth"),
    )
    previous_secret_keys: SecretList = Field(
        default_factory=list,
        description="Earlier signing secrets (JSON list or comma separated) whose access tokens "
        "still verify after a key rotation; drop one once the access token lifetime has passed.",
        json_schema_extra=_group("auth"),
    )
    access_token_ttl_seconds: int = Field(
        900,
        ge=60,
        le=86400,
        description="Lifetime of an access token (JWT), in seconds.",
        json_schema_extra=_group("auth"),
    )
    principal_cache_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="How long the user's role, active flag and token version are cached for "
        "authentication (changes invalidate at once); 0 reads them from the database per request.",
        json_schema_extra=_group("auth"),
    )
    refresh_token_ttl_seconds: int = Field(
        30 * 86400,
        ge=300,
        description="Absolute lifetime of a login session (a refresh-token family), in seconds; "
        "rotation never extends it.",
        json_schema_extra=_group("auth"),
    )
    registration_enabled: bool = Field(
        True,
        description="Allow anyone to create an account with `POST /api/v1/auth/register`.",
        json_schema_extra=_group("auth"),
    )
    email_change_enabled: bool = Field(
        True,
        description="Let users change their own login email (`POST /api/v1/users/me/email`, "
        "confirmed by their password, not by mail). Turn off where an administrator assigns "
        "addresses.",
        json_schema_extra=_group("auth"),
    )
    auth_cookies_enabled: bool = Field(
        False,
        description="Also send the tokens as HttpOnly cookies (browser sessions) and accept "
        "them; unsafe requests authenticated by cookie need the `X-CSRF-Token` header.",
        json_schema_extra=_group("auth"),
    )

    # --- rate limits ------------------------------------------------------------------------
    rate_limit_enabled: bool = Field(
        True,
        description="Apply rate limits (memory, or Redis when `DOSSIER_REDIS_URL` is set).",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_default: str = Field(
        "120/minute",
        description="Requests per authenticated user (role `user`) to `/api/*`.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_moderator: str = Field(
        "600/minute",
        description="Requests per moderator.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_admin: str = Field(
        "1200/minute",
        description="Requests per administrator.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_anonymous: str = Field(
        "60/minute",
        description="Requests per client address without valid credentials.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_register: str = Field(
        "10/hour",
        description="Registrations per client address.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_upload: str = Field(
        "30/minute",
        description="Document uploads per user.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_search: str = Field(
        "60/minute",
        description="Searches per user.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_login_account: str = Field(
        "10/minute",
        description="Login attempts per account (email), e.g. `10/minute`.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_login_address: str = Field(
        "30/minute",
        description="Login attempts per client address.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_refresh_account: str = Field(
        "30/minute",
        description="Token refreshes per account.",
        json_schema_extra=_group("rate limits"),
    )
    rate_limit_refresh_address: str = Field(
        "60/minute",
        description="Token refreshes per client address.",
        json_schema_extra=_group("rate limits"),
    )

    # --- storage ----------------------------------------------------------------------------
    storage_url: str | None = Field(
        None,
        description="Where uploaded files live: `file:///path` (default `<data_dir>/blobs`) or "
        "`s3://bucket/prefix` for S3-compatible object storage.",
        json_schema_extra=_group("storage"),
    )
    storage_s3_endpoint_url: str | None = Field(
        None,
        description="S3 endpoint (MinIO, Ceph, moto, …); unset = AWS.",
        json_schema_extra=_group("storage"),
    )
    storage_s3_region: str | None = Field(
        None, description="S3 region name.", json_schema_extra=_group("storage")
    )
    storage_s3_access_key_id: str | None = Field(
        None,
        description="S3 access key id; unset = the standard AWS credential chain.",
        json_schema_extra=_group("storage"),
    )
    storage_s3_secret_access_key: SecretStr | None = Field(
        None, description="S3 secret access key.", json_schema_extra=_group("storage")
    )

    # --- documents --------------------------------------------------------------------------
    documents_duplicate_policy: Literal["reject", "allow"] = Field(
        "reject",
        description="Same file uploaded twice by one user: `reject` (409) or `allow`.",
        json_schema_extra=_group("documents"),
    )
    documents_max_pages: int = Field(
        2000,
        ge=1,
        description="A PDF with more pages fails ingestion.",
        json_schema_extra=_group("documents"),
    )
    documents_max_decompressed_bytes: int = Field(
        100 * 1024 * 1024,
        ge=1024,
        description="Most bytes a DOCX (a zip) may expand to; guards against zip bombs.",
        json_schema_extra=_group("documents"),
    )
    documents_max_text_chars: int = Field(
        5_000_000,
        ge=1000,
        description="Extracted text beyond this is dropped (with a warning).",
        json_schema_extra=_group("documents"),
    )
    documents_extraction_timeout_seconds: float = Field(
        120.0,
        gt=0,
        description="Wall-clock limit for extracting one document's text.",
        json_schema_extra=_group("documents"),
    )
    documents_chunk_chars: int = Field(
        1000,
        ge=100,
        le=20000,
        description="Target size of a search chunk in characters.",
        json_schema_extra=_group("documents"),
    )
    documents_chunk_overlap_chars: int = Field(
        150,
        ge=0,
        description="Characters two neighbouring chunks share.",
        json_schema_extra=_group("documents"),
    )
    documents_extraction_processes: int = Field(
        2,
        ge=1,
        description="Processes that extract text when no job engine pool is given (CLI).",
        json_schema_extra=_group("documents"),
    )
    documents_orphan_grace_hours: float = Field(
        24.0,
        ge=0,
        description="Workers delete stored blobs no document refers to once they are this old "
        "(left by a crash between storing and committing); 0 turns the sweep off.",
        json_schema_extra=_group("documents"),
    )

    # --- api --------------------------------------------------------------------------------
    require_if_match: bool = Field(
        False,
        description="Require `If-Match` on PUT/PATCH/DELETE of resources with ETags "
        "(428 without it).",
        json_schema_extra=_group("api"),
    )
    idempotency_ttl_hours: int = Field(
        24,
        ge=1,
        le=24 * 30,
        description="How long an `Idempotency-Key` and its stored response are kept.",
        json_schema_extra=_group("api"),
    )
    idempotency_lock_seconds: int = Field(
        60,
        ge=1,
        le=3600,
        description="How long a key stays locked by a request that never finished "
        "(a retry meanwhile gets 409).",
        json_schema_extra=_group("api"),
    )
    api_v1_sunset: date = Field(
        date(2027, 12, 31),
        description="`Sunset` date announced on deprecated v1 routes (ISO date).",
        json_schema_extra=_group("api"),
    )

    # --- jobs -------------------------------------------------------------------------------
    worker_concurrency: int = Field(
        2,
        ge=0,
        description="Job worker tasks inside `dossier serve`; 0 = none (run `dossier worker`).",
        json_schema_extra=_group("jobs"),
    )
    job_modules: StrList = Field(
        default_factory=list,
        description="Extra Python modules that register job kinds, imported by every worker.",
        json_schema_extra=_group("jobs"),
    )
    job_batch_size: int = Field(
        50,
        ge=1,
        le=1000,
        description="Most jobs a worker claims, or completes, in one transaction.",
        json_schema_extra=_group("jobs"),
    )
    job_prefetch: int = Field(
        0,
        ge=0,
        description="Jobs a worker may hold claimed beyond its concurrency (no-op heavy loads).",
        json_schema_extra=_group("jobs"),
    )
    job_poll_interval: float = Field(
        1.0,
        gt=0,
        description="Seconds an idle worker waits before polling when no wake-up arrives.",
        json_schema_extra=_group("jobs"),
    )
    job_notify: bool = Field(
        True,
        description="PostgreSQL: LISTEN/NOTIFY wake-ups (polling remains the fallback).",
        json_schema_extra=_group("jobs"),
    )
    job_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a claim holds a job without a heartbeat.",
        json_schema_extra=_group("jobs"),
    )
    job_heartbeat_seconds: float = Field(
        15.0,
        gt=0,
        description="Seconds between lease extensions; keep well below the lease.",
        json_schema_extra=_group("jobs"),
    )
    job_reaper_interval: float = Field(
        10.0,
        gt=0,
        description="Seconds between sweeps that return expired leases to the queue.",
        json_schema_extra=_group("jobs"),
    )
    job_max_attempts: int = Field(
        5,
        ge=1,
        description="Attempts before a job is dead, for kinds that do not set their own.",
        json_schema_extra=_group("jobs"),
    )
    job_timeout_seconds: float = Field(
        300.0,
        gt=0,
        description="Time limit of one attempt, for kinds that do not set their own.",
        json_schema_extra=_group("jobs"),
    )
    job_backoff_base_seconds: float = Field(
        2.0,
        ge=0,
        description="Retry backoff: full jitter over base * 2^(attempt-1) …",
        json_schema_extra=_group("jobs"),
    )
    job_backoff_max_seconds: float = Field(
        600.0,
        ge=0,
        description="… capped at this many seconds.",
        json_schema_extra=_group("jobs"),
    )
    job_shutdown_grace_seconds: float = Field(
        25.0,
        ge=0,
        description="On SIGTERM, how long running jobs may finish before they are released.",
        json_schema_extra=_group("jobs"),
    )
    job_cpu_processes: int = Field(
        2,
        ge=1,
        description="Processes in the pool for CPU-heavy handler work (`ctx.run_cpu`).",
        json_schema_extra=_group("jobs"),
    )
    job_retention_days: float = Field(
        14.0,
        ge=0,
        description="Finished jobs older than this are purged; 0 keeps them forever.",
        json_schema_extra=_group("jobs"),
    )
    job_purge_interval: float = Field(
        3600.0,
        gt=0,
        description="Seconds between purges run by the workers (finished jobs past retention, "
        "expired idempotency keys, and the clean-ups packages register: expired refresh tokens, "
        "orphaned blobs).",
        json_schema_extra=_group("jobs"),
    )
    job_events_poll_interval: float = Field(
        0.5,
        gt=0,
        description="How often `GET /jobs/{id}/events` looks for changes.",
        json_schema_extra=_group("jobs"),
    )
    job_events_keepalive_seconds: float = Field(
        15.0,
        gt=0,
        description="Seconds between SSE keep-alive comments.",
        json_schema_extra=_group("jobs"),
    )
    job_events_max_seconds: float = Field(
        3600.0,
        gt=0,
        description="Longest an SSE stream stays open; clients reconnect.",
        json_schema_extra=_group("jobs"),
    )

    # --- metrics ----------------------------------------------------------------------------
    metrics_enabled: bool = Field(
        True, description="Serve Prometheus metrics.", json_schema_extra=_group("metrics")
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token required on `GET /metrics` (required in production "
        "unless metrics move to their own port).",
        json_schema_extra=_group("metrics"),
    )
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Serve metrics on this port instead of `/metrics` on the API port (with "
        "several processes the gunicorn master or `dossier serve` serves it, summed).",
        json_schema_extra=_group("metrics"),
    )

    # --- tracing ----------------------------------------------------------------------------
    otel_enabled: bool = Field(
        False,
        description="OpenTelemetry tracing of requests, SQL, httpx and Redis.",
        json_schema_extra=_group("tracing"),
    )
    otel_exporter: Literal["otlp", "console"] = Field(
        "otlp",
        description="`otlp` (HTTP; endpoint from `OTEL_EXPORTER_OTLP_ENDPOINT`) or `console`.",
        json_schema_extra=_group("tracing"),
    )
    otel_service_name: str = Field(
        "dossier", description="`service.name` of the spans.", json_schema_extra=_group("tracing")
    )

    # --- logging ----------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO",
        description="Lowest level written.",
        json_schema_extra=_group("logging"),
    )
    log_format: Literal["json", "console"] = Field(
        "json",
        description="`json` lines, or `console` for humans.",
        json_schema_extra=_group("logging"),
    )

    @field_validator(
        "rate_limit_default",
        "rate_limit_moderator",
        "rate_limit_admin",
        "rate_limit_anonymous",
        "rate_limit_register",
        "rate_limit_upload",
        "rate_limit_search",
        "rate_limit_login_account",
        "rate_limit_login_address",
        "rate_limit_refresh_account",
        "rate_limit_refresh_address",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as `10/minute`: {value!r}") from exc
        return value

    @field_validator(
        "cors_origins",
        "trusted_proxies",
        "trusted_hosts",
        "previous_secret_keys",
        "job_modules",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        # A heartbeat slower than the lease would let healthy jobs' leases expire.
        if self.job_heartbeat_seconds >= self.job_lease_seconds:
            raise ValueError(
                "DOSSIER_JOB_HEARTBEAT_SECONDS must be shorter than DOSSIER_JOB_LEASE_SECONDS"
            )
        return self

    @field_validator("database_pool_recycle_seconds")
    @classmethod
    def _recycle(cls, value: int) -> int:
        if value == 0:  # SQLAlchemy would open a new connection for every checkout
            raise ValueError("use -1 (never) or a number of seconds of at least 1")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    # --- derived values -----------------------------------------------------------------------
    @property
    def resolved_storage_url(self) -> str:
        """The storage URL, defaulting to a folder under the data dir."""
        return self.storage_url or (self.data_dir.resolve() / "blobs").as_uri()

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @cached_property
    def sqlalchemy_url(self) -> str:
        """The database URL with the async driver this code base uses."""
        url = self.database_url or f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'dossier.db'}"
        for prefix, replacement in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgresql+psycopg://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(prefix):
                return replacement + url[len(prefix) :]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @cached_property
    def signing_secret(self) -> str:
        """The secret key; in development one is generated once and kept under the data dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.is_production:
            raise UnsafeSettingsError(["DOSSIER_SECRET_KEY is not set"])
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        # O_EXCL: when two processes start at once, one writes and the other reads its secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
        return secret

    def production_problems(self) -> list[str]:
        """Every setting that is unsafe in production, by its environment variable name."""
        problems: list[str] = []
        if self.secret_key is None:
            problems.append("DOSSIER_SECRET_KEY is not set")
        elif len(self.secret_key.get_secret_value()) < MIN_SECRET_LENGTH:
            problems.append(f"DOSSIER_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters")
        if any(
            len(key.get_secret_value()) < MIN_SECRET_LENGTH for key in self.previous_secret_keys
        ):
            problems.append(
                "DOSSIER_PREVIOUS_SECRET_KEYS holds a key shorter than "
                f"{MIN_SECRET_LENGTH} characters"
            )
        if self.is_sqlite and not self.allow_sqlite_in_production:
            problems.append(
                "DOSSIER_DATABASE_URL points at SQLite "
                "(set DOSSIER_ALLOW_SQLITE_IN_PRODUCTION=true for a single-node install)"
            )
        if self.debug:
            problems.append("DOSSIER_DEBUG is on")
        if "*" in self.cors_origins and self.cors_allow_credentials:
            problems.append(
                "DOSSIER_CORS_ORIGINS is '*' while DOSSIER_CORS_ALLOW_CREDENTIALS is on"
            )
        if self.docs_enabled and not self.allow_docs_in_production:
            problems.append(
                "DOSSIER_DOCS_ENABLED exposes /docs "
                "(set DOSSIER_ALLOW_DOCS_IN_PRODUCTION=true to keep it)"
            )
        if self.metrics_enabled and self.metrics_token is None and self.metrics_port is None:
            problems.append(
                "DOSSIER_METRICS_TOKEN is not set while /metrics is served on the API port "
                "(set it, or DOSSIER_METRICS_PORT, or DOSSIER_METRICS_ENABLED=false)"
            )
        return problems

    def check_safe(self) -> None:
        """Raise :class:`UnsafeSettingsError` in production when any value is unsafe."""
        if self.is_production:
            problems = self.production_problems()
            if problems:
                raise UnsafeSettingsError(problems)


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
