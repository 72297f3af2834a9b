"""Feeding the world from a whole cache (``toolsim world rebuild``)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

from toolsim.world.store import World

#: Stored replies indexed per write.
BATCH = 500


def feed_all(world: World, progress: Callable[[int], None] | None = None) -> int:
    """Feed every stored reply of the world's backend to it; return how many were read.

    Safe to repeat: a fact already known is never written again.
    """
    items = world.backend.items()  # type: ignore[attr-defined]
    total = 0
    while batch := list(islice(items, BATCH)):
        world.observe_many(batch)
        total += len(batch)
        if progress is not None:
            progress(len(batch))
    return total
