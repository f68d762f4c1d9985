"""The application factory: lifespan, middleware order, exception handlers, routers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from dossier import __version__
from dossier.admin.endpoints import router as admin_router
from dossier.auth.cookies import ACCESS_COOKIE
from dossier.auth.endpoints import router as auth_router
from dossier.auth.runtime import create_auth_runtime, create_token_codec
from dossier.config import Settings
from dossier.core.cache import AppCache
from dossier.core.deprecation import Deprecation
from dossier.core.docs import install_docs
from dossier.core.errors import install_exception_handlers
from dossier.core.logging import configure_logging
from dossier.core.memory import tune_garbage_collector
from dossier.core.metrics import instrument_pool
from dossier.core.metrics_port import supervisor_serves_port
from dossier.core.openapi import install_openapi
from dossier.core.ratelimit import RateLimiter, RateLimitPolicy
from dossier.core.redis import create_redis
from dossier.core.storage import create_storage
from dossier.db.engine import create_database
from dossier.documents.endpoints import router as documents_router
from dossier.documents.service import sweep_temporary_files
from dossier.health.endpoints import metrics_router
from dossier.health.endpoints import router as health_router
from dossier.jobs import Worker, import_handler_modules
from dossier.jobs_api.endpoints import admin_router as jobs_admin_router
from dossier.jobs_api.endpoints import router as jobs_router
from dossier.middleware.body_limit import BodyLimits
from dossier.middleware.edge import EdgeMiddleware
from dossier.middleware.headers import ResponseHeaders
from dossier.middleware.proxy import ProxyHeadersMiddleware, parse_networks
from dossier.middleware.rate_limit import RateLimitMiddleware, RateLimitRules, RoutePolicy
from dossier.middleware.timeout import Deadlines
from dossier.middleware.trusted_host import trusted_hosts
from dossier.search.endpoints import router as search_router
from dossier.tasks.endpoints import other_router as task_lists_router
from dossier.tasks.endpoints import router as tasks_v1_router
from dossier.tasks.endpoints_v2 import router as tasks_v2_router
from dossier.users.endpoints import router as users_router

logger = structlog.get_logger("dossier.app")

OPENAPI_URL = "/openapi.json"

# Modules whose @job_handler and @housekeeping decorators register job kinds and periodic
# clean-ups (domain packages' jobs.py).
# The API process needs them to enqueue; workers to run. DOSSIER_JOB_MODULES adds more.
JOB_HANDLER_MODULES: tuple[str, ...] = ("dossier.auth.jobs", "dossier.documents.jobs")


def import_job_handlers(settings: Settings, extra: list[str] | None = None) -> None:
    import_handler_modules([*JOB_HANDLER_MODULES, *settings.job_modules, *(extra or [])])


DESCRIPTION = """
Dossier is a work API for teams: users and roles, tasks, documents that are processed in the
background and searched, report exports and signed webhooks.

