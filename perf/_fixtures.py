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
from toolsim.catalog import ApiSpec, ParamType

#: The parameter varied when an API documents no string or number parameter (kept as sent).
EXTRA_PARAMETER = "page"

Progress = Callable[[int], None]


def _value(kind: ParamType, default: Any) -> Any:
    """A valid value of a documented type: its default when that is one, else a plain one."""
    if kind is ParamType.NUMBER:
        return default if isinstance(default, int | float) and not isinstance(default, bool) else 1
    if kind is ParamType.BOOLEAN:
        return default if isinstance(default, bool) else True
    if kind is ParamType.DATE:
        return "2024-05-01"
    return default if isinstance(default, str) and default else "x"


def arguments(api: ApiSpec, i: int) -> dict[str, Any]:
    """The ``i``-th distinct valid argument dict of ``api``: every required parameter, one varied.

    The varied parameter is the first string or number one (required first), e.g.
    ``{"city": "city-7"}``; an API with none gets an undocumented ``page``, which
    toolsim keeps as sent.
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
        args[varied.name] = f"{varied.name}-{i}"
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
        "note": "synthetic reply written by perf/cache_hits.py",
    }
    return Reply(error="", response=response)


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
