"""The only place that assembles Litestar: plugins, middleware, routers, OpenAPI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from advanced_alchemy.extensions.litestar.store import SQLAlchemyStore, StoreModelMixin
from litestar import Litestar, get
from litestar.channels import ChannelsBackend, ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from redis.asyncio import Redis
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tenderhall.auth.models import RateLimitEntry
from tenderhall.clock import Clock
from tenderhall.compose import build_services, domain_plugins, import_models
from tenderhall.i18n import translate
from tenderhall.paths import PACKAGE_DIR
from tenderhall.services import Services
from tenderhall.settings import Settings
from tenderhall.web import cache, pages, problems, tender_pages, work_pages
from tenderhall.web.api.auth import AuthController, UserController
from tenderhall.web.api.ledger import LedgerController
from tenderhall.web.api.orgs import CompanyController, DirectoryController
from tenderhall.web.api.schemas import HealthOut
from tenderhall.web.api.tenders import TenderController
from tenderhall.web.api.witness import WitnessController
from tenderhall.web.apidocs import OfflineSwaggerRenderPlugin, swagger_ui_assets
from tenderhall.web.deps import DEPENDENCIES, service_dependencies
from tenderhall.web.edge import bounded_address
from tenderhall.web.openapi import (
    PUBLIC,
    SECURITY_SCHEMES,
    ClosedStructSchemaPlugin,
    document_clean_parameters,
    document_operations,
    document_retry_after,
    signed_in_unless_public,
)
from tenderhall.web.references import accept_references, document_references
from tenderhall.web.security import (
    CSRF_COOKIE,
    LOGIN_RATE_LIMIT,
    AuthMiddleware,
    SessionCSRFMiddleware,
    security_headers,
)

log = logging.getLogger("tenderhall")
SWEEP_SECONDS = 5.0


@get("/healthz", tags=["ops"], summary="Liveness and database check", opt=PUBLIC)
async def healthz(services: Services) -> HealthOut:
    async with services.reader() as db:
        size, _ = await services.ledger.tree_head(db)
    return HealthOut(ok=True, ledger_size=size)


Sweep = Callable[[Services], Awaitable[Any]]


async def _sweeper(services: Services, domain_sweeps: list[Sweep]) -> None:
    """Safety net for time-driven transitions; actions also apply them in their own transaction.
    Domain packages add their own time-driven housekeeping (a plugin's ``sweep(services)``)."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            async with services.transaction() as db:
                await services.tenders.sweep(db)
        except Exception:  # keep sweeping; the next action on a tender applies it anyway
            log.exception("deadline sweep failed")
        try:
            async with services.transaction() as db:
                await services.accounts.sweep(db)
        except Exception:  # forgotten counters only take room until the next sweep
            log.exception("sign-in throttle sweep failed")
        try:
            # Checkpoints published since, and witnesses that were down, are (re)tried here.
            await services.cosigning.cosign()
        except Exception:
            log.exception("cosigning sweep failed")
        for sweep in domain_sweeps:
            try:
                await sweep(services)
            except Exception:
                log.exception("sweep %s failed", sweep.__module__)


async def _worker(services: Services) -> None:
    """The app's own job worker; it keeps trying if the queue is away (e.g. the database)."""
    while True:
        try:
            await services.jobs.work(name="app")
        except Exception:
            log.exception("job worker stopped; restarting")
        await asyncio.sleep(SWEEP_SECONDS)


def _channels(settings: Settings) -> tuple[ChannelsPlugin, Redis | None]:
    """Live notifications, so that an event in one worker (or host) reaches the listeners of
    every other at once: through Redis when it is configured, else through the PostgreSQL
    database itself (LISTEN/NOTIFY); in-process only on SQLite, which has one worker."""
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    backend: ChannelsBackend
    if redis is not None:
        backend = RedisChannelsPubSubBackend(redis=redis)
    elif not settings.is_sqlite:
        dsn = "postgresql://" + settings.database_url.split("://", 1)[1]  # asyncpg's own scheme
        backend = AsyncPgChannelsBackend(dsn=dsn)
    else:
        backend = MemoryChannelsBackend()
    # Notifications carry no content (listeners re-read), so a slow listener may drop old ones.
    plugin = ChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=16,
        subscriber_backlog_strategy="dropleft",
    )
    return plugin, redis


def _stores(settings: Settings, redis: Redis | None, db_config: SQLAlchemyAsyncConfig) -> dict[str, Store]:
    """The request rate limit's counters, shared by every worker and host: in Redis when it is
    configured, else in the database (advanced-alchemy's store; the sweeper drops old rows)."""
    store: Store
    if redis is not None:
        # The deployment's own namespace, as for the hall's channels (bidding.live).
        deployment = settings.extra.get("channel_namespace") or settings.ledger_origin
        store = RedisStore(redis, namespace=f"tenderhall:{deployment}:rate-limit")
    else:
        # RateLimitEntry has StoreModelMixin's columns without importing it into the models.
        model = cast("type[StoreModelMixin]", RateLimitEntry)
        store = SQLAlchemyStore(db_config, model=model, namespace="login")
    return {LOGIN_RATE_LIMIT.store: store}


