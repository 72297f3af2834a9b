"""Choosing recorded replies of the same API to show an LLM simulator as examples."""

from __future__ import annotations

from typing import Any

import orjson

from toolsim.cache.backend import CacheBackend
from toolsim.cache.entry import CacheEntry
from toolsim.cache.nearest import ranked_neighbours
from toolsim.catalog.models import ApiId


def example_size(entry: CacheEntry) -> int:
    """Characters an example takes in the prompt."""
    return len(orjson.dumps([entry.arguments, entry.reply.error, entry.reply.response]))


def select_examples(
    backend: CacheBackend,
    api: ApiId,
    arguments: dict[str, Any],
    *,
    limit: int = 5,
    char_budget: int = 2000,
    exclude: str = "",
) -> tuple[tuple[str, CacheEntry], ...]:
    """Up to ``limit`` recorded (key, entry) pairs closest to this call, in ``char_budget`` chars.

    Successful replies come before error replies (they teach the shape); an
    example too large for what is left of the budget is skipped, not cut,
    because a truncated reply would teach the model to truncate.
    """
    if limit <= 0 or char_budget <= 0:
        return ()
    neighbours = ranked_neighbours(backend, api, arguments, exclude=exclude)
    neighbours.sort(key=lambda n: bool(n.entry.reply.error))  # stable: keeps closeness order
    chosen: list[tuple[str, CacheEntry]] = []
    left = char_budget
    for neighbour in neighbours:
        size = example_size(neighbour.entry)
        if size <= left:
            chosen.append((neighbour.key, neighbour.entry))
            left -= size
            if len(chosen) == limit:
                break
    return tuple(chosen)
