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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from toolsim.cache.reference_format import parse_key
from toolsim.catalog import ApiSpec, Catalog, ParamType
from toolsim.catalog.names import category_folder, standardize

#: The StableToolBench query groups whose APIs make the catalog (2,231 distinct APIs).
QUERY_DIR = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "stabletoolbench"
    / "solvable_queries"
    / "test_instruction"
)
#: The parameter varied when an API documents no string or number parameter (kept as sent).
EXTRA_PARAMETER = "page"


def catalog_sources() -> list[str]:
    """The query files of StableToolBench's test groups if present, else the example suite."""
    files = sorted(QUERY_DIR.glob("*.json")) if QUERY_DIR.is_dir() else []
    return [str(f) for f in files] or ["example"]


def _value(kind: ParamType, default: Any) -> Any:
    """A valid value of a documented type: its default when that is one, else a plain one."""
    if kind is ParamType.NUMBER:
        return default if isinstance(default, int | float) and not isinstance(default, bool) else 1
    if kind is ParamType.BOOLEAN:
        return default if isinstance(default, bool) else True
    if kind is ParamType.DATE:
        return "2024-05-01"
    return default if isinstance(default, str) and default else "x"


def call_arguments(api: ApiSpec, i: int) -> dict[str, Any]:
    """The ``i``-th distinct valid argument dict of ``api``: every required parameter, one varied.

    The varied parameter is the first string or number one (required first);
    an API with none gets an undocumented ``page``, which toolsim keeps as sent.
    """
    args = {p.name: _value(p.type, p.default) for p in api.required}
    varied = next(
        (
            p
            for p in (*api.required, *api.optional)
            if p.type in (ParamType.STRING, ParamType.NUMBER)
        ),
        None,
    )
    if varied is None:
        args[EXTRA_PARAMETER] = i
    elif varied.type is ParamType.NUMBER:
        args[varied.name] = i
    else:
        args[varied.name] = f"{varied.name} {i}"
    return args


def reply(api: ApiSpec, i: int) -> dict[str, Any]:
    """A successful reference-format reply of about 400 bytes, distinct per call."""
    items = [
        {"rank": k, "label": f"{api.tool_name} result {i}-{k}", "score": round(0.9 - k / 10, 2)}
        for k in range(4)
    ]
    response = {"id": i, "api": api.name, "status": "ok", "items": items}
    return {"error": "", "response": json.dumps(response)}


def api_file(root: Path, api: ApiSpec) -> Path:
    """Where the reference layout keeps an API's replies."""
    folder = category_folder(api.category)
    return root / folder / f"{api.tool_key}_for_{folder}" / f"{api.api_key}.json"


def write_reference_cache(root: Path, apis: list[ApiSpec], per_api: int) -> int:
    """Write ``per_api`` entries for each API in the reference layout; return the files written."""
    for api in apis:
        path = api_file(root, api)
        path.parent.mkdir(parents=True, exist_ok=True)
        content = {repr(call_arguments(api, i)): reply(api, i) for i in range(per_api)}
        path.write_text(json.dumps(content))
    return len(apis)


def virtual_body(api: ApiSpec, arguments: dict[str, Any]) -> bytes:
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
            "tool_input": json.dumps(arguments),
            "strip": "",
            "toolbench_key": "",
        }
    )


@dataclass(frozen=True)
class Call:
    """One stored call of an API, from a reference cache file."""

    api: ApiSpec
    arguments: dict[str, Any]


def stored_calls(root: Path, catalog: Catalog) -> Iterator[Call]:
    """Every call of a reference cache folder whose API the catalog knows, file by file."""
    by_file = {api_file(root, api).relative_to(root): api for api in catalog}
    for path in sorted(root.glob("*/*/*.json")):
        api = by_file.get(path.relative_to(root))
        if api is None:
            continue
        for key in json.loads(path.read_bytes()):
            try:
                yield Call(api, parse_key(key))
            except ValueError:
                continue


def spread_bodies(root: Path, catalog: Catalog, count: int, seed: int = 7) -> tuple[bytes, ...]:
    """``count`` bodies of stored calls, spread over every API (round-robin), in shuffled order."""
    per_api: dict[str, list[Call]] = {}
    for call in stored_calls(root, catalog):
        per_api.setdefault(call.api.function_name, []).append(call)
    queues = list(per_api.values())
    rng = random.Random(seed)
    for calls in queues:
        rng.shuffle(calls)
    picked: list[Call] = []
    depth = 0
    while len(picked) < count and any(depth < len(q) for q in queues):
        picked += [q[depth] for q in queues if depth < len(q)][: count - len(picked)]
        depth += 1
    rng.shuffle(picked)
    return tuple(virtual_body(call.api, call.arguments) for call in picked)
