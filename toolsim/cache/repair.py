"""``toolsim cache repair``: a damaged diskcache folder rebuilt from what is readable.

The damaged folder is never changed: its entries are salvaged from a copy
(:mod:`toolsim.cache.salvage`) into a new folder, which then takes its place;
the damaged one is kept beside it as ``<name>.damaged-<UTC time>``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from toolsim.cache.disk import DiskBackend
from toolsim.cache.entry import CacheEntry
from toolsim.cache.salvage import Salvaged, salvage_copy

#: Called with the new backend and the salvaged entries, oldest first (to rebuild the world).
Rebuild = Callable[[DiskBackend, list[tuple[str, CacheEntry]]], object]


@dataclass(frozen=True)
class Repair:
    """What a repair did."""

    salvaged: Salvaged
    #: Where the damaged folder now is (for a closer look, or to delete by hand).
    kept: Path


def repair_disk_cache(folder: Path, rebuild: Rebuild | None = None) -> Repair:
    """Salvage ``folder``'s readable entries into a new folder that takes its place.

    No server may use the folder meanwhile. Until the final swap ``folder`` is
    untouched, so an interrupted repair loses nothing.
    """
    found = salvage_copy(folder)
    entries = found.ordered()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    fresh = folder.with_name(f".{folder.name}.repairing-{stamp}")
    kept = folder.with_name(f"{folder.name}.damaged-{stamp}")
    try:
        backend = DiskBackend(fresh)
        try:
            backend.put_many(entries)
            if rebuild is not None:
                rebuild(backend, entries)
        finally:
            backend.close()
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    folder.rename(kept)
    fresh.rename(folder)
    return Repair(salvaged=found, kept=kept)
