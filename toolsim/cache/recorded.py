"""Storing tool replies recorded in answer files (trajectories) as replay entries.

Each recorded call of an API the catalog knows is stored under its own cache key
with source ``recorded``: an identical call replays it exactly, and every other
call of that API may adapt it (it is an exemplar, see
:mod:`toolsim.simulator.exemplars`). Nothing else ever replays it: a recorded
reply is never served for a call that differs from the recorded one.

A reply that reports a transport failure (rate limit, no subscription, outage; see
:mod:`toolsim.cache.failures`) is skipped, and so is an error reply: neither is the
API's answer to the call. A stored reply that was already recorded (imported or
real) is kept; one that toolsim made up (simulated or adapted) is replaced by the
recorded truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from toolsim.cache.backend import CacheBackend
from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.failures import is_real_answer
from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.catalog.catalog import Catalog
from toolsim.errors import ToolNotFound

#: Problems kept in a report (the counts cover all of them).
MAX_PROBLEMS = 20


class RecordedReply(Protocol):
    """A call found in an answer file and the reply it got (see :mod:`toolsim.fidelity`)."""

    @property
    def function(self) -> str:
        """The function name the agent called."""
        ...

    @property
    def arguments(self) -> dict[str, Any]:
        """The arguments it sent."""
        ...

    @property
    def reply(self) -> Reply:
        """The reply it got."""
        ...

    @property
    def origin(self) -> str:
        """Where the call was found."""
        ...


@dataclass
class RecordedImport:
    """What storing recorded replies did."""

    calls: int = 0
    stored: int = 0
    kept: int = 0
    failures: int = 0
    unknown_apis: int = 0
    problems: list[str] = field(default_factory=list)


def store_recorded(
    backend: CacheBackend,
    calls: Iterable[RecordedReply],
    catalog: Catalog,
    observe: Callable[[list[tuple[str, CacheEntry]]], object] | None = None,
) -> RecordedImport:
    """Store every recorded reply of a known API under its call's key (see the module).

    ``observe`` is called with the entries just before they are stored (the world
    indexes them through it).
    """
    report = RecordedImport()
    pending: dict[str, CacheEntry] = {}
    for call in calls:
        report.calls += 1
        try:
            api = catalog.by_function(call.function)
        except ToolNotFound:
            report.unknown_apis += 1
            continue
        if call.reply.error or not is_real_answer(200, call.reply):
            report.failures += 1
            if len(report.problems) < MAX_PROBLEMS:
                shown = call.reply.error or str(call.reply.response)
                report.problems.append(f"{call.origin}: {call.function}: {shown[:120]!r}")
            continue
        arguments = normalize_arguments(api, call.arguments)
        key = cache_key(api, arguments)
        stored = pending.get(key) or backend.get(key)
        if stored is not None and stored.source.recorded:
            report.kept += 1
            continue
        pending[key] = CacheEntry.of(api, arguments, call.reply, Source.RECORDED)
    batch = list(pending.items())
    if observe is not None and batch:
        observe(batch)
    report.stored = backend.put_many(batch) if batch else 0
    return report
