"""``toolsim data``: fetch reference data and import it (thin shells over :mod:`toolsim.data`)."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer

from toolsim.cli.common import CacheUrlOption, HomeOption, settings_from_flags
from toolsim.cli.console import console, progress_bars

data_app = typer.Typer(
    help="Reference data: download (verified, resumable) and import.", no_args_is_help=True
)

#: The datasets ``toolsim data get`` knows.
DATASETS = ("stabletoolbench",)


@data_app.command("get")
def get(
    name: Annotated[str, typer.Argument(help="The dataset: stabletoolbench.")],
    dest: Annotated[
        Path | None,
        typer.Option(help="Where to keep it (default $TOOLSIM_HOME/data/<name>)."),
    ] = None,
    queries_only: Annotated[
        bool, typer.Option("--queries-only", help="Only the query groups (no 236 MB cache).")
    ] = False,
    import_cache: Annotated[
        bool,
        typer.Option(
            "--import/--no-import",
            help="Import the response cache as replay entries and exemplars.",
        ),
    ] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Import again even if this cache already was.")
    ] = False,
    cache_zip: Annotated[
        Path | None,
        typer.Option(help="Use this server_cache.zip (downloaded by hand) instead of the Hub."),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="Hugging Face Hub endpoint or mirror (default $HF_ENDPOINT, else the Hub)."
        ),
    ] = None,
    github_url: Annotated[
        str | None,
        typer.Option(help="Host serving raw GitHub files, or a mirror of it."),
    ] = None,
    revision: Annotated[
        str | None, typer.Option(help="Revision of the Hub dataset (default main).")
    ] = None,
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
) -> None:
    """Download a benchmark's reference data, verify it, and import its response cache.

    For stabletoolbench: the six solvable query groups from the benchmark's GitHub
    repository (pinned commit, SHA-256 checked) and its response cache and tool
    definitions from the Hugging Face dataset stabletoolbench/Cache (checked against
    the Hub's SHA-256). Files already fetched are not fetched again.
    """
    from dataclasses import replace

    from toolsim.data.stabletoolbench import CACHE_SOURCE, GITHUB_RAW, get_stabletoolbench
    from toolsim.errors import UserError

    if name not in DATASETS:
        raise UserError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    settings = settings_from_flags({"home": home, "cache.url": cache_url})
    dest = dest or settings.home / "data" / name
    source = None if queries_only else replace(CACHE_SOURCE, revision=revision or "main")
    with progress_bars() as progress:
        tasks: dict[str, Any] = {}

        def advance(what: str, amount: int, total: int | None) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(what, total=total)
            progress.advance(tasks[what], amount)

        fetched = get_stabletoolbench(
            dest,
            cache=source,
            cache_zip=cache_zip,
            github_url=github_url or GITHUB_RAW,
            endpoint=endpoint,
            progress=advance,
        )
    console.print(
        f"{name}: {len(fetched.groups)} query groups in {fetched.queries / 'test_instruction'} "
        f"({len(fetched.downloaded)} files downloaded this time)",
        soft_wrap=True,
    )
    if fetched.response_cache is None:
        return
    console.print(f"response cache: {fetched.response_cache}", soft_wrap=True)
    if fetched.tools is not None:
        console.print(f"tool definitions: {fetched.tools}", soft_wrap=True)
    if import_cache:
        _import_once(fetched, settings, force)
    console.print(
        "serve it: toolsim serve --tools " + str(fetched.queries / "test_instruction"),
        soft_wrap=True,
    )


def _import_once(fetched: Any, settings: Any, force: bool) -> None:
    """Import the response cache into the configured store, unless it already was."""
    from toolsim.cache.backend import open_backend
    from toolsim.catalog import Catalog
    from toolsim.cli.cache import import_reference_cache, world_feed
    from toolsim.files import write_json_atomic

    target = settings.cache.url or str(settings.home / "cache")
    stamp = fetched.archive_sha256
    marker = fetched.root / "imported.json"
    done = json.loads(marker.read_text()) if marker.exists() else {}
    if not force and done.get(target) == stamp:
        console.print(f"already imported into {target} (--force imports again)")
        return
    catalog = Catalog.from_paths([str(path) for path in fetched.groups])
    with closing(open_backend(settings.cache.url, settings.home)) as backend:
        import_reference_cache(
            backend, fetched.response_cache, catalog, world_feed(backend, settings)
        )
    write_json_atomic(marker, {**done, target: stamp})
