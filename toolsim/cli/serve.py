"""``toolsim serve``: a thin shell over :func:`toolsim.server.create_app` and uvicorn."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from toolsim.cache.modes import CacheMode
from toolsim.cli.common import (
    CacheModeOption,
    CacheUrlOption,
    HomeOption,
    SimulatorOption,
    ToolsOption,
    settings_from_flags,
)
from toolsim.cli.console import console, err_console, styled
from toolsim.errors import UserError
from toolsim.settings import Settings, variable

if TYPE_CHECKING:
    from fastapi import FastAPI

    from toolsim.server.episodes import RewardJudge


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    tools: ToolsOption = None,
    cache_mode: CacheModeOption = None,
    simulator: SimulatorOption = None,
    upstream: Annotated[
        str | None, typer.Option(help="A real API relay URL tried before the LLM.")
    ] = None,
    schema_fallback: Annotated[
        bool | None,
        typer.Option(help="Answer from the response template when the LLM is unavailable."),
    ] = None,
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Server processes sharing the cache (diskcache or Redis)."),
    ] = None,
    faults: Annotated[
        Path | None,
        typer.Option(help="A seeded fault and latency profile (YAML/JSON); default none."),
    ] = None,
    fault_seed: Annotated[int | None, typer.Option(help="Seed of the fault draws.")] = None,
) -> None:
    """Run the tool API server (StableToolBench /virtual, native /v1, /stats)."""
    import uvicorn

    from toolsim.cache.backend import ReportsDurability
    from toolsim.server import create_app
    from toolsim.server.connections import HTTP_PROTOCOL
    from toolsim.server.faults import describe_profile

    flags = {
        "server.host": host,
        "server.port": port,
        "server.workers": workers,
        "tools": tools,
        "home": home,
        "cache.mode": cache_mode,
        "cache.url": cache_url,
        "simulator.backend": simulator,
        "simulator.schema_fallback": schema_fallback,
        "upstream.url": upstream,
        "faults.profile": faults,
        "faults.seed": fault_seed,
    }
    settings = settings_from_flags(flags)
    faults_on = settings.faults.profile is not None
    if faults_on and settings.faults.session is None and settings.server.workers > 1:
        # Every worker numbers a call's occurrences in one session: this server's.
        flags["faults.session"] = uuid.uuid4().hex
        settings = settings_from_flags(flags)
    if settings.server.workers > 1 and (settings.cache.url or "").startswith("memory:"):
        raise UserError("memory:// cannot be shared by several workers; use disk:// or redis://")
    # Built here even with several workers: bad settings fail once, clearly, before any fork.
    judge = episode_judge(settings)
    application = create_app(settings, judge=judge)
    service = application.state.service
    if isinstance(service.backend, ReportsDurability):
        for problem in service.backend.durability_problems():
            err_console.print(styled(("warning:", "yellow"), f" {problem}"), soft_wrap=True)
    _check_port(settings.server.host, settings.server.port)  # before saying "listening"
    console.print(
        f"toolsim: {len(service.catalog)} APIs, {len(service.catalog.queries)} queries, "
        f"cache mode {settings.cache.mode.value}, simulator "
        f"{service.simulator.name}, {len(service.backend)} cached replies\n"
        f"listening on http://{settings.server.host}:{settings.server.port}  "
        "(POST /virtual, GET /v1/tools, /mcp, POST /v1/episodes, OpenEnv /ws, GET /stats)"
    )
    if service.faults is not None:
        console.print(f"injecting faults: {describe_profile(service.faults.identity())}")
    if settings.server.workers == 1:
        from toolsim.server.app import ready_to_serve

        uvicorn.run(
            ready_to_serve(application),
            host=settings.server.host,
            port=settings.server.port,
            log_level="warning",
            http=HTTP_PROTOCOL,
        )
        return
    console.print(f"{settings.server.workers} worker processes")
    asyncio.run(service.simulator.aclose())
    service.backend.close()
    asyncio.run(judge.aclose())
    # Each worker builds its own app from the environment, so pass the flags on there.
    for path, value in flags.items():
        if value is not None:
            os.environ[variable(path)] = _env_value(value)
    uvicorn.run(
        "toolsim.cli.serve:app_from_env",
        factory=True,
        workers=settings.server.workers,
        host=settings.server.host,
        port=settings.server.port,
        log_level="warning",
        http=HTTP_PROTOCOL,
    )


def _check_port(host: str, port: int) -> None:
    """A clear error now if ``host:port`` cannot be listened on (in use, not this machine's)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def app_from_env() -> FastAPI:
    """The app each worker of ``toolsim serve --workers N`` builds from ``TOOLSIM_*``,
    with the configured judge wired in for episodes."""
    from toolsim.server import create_app
    from toolsim.server.app import ready_to_serve

    settings = Settings()
    return ready_to_serve(create_app(settings, judge=episode_judge(settings)))


def episode_judge(settings: Settings) -> RewardJudge:
    """The configured judge as the reward of episodes (the server imports no judge)."""
    from toolsim.evaluator.rewards import episode_judge as judge_of

    return judge_of(settings)


def _env_value(value: Any) -> str:
    """A flag's value as its ``TOOLSIM_*`` variable spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, CacheMode):
        return value.value
    return str(value)