Errors are RFC 9457 `application/problem+json` with a stable `code`.
"""


def _lifespan(settings: Settings, tracer_provider: Any = None):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Each resource's clean-up is registered as soon as it exists, so a start-up that fails
        # half-way (a busy metrics port, a worker that cannot start) still undoes what it did:
        # the process-wide tracing instrumentation above all. Clean-ups run in reverse order.
        async with contextlib.AsyncExitStack() as cleanup:
            cleanup.callback(logger.info, "shutdown")
            await _start(app, cleanup)
            yield

    async def _start(app: FastAPI, cleanup: contextlib.AsyncExitStack) -> None:
        if tracer_provider is not None:
            cleanup.callback(tracer_provider.shutdown)  # flushes the spans still queued
        database = create_database(settings)
        cleanup.push_async_callback(database.dispose)
        instrument_pool(database.engine)
        redis = create_redis(settings.redis_url, timeout=settings.redis_timeout_seconds)
        if redis is not None:
            cleanup.push_async_callback(redis.aclose)
        if tracer_provider is not None:
            from dossier.core.tracing import instrument_clients

            cleanup.callback(instrument_clients(tracer_provider, database.engine, redis))
        # With several processes the supervising one serves the port (core/metrics_port.py).
        port = None if supervisor_serves_port() else settings.metrics_port
        if settings.metrics_enabled and port is not None:
            from prometheus_client import start_http_server

            metrics_server, _thread = start_http_server(port, settings.host)
            cleanup.callback(metrics_server.server_close)  # the listening socket, after:
            cleanup.callback(metrics_server.shutdown)  # the serving thread
        cache = AppCache(
            redis_url=settings.redis_url,
            prefix=settings.redis_key_prefix,
            timeout=settings.redis_timeout_seconds,
        )
        cleanup.push_async_callback(cache.close)
        app.state.database = database
        app.state.redis = redis
        app.state.storage = create_storage(settings)
        cleanup.push_async_callback(app.state.storage.close)
        await asyncio.to_thread(sweep_temporary_files, settings)
        # The one rate limiter of the code base (memory, or Redis when configured).
        limiter = RateLimiter(
            redis_url=settings.redis_url,
            key_prefix=settings.redis_key_prefix,
            enabled=settings.rate_limit_enabled,
            timeout=settings.redis_timeout_seconds,
        )
        cleanup.push_async_callback(limiter.close)
        app.state.rate_limiter = limiter
        app.state.auth = create_auth_runtime(
            settings, codec=app.state.token_codec, redis=redis, limiter=limiter, cache=cache
        )
        app.state.cache = cache
        # Run by the unit of work after each commit, before the response goes out.
        app.state.commit_hooks = [app.state.auth.principals.after_commit]
        logger.info(
            "startup",
            version=__version__,
            env=settings.env,
            database=database.dialect,
            redis=redis is not None,
        )
        worker: Worker | None = None
        if settings.worker_concurrency > 0:
            worker = Worker(
                database=database, settings=settings, concurrency=settings.worker_concurrency
            )
            cleanup.push_async_callback(worker.stop)  # also undoes a start that failed half-way
            await worker.start()
        app.state.worker = worker
        if settings.gc_tuning:
            tune_garbage_collector()

    return lifespan


def create_app(settings: Settings | None = None, *, configure_logs: bool = True) -> FastAPI:
    settings = settings or Settings()
    settings.check_safe()
    if configure_logs:
        configure_logging(
            settings.log_level, settings.log_format, trace_context=settings.otel_enabled
        )

    tracer_provider = None
    if settings.otel_enabled:
        from dossier.core.tracing import create_tracer_provider

        tracer_provider = create_tracer_provider(settings)
    import_job_handlers(settings)

    docs = settings.docs_enabled
    app = FastAPI(
        title="Dossier",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(settings, tracer_provider),
        openapi_url=OPENAPI_URL if docs else None,
        docs_url=None,
        redoc_url=None,
        debug=False,
    )
    app.state.settings = settings
    app.state.tracer_provider = tracer_provider
    app.state.token_codec = create_token_codec(settings)
    # Available before the lifespan runs, so a test client without lifespan fails loudly.
    app.state.database = None
    app.state.redis = None
    app.state.rate_limiter = None
    app.state.auth = None

    install_exception_handlers(app)
    install_openapi(app)
    if docs:
        install_docs(app, openapi_url=OPENAPI_URL)

    app.include_router(health_router)
    app.include_router(documents_router)
    app.include_router(search_router)
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(tasks_v1_router)
    app.include_router(task_lists_router)
    app.include_router(tasks_v2_router)
    app.include_router(jobs_router)
    app.include_router(jobs_admin_router)
    app.include_router(admin_router)
    if settings.metrics_enabled and settings.metrics_port is None:
        app.include_router(metrics_router)

    # add_middleware puts each new layer outside the previous one, so this list reads from
    # the innermost layer out. A request passes: proxy → edge (request id, access log,
    # metrics, trusted hosts, security/cache/deprecation headers, the time limit; then CORS,
    # gzip and the body limit for the requests that need them) → rate limit → route. A layer
    # whose feature is off by settings (no trusted proxies, any host, no CORS origins, rate
    # limits off) is not installed: even a layer that only passes the request on costs a
    # little (docs/performance.md).
    if settings.rate_limit_enabled:
        app.add_middleware(RateLimitMiddleware, rules=_rate_limit_rules(settings))
    cors = None
    if settings.cors_origins:
        # Starlette's CORSMiddleware is pure ASGI. With credentials it echoes the caller's
        # origin only when listed; production refuses `*` together with credentials.
        cors = functools.partial(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-Request-ID",
                "X-CSRF-Token",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "Link",
                "Retry-After",
                "X-Request-ID",
                "RateLimit",
                "RateLimit-Policy",
                "Deprecation",
                "Sunset",
            ],
            max_age=600,
        )
    response_headers = ResponseHeaders(
        hsts=settings.is_production,
        deprecations=[
            Deprecation(
                prefix="/api/v1/tasks", successor="/api/v2/tasks", sunset=settings.api_v1_sunset
            )
        ],
    )
    app.add_middleware(
        EdgeMiddleware,
        trusted_hosts=trusted_hosts(settings.trusted_hosts),
        cors=cors,
        headers=response_headers,
        deadlines=(
            Deadlines(settings.request_timeout_seconds)
            if settings.request_timeout_seconds > 0
            else None
        ),
        body_limits=BodyLimits(
            settings.max_request_body_bytes,
            # Multipart framing adds a little to the file itself.
            overrides=[("POST", r"/api/v1/documents", settings.max_upload_bytes + 64 * 1024)],
        ),
        gzip_minimum_size=settings.gzip_minimum_bytes,
    )
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted=parse_networks(settings.trusted_proxies))
    if tracer_provider is not None:
        from dossier.core.tracing import instrument_app

        instrument_app(app, tracer_provider)  # wraps the whole stack: logs see the span
    return app


def _rate_limit_rules(settings: Settings) -> RateLimitRules:
    def policy(name: str, limit: str) -> RateLimitPolicy:
        return RateLimitPolicy.parse(name, limit)

    return RateLimitRules(
        anonymous=policy("anonymous", settings.rate_limit_anonymous),
        by_role={
            "user": policy("user", settings.rate_limit_default),
            "moderator": policy("moderator", settings.rate_limit_moderator),
            "admin": policy("admin", settings.rate_limit_admin),
        },
        routes=[
            RoutePolicy(
                "POST",
                re.compile(r"/api/v\d+/auth/register"),
                policy("register", settings.rate_limit_register),
                per="address",
            ),
            RoutePolicy(
                "POST",
                re.compile(r"/api/v\d+/documents"),
                policy("upload", settings.rate_limit_upload),
                per="user",
            ),
            RoutePolicy(
                "GET",
                re.compile(r"/api/v\d+/search"),
                policy("search", settings.rate_limit_search),
                per="user",
            ),
        ],
        access_cookie=ACCESS_COOKIE,
    )


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` / gunicorn workers: settings from the environment."""
    return create_app(Settings())
