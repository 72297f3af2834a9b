"""A StableToolBench-layout response cache for benchmarks, and the requests that hit it.

``cache_hits.py`` measures toolsim the way the issue that asked for it was
measured: a catalog of the 2,231 APIs of StableToolBench's test queries (four
groups, from ``../shared/data``; the bundled example suite when that is
absent), a reference-format cache folder of N entries per API imported with
:func:`~toolsim.cache.reference_format.import_reference` (what ``toolsim cache
import`` runs), and ``POST /virtual`` bodies built as the reference client
builds them, spread over every API.

The published reference cache (a separate 236 MB download) is not needed: its
layout is written here, one file per API mapping the ``repr`` of an argument
dict to a reply; ``--reference-cache`` measures a real one instead.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from _fixtures import arguments, reply

from toolsim.cache.reference_format import parse_key
from toolsim.catalog import ApiSpec, Catalog
from toolsim.catalog.names import category_folder, standardize

#: The StableToolBench query groups whose APIs make the catalog (2,231 distinct APIs).
QUERY_DIR = Path(__file__).resolve().parents[2] / "shared/data/stabletoolbench/solvable_queries"
QUERY_DIR /= "test_instruction"


def catalog_sources() -> list[str]:
    """The query files of StableToolBench's test groups if present, else the example suite."""
    files = sorted(QUERY_DIR.glob("*.json")) if QUERY_DIR.is_dir() else []
    return [str(f) for f in files] or ["example"]


def reference_reply(api: ApiSpec, i: int) -> dict[str, Any]:
    """A reference-format reply of about 400 bytes: the response as a JSON string, as most are."""
    stored = reply(api, i)
    return {"error": stored.error, "response": json.dumps(stored.response)}


def api_file(root: Path, api: ApiSpec) -> Path:
    """Where the reference layout keeps an API's replies."""
    folder = category_folder(api.category)
    return root / folder / f"{api.tool_key}_for_{folder}" / f"{api.api_key}.json"


def write_reference_cache(root: Path, apis: Iterable[ApiSpec], per_api: int) -> int:
    """Write ``per_api`` entries for each API in the reference layout; return the entries."""
    written = 0
    for api in apis:
        path = api_file(root, api)
        path.parent.mkdir(parents=True, exist_ok=True)
        content = {repr(arguments(api, i)): reference_reply(api, i) for i in range(per_api)}
        path.write_text(json.dumps(content))
        written += len(content)
    return written


def virtual_body(api: ApiSpec, args: dict[str, Any]) -> bytes:
    """A ``/virtual`` body as the reference client sends it.

    The client sends the category as listed, the standardized tool name, the API
    name, the arguments the model wrote as a JSON string, and two fields the
    virtual server ignores.
    """
    return orjson.dumps(
        {
            "category": api.category,
            "tool_name": standardize(api.tool_name),
            "api_name": api.name,
            "tool_input": json.dumps(args),
            "strip": "",
            "toolbench_key": "",
        }
    )


def spread_bodies(root: Path, catalog: Catalog, count: int, seed: int = 7) -> tuple[bytes, ...]:
    """``count`` bodies of stored calls spread over every API with a file under ``root``.

    Each API gives the same share (as far as it has entries), taken evenly
    across its file; the bodies come in shuffled order, so consecutive requests
    name different APIs.
    """
    by_file = {api_file(root, api).relative_to(root): api for api in catalog}
    files = [
        (path, by_file[path.relative_to(root)])
        for path in sorted(root.glob("*/*/*.json"))
        if path.relative_to(root) in by_file
    ]
    if not files:
        raise SystemExit(f"no file under {root} belongs to an API of the catalog")
    share = -(-count // len(files))
    bodies = []
    for path, api in files:
        keys = list(json.loads(path.read_bytes()))
        step = max(1, len(keys) // share)
        for key in keys[::step][:share]:
            try:
                bodies.append(virtual_body(api, parse_key(key)))
            except ValueError:
                continue
    random.Random(seed).shuffle(bodies)
    return tuple(bodies[:count])