def _plugin_dirs(plugins: list[Any], name: str) -> list[Path]:
    """Folders domain packages add (templates, static assets) after the kernel's own."""
    return [d for d in (getattr(p, name, None) for p in plugins) if d is not None]


def create_app(
    settings: Settings | None = None, clock: Clock | None = None, *, sweeper: bool = True
) -> Litestar:
    settings = settings or Settings.from_env()
    import_models()
    services = build_services(settings, clock)
    plugins = domain_plugins()
    channels, redis = _channels(settings)
    for plugin in plugins:
        use_channels = getattr(plugin, "use_channels", None)
        if use_channels is not None:
            use_channels(services, channels)
    domain_sweeps = [s for s in (getattr(p, "sweep", None) for p in plugins) if s is not None]

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # The sweeper and the job worker run beside the app in every worker process (more job
        # workers: `tenderhall worker`); tests that drive time themselves start neither.
        tasks = (
            [asyncio.create_task(_sweeper(services, domain_sweeps)), asyncio.create_task(_worker(services))]
            if sweeper
            else []
        )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.jobs.close()
            if redis is not None:  # the channels plugin has stopped by now (its lifespan is inner)
                await redis.aclose()
            await services.engine.dispose()

    db_config = SQLAlchemyAsyncConfig(
        engine_instance=services.engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit_include_redirects",  # a sign-in redirect must keep its session
        session_dependency_key="db_session",
        create_all=False,
    )
    csrf = CSRFConfig(
        secret=services.keys.session_key.hex(),
        cookie_name=CSRF_COOKIE,
        header_name="x-csrf-token",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
    )

    def jinja_setup(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals["t"] = translate

    route_handlers: list[Any] = [
        healthz,
        AuthController,
        UserController,
        TenderController,
        DirectoryController,
        CompanyController,
        LedgerController,
        WitnessController,
        *pages.PAGES,
        *work_pages.PAGES,
        *tender_pages.PAGES,
        create_static_files_router(
            path="/static", directories=[PACKAGE_DIR / "web" / "static", *_plugin_dirs(plugins, "STATIC_DIR")]
        ),
        swagger_ui_assets(),
    ]
    for plugin in plugins:
        route_handlers.extend(getattr(plugin, "ROUTE_HANDLERS", ()))

    app = Litestar(
        route_handlers=route_handlers,
        dependencies={**DEPENDENCIES, **service_dependencies(services)},
        plugins=[SQLAlchemyPlugin(config=db_config), channels, ClosedStructSchemaPlugin()],
        stores={**_stores(settings, redis, db_config), cache.STORE: cache.response_store()},
        response_cache_config=cache.response_cache(settings.public_cache_seconds),
        middleware=[
            # First, so that everything after (the rate limit, sessions' addresses, bid evidence)
            # sees the client's address: X-Forwarded-For only from the configured proxies.
            # (uvicorn's ASGI type names differ from Litestar's; the protocol is the same.)
            DefineMiddleware(cast("Any", ProxyHeadersMiddleware), trusted_hosts=[*settings.trusted_proxies]),
            bounded_address,
            DefineMiddleware(SessionCSRFMiddleware, config=csrf),
            DefineMiddleware(AuthMiddleware),
            cache.SingleFlight,
        ],
        exception_handlers={Exception: problems.handle},
        before_send=[security_headers(settings.base_url)],
        template_config=TemplateConfig(
            directory=[PACKAGE_DIR / "web" / "templates", *_plugin_dirs(plugins, "TEMPLATE_DIR")],
            engine=JinjaTemplateEngine,
            engine_callback=jinja_setup,
        ),
        openapi_config=OpenAPIConfig(
            title="TenderHall API",
            version="0.1.0",
            description="Open e-tendering platform. Errors are RFC 9457 problem details.",
            path="/api/docs",
            # Swagger UI from the installed package, not a CDN: centres run isolated networks.
            render_plugins=[
                OfflineSwaggerRenderPlugin(csrf_cookie=csrf.cookie_name, csrf_header=csrf.header_name)
            ],
            # Security is per operation (document_operations): public ones need none.
            components=Components(security_schemes=dict(SECURITY_SCHEMES)),
        ),
        guards=[signed_in_unless_public],
        lifespan=[lifespan],
        request_max_body_size=64 * 1024 * 1024,
    )
    document_operations(app)
    document_clean_parameters(app)
    document_retry_after(app)
    document_references(app)
    accept_references(app, services)
    app.state.services = services
    return app
