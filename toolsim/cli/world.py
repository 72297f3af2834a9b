"""``toolsim world``: show, export, check and rebuild the entity graph (thin shells)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from toolsim.cli.common import CacheUrlOption, HomeOption, settings_from_flags
from toolsim.cli.console import console, progress_bars, styled

world_app = typer.Typer(
    help="The world's entity graph: what simulated and recorded replies said about things.",
    no_args_is_help=True,
)


@contextmanager
def open_world(home: Path | None, cache_url: str | None) -> Iterator[Any]:
    """The world on the configured cache backend (closed afterwards)."""
    from toolsim.cache.backend import SupportsRecords, open_backend
    from toolsim.errors import UserError
    from toolsim.world.store import World

    settings = settings_from_flags({"home": home, "cache.url": cache_url})
    with closing(open_backend(settings.cache.url, settings.home)) as backend:
        if not isinstance(backend, SupportsRecords):
            raise UserError(f"the cache backend {type(backend).__name__} cannot hold a world")
        yield World(backend)


@world_app.command("show")
def show(
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
    top: Annotated[int, typer.Option(help="How many types, APIs and entities to list.")] = 10,
) -> None:
    """Entities by type, where they came from, and the entities with the most facts."""
    from toolsim.world.graph import build_graph, summarize
    from toolsim.world.store import TABLE

    with open_world(home, cache_url) as world:
        summary = summarize(build_graph(world.backend.records_items(TABLE)), top)
    console.print(
        f"{summary.entities} entities with {summary.facts} facts, from {summary.apis} APIs"
    )
    for title, counts in (
        ("By type", summary.by_type),
        ("By source of the reply", summary.by_source),
        ("By API (tool/api)", summary.by_api),
    ):
        table = Table("name", "entities", title=title, title_justify="left")
        for name, count in counts.most_common(top):
            table.add_row(name, str(count))
        console.print(table)
    largest = Table(
        "entity", "type", "facts", "from APIs", title="Most facts", title_justify="left"
    )
    for node, kind, facts, apis in summary.largest:
        largest.add_row(node, kind, str(facts), ", ".join(apis))
    console.print(largest)


@world_app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="json (node-link) or graphml.")] = "json",
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
) -> None:
    """Write the whole graph (entities, APIs, which call produced or mentioned what)."""
    from toolsim.world.graph import build_graph, export_graph
    from toolsim.world.store import TABLE

    with open_world(home, cache_url) as world:
        graph = build_graph(world.backend.records_items(TABLE))
    export_graph(graph, path, fmt)
    console.print(
        f"wrote {graph.number_of_nodes()} nodes and {graph.number_of_edges()} edges to {path}"
    )


@world_app.command("rebuild")
def rebuild(
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
    clear: Annotated[bool, typer.Option(help="Forget the current world first.")] = False,
) -> None:
    """Feed every stored reply to the world (for a cache filled before the world existed)."""
    from toolsim.world.feed import feed_all

    with open_world(home, cache_url) as world:
        if clear:
            console.print(f"forgot {world.clear()} records")
        with progress_bars() as progress:
            task = progress.add_task("indexing", total=len(world.backend))
            fed = feed_all(world, lambda n: progress.advance(task, n))
    console.print(f"indexed {fed} stored replies")


@world_app.command("check")
def check(
    run_dir: Annotated[Path, typer.Argument(help="A run folder or any answer folder or file.")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON.")
    ] = None,
) -> None:
    """Count the facts an agent saw more than once in a run, and how many agreed."""
    from toolsim.files import write_json_atomic
    from toolsim.world.check import check_run

    reports = check_run(run_dir)
    for report in reports:
        console.print(styled((report.label, "bold"), f": world consistency {report.line()}"))
        for item in report.disagreements[:10]:
            values = "; ".join(f"{call} -> {value!r}" for call, value in item["values"].items())
            console.print(
                f"  query {item['query']}: {item['entity']} {item['field']}: {values}",
                soft_wrap=True,
                markup=False,
            )
    if json_out is not None:
        write_json_atomic(json_out, [report.to_json() for report in reports])
        console.print(f"report: {json_out}")
