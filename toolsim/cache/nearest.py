"""Recorded calls of one API ranked by closeness to a new call.

Used to explain a replay miss (which recorded argument sets were close, and
which fields differed) and to pick examples for an LLM simulator's prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from toolsim.cache.backend import CacheBackend
from toolsim.cache.entry import CacheEntry
from toolsim.cache.keys import canonical_json
from toolsim.catalog.models import ApiId

#: Upper bound on entries compared (the newest), so a call on a huge API stays fast.
MAX_COMPARED = 2000


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A recorded call and how it differs from the call at hand."""

    key: str
    entry: CacheEntry
    differs: tuple[str, ...]
    similarity: float


def differing_fields(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, ...]:
    """Names of arguments present in only one of the two, or with different values."""
    return tuple(sorted(k for k in a.keys() | b.keys() if k not in a or k not in b or a[k] != b[k]))


def ranked_neighbours(
    backend: CacheBackend, api: ApiId, arguments: dict[str, Any], *, exclude: str = ""
) -> list[Neighbour]:
    """Recorded calls of ``api``, closest first.

    Closeness is the number of differing fields, then the textual similarity of
    the canonical JSON, so a typo in one value ranks above a different call.
    """
    wanted = canonical_json(arguments).decode()
    found = []
    for key, entry in _recorded(backend, api, exclude):
        similarity = SequenceMatcher(None, wanted, canonical_json(entry.arguments).decode()).ratio()
        found.append(
            Neighbour(key, entry, differing_fields(arguments, entry.arguments), similarity)
        )
    found.sort(key=lambda n: (len(n.differs), -n.similarity, n.key))
    return found


def _recorded(backend: CacheBackend, api: ApiId, exclude: str) -> Iterator[tuple[str, CacheEntry]]:
    for key in backend.keys_for(api, MAX_COMPARED):
        if key == exclude:
            continue
        entry = backend.get(key)
        if entry is not None:
            yield key, entry


def closest_recorded(
    backend: CacheBackend, api: ApiId, arguments: dict[str, Any], limit: int = 3
) -> list[dict[str, Any]]:
    """Up to ``limit`` recorded argument sets of one API, closest first, with what differs."""
    if limit <= 0:
        return []
    return [
        {"arguments": n.entry.arguments, "differs": list(n.differs)}
        for n in ranked_neighbours(backend, api, arguments)[:limit]
    ]
