"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr

import toolsim
from toolsim.cache.backend import CacheBackend, SupportsRecords, open_backend
from toolsim.cache.entry import Reply
from toolsim.catalog.catalog import Catalog
from toolsim.server import routes_ops, routes_tools
from toolsim.server.access_log import AccessLog
from toolsim.server.auth import BearerAuth
from toolsim.server.errors import install_error_handlers
from toolsim.server.mcp import mount_mcp
from toolsim.server.service import ToolService
from toolsim.server.timeouts import RequestTimeout
from toolsim.server.virtual import PATH as VIRTUAL_PATH
from toolsim.server.virtual import VIRTUAL_OPENAPI, VirtualEndpoint
from toolsim.settings import Settings
from toolsim.simulator.base import Simulator, create_simulator
from toolsim.world import World

log = logging.getLogger("toolsim.server")


async def _flush_stats_forever(service: ToolService, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            service.stats.flush(service.backend)
            service.metrics.flush(service.backend)
        except Exception:
            log.exception("could not flush call counters; will retry")


def create_app(
    settings: Settings | None = None,
    *,
    catalog: Catalog | None = None,
    backend: CacheBackend | None = None,
    simulator: Simulator | None = None,
) -> FastAPI:
    """Build the toolsim server. Parts not given are built from ``settings``.

    Everything is built eagerly, so the app serves in tests that do not run the
    lifespan; the lifespan only adds the periodic counter flush and clean-up.
    """
    settings = settings or Settings()
    catalog = catalog if catalog is not None else Catalog.from_paths(settings.tools)
    backend = backend if backend is not None else open_backend(settings.cache_url, settings.home)
    simulator = simulator or create_simulator(settings.simulator.backend, settings=settings)
    service = ToolService(
        catalog,
        backend,
        simulator,
        settings.cache_mode,
        replay_suggestions=settings.replay_suggestions,
        memory_entries=settings.memory_entries,
        flight_lock_seconds=settings.flight_lock_seconds,
        world=World(backend) if settings.world and isinstance(backend, SupportsRecords) else None,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        flusher = asyncio.create_task(_flush_stats_forever(service, settings.stats_flush_seconds))
        try:
            async with app.state.mcp.run():
                yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            service.stats.flush(backend)
            service.metrics.flush(backend)
            await simulator.aclose()
            backend.close()

    app = FastAPI(
        title="toolsim",
        version=toolsim.__version__,
        description="A stable virtual tool world: StableToolBench-compatible tool API server.",
        lifespan=lifespan,
        # A redirect is no answer for a tool client; unknown paths get the error shape.
        redirect_slashes=False,
        **_telemetry_options(settings.otel),
    )
    app.state.settings = settings
    app.state.service = service
    install_error_handlers(app)
    app.include_router(routes_tools.router)
    app.include_router(routes_ops.router)
    mount_mcp(app, service, settings.max_body_bytes)
    app.add_middleware(VirtualEndpoint, service=service, max_body_bytes=settings.max_body_bytes)
    # Added after VirtualEndpoint, so they run before it (the last added runs first).
    timed_out = service.metrics.count_timeout
    app.add_middleware(RequestTimeout, seconds=settings.request_timeout, on_timeout=timed_out)
    if settings.auth_token is not None:
        app.add_middleware(BearerAuth, token=SecretStr(settings.auth_token))
    if settings.access_log:
        app.add_middleware(AccessLog)
    _document_virtual(app)
    return app


def app_from_env() -> FastAPI:
    """Build the server from ``TOOLSIM_*`` environment variables alone.

    The factory each ``toolsim serve --workers N`` process calls
    (``uvicorn toolsim.server.app:app_from_env --factory``).
    """
    return create_app(Settings())


def _telemetry_options(enabled: bool) -> dict[str, Any]:
    """FastAPI's OpenTelemetry switch, where this FastAPI has one.

    Its hook inspects the environment on every request (about half the cost of
    a cache hit), so toolsim makes it opt-in (``TOOLSIM_OTEL``).
    """
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": enabled, "metrics": enabled, "logs": enabled}}


def _document_virtual(app: FastAPI) -> None:
    """Add ``POST /virtual`` (served by middleware, not a route) to the OpenAPI document."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            schema["paths"][VIRTUAL_PATH] = VIRTUAL_OPENAPI
            schema.setdefault("components", {}).setdefault("schemas", {})["Reply"] = (
                Reply.model_json_schema()
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
