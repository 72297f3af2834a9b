"""What a cache holds: entries by source and by API."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from toolsim.cache.backend import CacheBackend
from toolsim.catalog.models import ApiId


@dataclass(frozen=True, slots=True)
class CacheSummary:
    """Counts of stored entries."""

    entries: int
    by_source: Counter[str]
    by_api: Counter[ApiId]

    @property
    def apis(self) -> int:
        """Number of APIs with at least one entry."""
        return len(self.by_api)


def summarize(backend: CacheBackend) -> CacheSummary:
    """Count every entry of a backend by source and by API (reads every entry)."""
    by_source: Counter[str] = Counter()
    by_api: Counter[ApiId] = Counter()
    for _key, entry in backend.items():
        by_source[entry.source.value] += 1
        by_api[(entry.category, entry.tool, entry.api)] += 1
    return CacheSummary(sum(by_source.values()), by_source, by_api)
