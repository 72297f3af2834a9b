"""``toolsim cache``: import, export and summarise the replay cache (thin shells)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from toolsim.cli.common import CacheUrlOption, HomeOption, ToolsOption, settings_from_flags
from toolsim.cli.console import console, err_console, progress_bars, styled
from toolsim.errors import UserError

if TYPE_CHECKING:
    from toolsim.cache.entry import CacheEntry
    from toolsim.settings import Settings

cache_app = typer.Typer(help="Inspect, import and export the replay cache.", no_args_is_help=True)


@cache_app.command("import")
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
    from toolsim.server.app import load_catalog

    settings = settings_from_flags({"tools": tools, "home": home, "cache.url": cache_url})
    if not folder.is_dir():
        raise UserError(f"no such folder: {folder}")
    catalog = load_catalog(settings)
    with (
        closing(open_backend(settings.cache.url, settings.home)) as backend,
        progress_bars() as progress,
    ):
        task = progress.add_task("importing", total=count_reference_files(folder))
        report = import_reference(
            backend,
            folder,
            catalog,
            progress=lambda _n: progress.advance(task),
            observe=_world_feed(backend, settings),
        )
    console.print(
        f"imported {report.entries} entries from {report.files} files "
        f"({report.skipped} skipped, {report.duplicates} duplicates, "
        f"{report.with_error} with an error message, {report.unknown_apis} files of APIs "
        f"not in the catalog)"
    )
    for problem in report.problems:
        err_console.print(styled(("skipped:", "yellow"), f" {problem}"))


def _world_feed(
    backend: Any, settings: Settings
) -> Callable[[list[tuple[str, CacheEntry]]], object] | None:
    """The world's feed for imported replies (None when the world is off or cannot be kept)."""
    from toolsim.cache.backend import SupportsRecords
    from toolsim.world import World

    if not settings.world or not isinstance(backend, SupportsRecords):
        return None
    return World(backend).observe_many


@cache_app.command("export")
def cache_export(
    folder: Annotated[Path, typer.Argument(help="Where to write the StableToolBench layout.")],
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
) -> None:
    """Export the cache in the StableToolBench tool_response_cache layout."""
    from toolsim.cache.backend import open_backend
    from toolsim.cache.reference_format import export_reference

    settings = settings_from_flags({"home": home, "cache.url": cache_url})
    with (
        closing(open_backend(settings.cache.url, settings.home)) as backend,
        progress_bars() as progress,
    ):
        task = progress.add_task("exporting", total=len(backend))
        written = export_reference(backend, folder, progress=lambda n: progress.advance(task, n))
    console.print(f"exported {written} entries to {folder}")


@cache_app.command("stats")
def cache_stats(
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
    top: Annotated[int, typer.Option(help="How many APIs to list.")] = 20,
) -> None:
    """Print stored entries by source and by API."""
    from toolsim.cache.backend import open_backend
    from toolsim.cache.summary import summarize

    settings = settings_from_flags({"home": home, "cache.url": cache_url})
    with closing(open_backend(settings.cache.url, settings.home)) as backend:
        summary = summarize(backend)
    console.print(f"{summary.entries} entries in {summary.apis} APIs")
    by_source = Table("source", "entries", title="By source")
    for source, count in summary.by_source.most_common():
        by_source.add_row(source, str(count))
    console.print(by_source)
    by_api = Table("API (category / tool / api)", "entries", title=f"Top {top} APIs")
    for api, count in summary.by_api.most_common(top):
        by_api.add_row(" / ".join(api), str(count))
    console.print(by_api)
