"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

import toolsim
from toolsim.cache.backend import CacheBackend, SupportsRecords, SupportsSessions, open_backend
from toolsim.cache.entry import Reply
from toolsim.catalog.catalog import Catalog
from toolsim.server import routes_ops, routes_tools
from toolsim.server.episodes import Episodes, RewardJudge, Rewards
from toolsim.server.episodes.openenv import mount_openenv
from toolsim.server.episodes.routes import router as episodes_router
from toolsim.server.errors import install_error_handlers
from toolsim.server.faults import FaultInjector, SharedOccurrences, open_injector
from toolsim.server.layers import door_inside_fastapi, front_layers
from toolsim.server.mcp import mount_mcp
from toolsim.server.service import ToolService
from toolsim.server.virtual import PATH as VIRTUAL_PATH
from toolsim.server.virtual import VIRTUAL_OPENAPI, VirtualDoor
from toolsim.settings import Settings
from toolsim.simulator.base import Simulator, create_simulator
from toolsim.simulator.exemplars import ExemplarStore, bundled_exemplars
from toolsim.simulator.upstream import list_servers
from toolsim.world import World

log = logging.getLogger("toolsim.server")


async def _flush_counters_until(
    stopping: asyncio.Event, service: ToolService, every: float
) -> None:
    """Flush the call counters every ``every`` seconds, and once more when ``stopping`` is set."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every)
        try:
            await service.counters.flush()
        except Exception:
            if stopping.is_set():
                raise
            log.exception("could not flush call counters; will retry")
        if stopping.is_set():
            return


class ToolsimApp(FastAPI):
    """The FastAPI application, entered through the layers in front of it.

    ``front`` (set by :func:`create_app` from :func:`~toolsim.server.layers.front_layers`)
    sees every request first and passes what it does not answer to :meth:`stack`,
    FastAPI's own handling.
    """

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if self.front is None:
            await super().__call__(scope, receive, send)
        else:
            await self.front(scope, receive, send)

    async def stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request with FastAPI's middleware, routes and error handlers."""
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    catalog: Catalog | None = None,
    backend: CacheBackend | None = None,
    simulator: Simulator | None = None,
    judge: RewardJudge | None = None,
) -> FastAPI:
    """Build the toolsim server. Parts not given are built from ``settings``.

    ``judge`` gives episodes their rewards (``toolsim serve`` hands in the configured
    judge; the server itself imports none); without one, verify answers 501.
    Everything is built eagerly, so the app serves in tests that do not run the
    lifespan; the lifespan only adds the periodic counter flush and clean-up.
    """
    settings = settings or Settings()
    catalog = catalog if catalog is not None else load_catalog(settings)
    backend = backend if backend is not None else open_backend(settings.cache.url, settings.home)
    simulator = simulator or create_simulator(settings.simulator.backend, settings=settings)
    service = ToolService(
        catalog,
        backend,
        simulator,
        settings.cache.mode,
        replay_suggestions=settings.server.replay_suggestions,
        memory_entries=settings.server.memory_entries,
        memory_bytes=settings.hardening.memory_bytes,
        flight_lock_seconds=settings.server.flight_lock_seconds,
        world=World(backend) if settings.world and isinstance(backend, SupportsRecords) else None,
        exemplars=ExemplarStore([backend, *bundled_exemplars(catalog)]),
        faults=_faults(settings, backend, catalog),
    )
    episodes = _episodes(service, settings, judge)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stopping = asyncio.Event()
        flusher = asyncio.create_task(
            _flush_counters_until(stopping, service, settings.server.stats_flush_seconds)
        )
        try:
            async with app.state.mcp.run():
                yield
        except BaseExceptionGroup as group:
            # The MCP manager's task group wraps what the app's user raised while it ran (an
            # in-process server's caller): give that back as it was raised.
            raise _only_exception(group) from None
        finally:
            stopping.set()
            try:
                await flusher  # its last flush
            finally:
                try:
                    await simulator.aclose()
                    if judge is not None:
                        await judge.aclose()
                finally:
                    backend.close()

    app = ToolsimApp(
        title="toolsim",
        version=toolsim.__version__,
        description="A stable virtual tool world: StableToolBench-compatible tool API server.",
        lifespan=lifespan,
        # A redirect is no answer for a tool client; unknown paths get the error shape.
        redirect_slashes=False,
        **_telemetry_options(settings.server.otel),
    )
    app.state.settings = settings
    app.state.service = service
    app.state.episodes = episodes
    install_error_handlers(app)
    app.include_router(routes_tools.router)
    app.include_router(routes_ops.router)
    app.include_router(episodes_router)
    mount_openenv(app, episodes)
    mount_mcp(
        app,
        service,
        settings.server.max_body_bytes,
        settings.hardening.allowed_origins,
        episodes,
    )
    if door_inside_fastapi(settings):
        app.add_middleware(
            VirtualDoor,
            service=service,
            max_body_bytes=settings.server.max_body_bytes,
            answer_hits=False,
            episodes=episodes,
        )
    app.front = front_layers(app.stack, service, settings, episodes)  # the order: layers.py
    _document_virtual(app)
    return app


