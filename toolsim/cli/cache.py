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
    from toolsim.cache.backend import CacheBackend
    from toolsim.cache.entry import CacheEntry
    from toolsim.cache.salvage import Salvaged
    from toolsim.settings import Settings

cache_app = typer.Typer(
    help="Inspect, import, export and repair the replay cache.", no_args_is_help=True
)


@cache_app.command("import")
def cache_import(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="StableToolBench tool_response_cache folders, and/or answer files or folders "
            "(raw answers, converted answers, pass-rate results) whose tool replies to record."
        ),
    ],
    tools: ToolsOption = None,
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
) -> None:
    """Import recorded replies: a StableToolBench response cache, or answer files.

    Keys are read with the parameters of the APIs in --tools: renamed names such as
    is_id map back to the documented ones, values take the documented types. The tool
    replies in answer files are stored under their own calls (an identical call
    replays them) and serve every other call of their API as exemplars.
    """
    from toolsim.cache.backend import open_backend
    from toolsim.fidelity.recorded import is_reference_cache
    from toolsim.server.app import load_catalog

    settings = settings_from_flags({"tools": tools, "home": home, "cache.url": cache_url})
    for path in paths:
        if not path.exists():
            raise UserError(f"no such file or folder: {path}")
    catalog = load_catalog(settings)
    with closing(open_backend(settings.cache.url, settings.home)) as backend:
        observe = world_feed(backend, settings)
        for path in paths:
            if path.is_dir() and is_reference_cache(path):
                import_reference_cache(backend, path, catalog, observe)
            else:
                _import_answers(backend, path, catalog, observe)


def import_reference_cache(backend: Any, folder: Path, catalog: Any, observe: Any) -> None:
    """Import one StableToolBench response cache folder, with a progress bar and a summary."""
    from toolsim.cache.reference_format import count_reference_files, import_reference

    with progress_bars() as progress:
        task = progress.add_task("importing", total=count_reference_files(folder))
        report = import_reference(
            backend, folder, catalog, progress=lambda _n: progress.advance(task), observe=observe
        )
    console.print(
        f"imported {report.entries} entries from {report.files} files of {folder} "
        f"({report.skipped} skipped, {report.duplicates} duplicates, "
        f"{report.with_error} with an error message, {report.unknown_apis} files of APIs "
        f"not in the catalog)",
        soft_wrap=True,
    )
    if report.invalid_arguments:
        console.print(
            f"{report.invalid_arguments} entries hold arguments that break their API's "
            "documentation: calls with exactly those arguments replay as recorded (the "
            "x-toolsim-invalid-arguments header says what is wrong); other invalid calls "
            "are refused",
            soft_wrap=True,
        )
    for problem in report.problems:
        err_console.print(styled(("skipped:", "yellow"), f" {problem}"))


def _import_answers(backend: Any, path: Path, catalog: Any, observe: Any) -> None:
    from toolsim.cache.recorded import store_recorded
    from toolsim.fidelity.recorded import read_recorded

    found = read_recorded([path])
    if not found.calls and not found.problems:
        raise UserError(f"no recorded tool calls in {path}")
    report = store_recorded(backend, found.calls.values(), catalog, observe)
    console.print(
        f"recorded {report.stored} replies from {report.calls} distinct tool calls in "
        f"{found.files} answer files of {path} ({report.kept} already recorded, kept; "
        f"{report.failures} errors or transport failures skipped; {report.unknown_apis} "
        f"of APIs not in the catalog)"
    )
    for problem in (found.problems + report.problems)[:20]:
        err_console.print(styled(("skipped:", "yellow"), f" {problem}"), soft_wrap=True)


def world_feed(
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
    """Export the cache in the StableToolBench tool_response_cache layout.

    A damaged diskcache folder is read as far as it can be (see `toolsim cache repair`).
    """
    from toolsim.cache.reference_format import export_reference

    settings = settings_from_flags({"home": home, "cache.url": cache_url})
    with closing(_readable_backend(settings)) as backend, progress_bars() as progress:
        task = progress.add_task("exporting", total=len(backend))
        written = export_reference(backend, folder, progress=lambda n: progress.advance(task, n))
    console.print(f"exported {written} entries to {folder}")


def _readable_backend(settings: Settings) -> CacheBackend:
    """The configured cache; a damaged diskcache folder's readable entries in memory."""
    from toolsim.cache.backend import open_backend
    from toolsim.cache.disk import disk_folder
    from toolsim.cache.memory import MemoryBackend
    from toolsim.cache.salvage import salvage_copy
    from toolsim.files import DamagedFile

    try:
        return open_backend(settings.cache.url, settings.home)
    except DamagedFile as exc:
        folder = disk_folder(settings.cache.url, settings.home)
        if folder is None:
            raise
        err_console.print(
            styled(("damaged:", "yellow"), f" {exc.path}: {exc.reason}"), soft_wrap=True
        )
        found = salvage_copy(folder)
        _print_salvage(found)
        backend = MemoryBackend()
        backend.put_many(found.ordered())
        return backend


def _print_salvage(found: Salvaged) -> None:
    lost = found.unreadable + found.unreachable
    how = " (pages scanned: SQLite could not reach every row)" if found.scanned else ""
    console.print(
        f"salvaged {len(found.entries)} readable entries; at least {lost} rows could not be "
        f"read{how}",
        soft_wrap=True,
    )


@cache_app.command("repair")
def cache_repair(
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even if no damage is found.")
    ] = False,
) -> None:
    """Rebuild a damaged diskcache folder from what is readable; the damaged one is kept.

    Stop every toolsim process using the cache first. Replies are salvaged (the world
    is rebuilt from them); call counters start again from zero.
    """
    from toolsim.cache.disk import check_database, disk_folder
    from toolsim.cache.repair import repair_disk_cache
    from toolsim.cache.salvage import DATABASE
    from toolsim.files import DamagedFile

    settings = settings_from_flags({"home": home, "cache.url": cache_url})
    folder = disk_folder(settings.cache.url, settings.home)
    if folder is None:
        raise UserError("toolsim cache repair mends diskcache folders (disk://) only")
    database = folder / DATABASE
    if not database.exists():
        raise UserError(f"no cache at {folder} (no {DATABASE})")
    try:
        check_database(database)
    except DamagedFile as exc:
        err_console.print(
            styled(("damaged:", "yellow"), f" {exc.path}: {exc.reason}"), soft_wrap=True
        )
    else:
        if not force:
            console.print(
                f"{database}: no damage found; nothing to repair (--force rebuilds)",
                soft_wrap=True,
            )
            return
    repair = repair_disk_cache(folder, _world_rebuild(settings))
    _print_salvage(repair.salvaged)
    console.print(f"repaired {folder}; the damaged folder is kept at {repair.kept}", soft_wrap=True)


def _world_rebuild(settings: Settings) -> Callable[[Any, list[tuple[str, CacheEntry]]], object]:
    """Rebuild the world's records from the salvaged entries (nothing when it is off)."""

    def rebuild(backend: Any, entries: list[tuple[str, CacheEntry]]) -> None:
        feed = world_feed(backend, settings)
        if feed is not None:
            feed(entries)

    return rebuild


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
