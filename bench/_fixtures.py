"""Benchmark data: arguments, stored replies, request bodies and pre-filled caches.

Keys are computed with ``normalize_arguments`` + ``cache_key``, exactly as the
server does, so every body built here is a cache hit on a cache built here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from toolsim.cache.disk import DiskBackend
from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.catalog import ApiSpec, Catalog, ParamType, api_id

#: (category, tool, API) of the API holding few entries, and of the one holding many.
SMALL_API = ("Weather", "SkyCast Weather", "Air Quality Index")
LARGE_API = ("Weather", "SkyCast Weather", "Current Weather")
SMALL_ENTRIES = 10
LARGE_ENTRIES = 10_000
#: Distinct request bodies a load generator rotates through.
BODIES_PER_SET = 200

Progress = Callable[[int], None]


def _varied_parameter(api: ApiSpec) -> str:
    """The parameter whose value makes each call distinct: a string or number, required first."""
    for param in (*api.required, *api.optional):
        if param.type in (ParamType.STRING, ParamType.NUMBER):
            return param.name
    raise ValueError(f"{api.name} has no string or number parameter to vary")


def arguments(api: ApiSpec, i: int) -> dict[str, Any]:
    """The ``i``-th distinct valid argument set of ``api`` (e.g. ``{"city": "city-7"}``)."""
    args = api.default_arguments()
    name = _varied_parameter(api)
    param = api.parameter(name)
    args[name] = i if param is not None and param.type is ParamType.NUMBER else f"{name}-{i}"
    return args


def reply(api: ApiSpec, i: int) -> Reply:
    """A successful reply of about 400 bytes of JSON, distinct per call."""
    items = [
        {"rank": k, "label": f"{api.tool_name} result {i}-{k}", "score": round(0.9 - k / 10, 2)}
        for k in range(4)
    ]
    response = {
        "id": i,
        "api": api.name,
        "status": "ok",
        "items": items,
        "note": "synthetic reply written by bench/cache_hits.py",
    }
    return Reply(error="", response=response)


def fixed_reply_bytes() -> bytes:
    """What the baseline servers answer: a reply of the same shape and size as a cached one."""
    api = ApiSpec(category=LARGE_API[0], tool_name=LARGE_API[1], name=LARGE_API[2])
    return orjson.dumps(reply(api, 1234).model_dump())


def entry(api: ApiSpec, i: int) -> tuple[str, CacheEntry]:
    """The (key, entry) the server looks up for the ``i``-th call of ``api``."""
    normalized = normalize_arguments(api, arguments(api, i))
    stored = CacheEntry(
        category=api.category_folder,
        tool=api.tool_key,
        api=api.api_key,
        arguments=normalized,
        reply=reply(api, i),
        source=Source.RECORDED,
    )
    return cache_key(api, normalized), stored


def body(api: ApiSpec, i: int) -> bytes:
    """A StableToolBench ``/virtual`` request body for the ``i``-th call of ``api``."""
    return orjson.dumps(
        {
            "category": api.category,
            "tool_name": api.tool_name,
            "api_name": api.name,
            "tool_input": orjson.dumps(arguments(api, i)).decode(),
            "strip": "",
            "toolbench_key": "",
        }
    )


@dataclass(frozen=True)
class BodySet:
    """Request bodies rotated through round-robin by a load generator."""

    name: str
    bodies: tuple[bytes, ...]


def body_sets(catalog: Catalog) -> dict[str, BodySet]:
    """``large``: 200 different cached calls of the large API; ``small``: the small API's 10."""
    large, small = catalog.resolve(*LARGE_API), catalog.resolve(*SMALL_API)
    step = LARGE_ENTRIES // BODIES_PER_SET
    return {
        "large": BodySet("large", tuple(body(large, i * step) for i in range(BODIES_PER_SET))),
        "small": BodySet(
            "small", tuple(body(small, i % SMALL_ENTRIES) for i in range(BODIES_PER_SET))
        ),
    }


def _batched(
    backend: DiskBackend, items: Iterator[tuple[str, CacheEntry]], size: int, progress: Progress
) -> None:
    batch: list[tuple[str, CacheEntry]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            progress(backend.put_many(batch))
            batch = []
    if batch:
        progress(backend.put_many(batch))


def build_server_cache(folder: Path, catalog: Catalog, other_entries: int) -> dict[str, int]:
    """Fill ``folder`` with the small and large APIs' entries plus ``other_entries`` elsewhere.

    Returns the number of entries written per API function name.
    """
    small, large = catalog.resolve(*SMALL_API), catalog.resolve(*LARGE_API)
    others = [api for api in catalog if api_id(api) not in (api_id(small), api_id(large))]
    share, extra = divmod(other_entries, len(others))
    plan = [(small, SMALL_ENTRIES), (large, LARGE_ENTRIES)]
    plan += [(api, share + (j < extra)) for j, api in enumerate(others)]
    backend = DiskBackend(folder)
    try:
        for api, count in plan:
            items = (entry(api, i) for i in range(count))
            _batched(backend, items, 1000, lambda _n: None)
        assert len(backend) == sum(count for _, count in plan)
    finally:
        backend.close()
    return {api.function_name: count for api, count in plan}


def entry_n(apis: list[ApiSpec], total: int, n: int) -> tuple[str, CacheEntry]:
    """The ``n``-th of ``total`` entries spread evenly over ``apis``, one API after another."""
    per_api = -(-total // len(apis))
    return entry(apis[n // per_api], n % per_api)


def build_lookup_cache(
    folder: Path, apis: list[ApiSpec], total: int, batch: int, progress: Progress
) -> DiskBackend:
    """A backend of ``total`` entries, one API after another, written ``batch`` at a time.

    Entries are grouped by API because ``put_many`` rewrites the key listing of
    every API it touches: a batch spanning all APIs would rewrite them all.
    """
    backend = DiskBackend(folder)
    _batched(backend, (entry_n(apis, total, n) for n in range(total)), batch, progress)
    return backend