def _only_exception(group: BaseExceptionGroup) -> BaseException:
    """The one exception a group holds (however deeply nested), else the group itself."""
    inner: BaseException = group
    while isinstance(inner, BaseExceptionGroup) and len(inner.exceptions) == 1:
        inner = inner.exceptions[0]
    return inner


def _episodes(
    service: ToolService, settings: Settings, judge: RewardJudge | None
) -> Episodes | None:
    """The episodes of this server, on the cache backend's sessions; None when off."""
    config = settings.episodes
    if not config.enabled or not isinstance(service.backend, SupportsSessions):
        return None
    rewards = Rewards(judge, batch=config.verify_batch, wait=config.verify_wait) if judge else None
    return Episodes(service, service.backend, config, rewards)


def load_catalog(settings: Settings) -> Catalog:
    """The catalog of ``settings.tools``: MCP servers among them are listed first (I/O at
    the edge, with the real tools' headers), then every source is loaded."""
    listed = list_servers(
        settings.tools, headers=settings.real_tools.headers, timeout=settings.upstream.timeout
    )
    return Catalog.from_paths(settings.tools, listed)


def _faults(settings: Settings, backend: CacheBackend, catalog: Catalog) -> FaultInjector | None:
    """The fault injector of ``settings.faults``; None (no faults) without a profile.

    With a session (several workers or replicas), occurrences are numbered on
    ``backend``; without one this process is the whole session and numbers them itself.
    """
    faults = settings.faults
    if faults.profile is None:
        return None
    injector = open_injector(
        faults.profile, seed=faults.seed, session=faults.session, backend=backend
    )
    unmatched = injector.profile.unmatched(catalog)
    if unmatched:
        log.warning(
            "the fault profile %s names what the catalog does not have, so their rules apply "
            "to nothing: %s (tools by name, APIs by function name, as GET /v1/tools lists them)",
            faults.profile,
            ", ".join(unmatched),
        )
    if faults.session and not isinstance(injector.occurrences, SharedOccurrences):
        log.warning(
            "the cache backend keeps no tallies: each process numbers a call's occurrences "
            "itself, so a call's faults depend on the process that answers it"
        )
    return injector


def app_from_env() -> FastAPI:
    """Build the server from ``TOOLSIM_*`` environment variables alone, with no judge.

    For ``uvicorn toolsim.server.app:app_from_env --factory``: episodes then answer
    verify with 501. ``toolsim serve`` (and its workers,
    ``toolsim.cli.serve:app_from_env``) hands in the configured judge.
    """
    return ready_to_serve(create_app(Settings()))


def ready_to_serve(app: FastAPI) -> FastAPI:
    """Prepare this process to serve ``app`` for its lifetime; return ``app``.

    Moves everything built so far (the catalog above all: hundreds of thousands
    of objects for StableToolBench's) out of the garbage collector's reach. A
    full collection scans every tracked object and stops the event loop while it
    does: with the catalog in view that was a 100-150 ms pause every few seconds
    of load, the worst of a hit's tail. Built once and kept, these objects never
    become garbage. For server processes only: tests build many apps in one process.
    """
    gc.collect()
    gc.freeze()
    return app


def _telemetry_options(enabled: bool) -> dict[str, Any]:
    """FastAPI's OpenTelemetry switch, where this FastAPI has one.

    Its hook inspects the environment on every request (about half the cost of
    a cache hit), so toolsim makes it opt-in (``TOOLSIM_SERVER__OTEL``).
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
