"""Exemplar adaptation's cost per miss (aim: median under 5 ms), against the schema simulator.

In one process, a :class:`ToolService` on a fresh diskcache store with the world on,
driven directly (no HTTP), answers misses on APIs that have recorded replies:

* the store holds the recorded replies of the shared judge-label trajectories
  (``../shared/data/judge-labels``, imported the way ``toolsim cache import`` does),
  or, without ``../shared``, the example suite's bundled recorded replies;
* each miss is a recorded call with every text argument changed (``Oslo`` ->
  ``Oslo 2``), so it is never a hit and always has exemplars to adapt;
* the same misses are answered by the ``exemplar`` simulator and, as the baseline,
  by the ``schema`` simulator (which needs no store read), in alternating rounds on
  fresh stores.

Reported: median and p90 per miss of each (the whole miss: exemplar lookup, world,
store write), their ratio, and the exemplar simulator's own step (nearest recorded
replies + adaptation) timed alone. Timings on a shared 2-core machine are noisy:
read the medians and the ratio.

Usage: python perf/exemplar_misses.py [--misses 400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from toolsim.cache.backend import open_backend
from toolsim.cache.recorded import store_recorded
from toolsim.catalog import Catalog
from toolsim.catalog.models import ParamType, api_id
from toolsim.errors import InvalidArguments
from toolsim.fidelity.recorded import read_recorded
from toolsim.server.service import ToolService
from toolsim.simulator.adapt import adapt_response
from toolsim.simulator.exemplar import EXEMPLAR_COUNT, ExemplarSimulator
from toolsim.simulator.exemplars import ExemplarStore, bundled_exemplars
from toolsim.simulator.schema import SchemaSimulator
from toolsim.world import World

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def _changed(api: Any, arguments: dict[str, Any]) -> dict[str, Any] | None:
    """The call with every text argument of a STRING parameter changed; None if invalid."""
    strings = {p.name for p in api.parameters if p.type is ParamType.STRING}
    changed = {
        k: f"{v} 2" if k in strings and isinstance(v, str) else v for k, v in arguments.items()
    }
    try:
        api.signature.validated(changed, api.name, api.function_name)
    except InvalidArguments:
        return None
    return changed if changed != arguments else None


def workload(limit: int) -> tuple[Catalog, list[Any], str]:
    """The catalog, the recorded replies to store, and what they are."""
    queries = SHARED / "stabletoolbench" / "solvable_queries" / "test_instruction"
    if queries.is_dir():
        catalog = Catalog.from_paths([str(queries)])
        calls = list(read_recorded([SHARED / "judge-labels"]).calls.values())
        return catalog, calls, "judge-label trajectories, shared query groups"
    catalog = Catalog.from_paths(["example"])
    [backend] = bundled_exemplars(catalog)
    calls = [
        _Recorded(catalog.get((e.category, e.tool, e.api)).function_name, e.arguments, e.reply)
        for _key, e in backend.items()
    ]
    return catalog, calls, "the example suite's recorded replies (no ../shared)"


class _Recorded:
    def __init__(self, function: str, arguments: dict[str, Any], reply: Any) -> None:
        self.function, self.arguments, self.reply, self.origin = function, arguments, reply, "x"


async def one_round(
    catalog: Catalog, calls: list[Any], misses: list[Any], simulator: Any
) -> list[float]:
    """Seconds per miss on a fresh store holding the recorded replies."""
    with tempfile.TemporaryDirectory() as home:
        backend = open_backend(None, Path(home))
        try:
            store_recorded(backend, calls, catalog)
            service = ToolService(
                catalog,
                backend,
                simulator,
                world=World(backend),  # type: ignore[arg-type]
                exemplars=ExemplarStore([backend]),
            )
            times = []
            for api, arguments in misses:
                started = time.perf_counter()
                result = await service.call(api, arguments)
                times.append(time.perf_counter() - started)
                assert not result.cached
            return times
        finally:
            backend.close()


def adaptation_alone(catalog: Catalog, calls: list[Any], misses: list[Any]) -> list[float]:
    """Seconds per miss of the exemplar simulator's own step: nearest replies, adaptation."""
    with tempfile.TemporaryDirectory() as home:
        backend = open_backend(None, Path(home))
        try:
            store_recorded(backend, calls, catalog)
            exemplars = ExemplarStore([backend])
            times = []
            for api, arguments in misses:
                started = time.perf_counter()
                nearest = exemplars.nearest(api_id(api), arguments, limit=EXEMPLAR_COUNT)
                key, entry = nearest[0]
                adapt_response(entry.reply.response, entry.arguments, arguments, key)
                times.append(time.perf_counter() - started)
            return times
        finally:
            backend.close()


def _ms(values: list[float], q: float) -> float:
    return 1000 * statistics.quantiles(values, n=100)[int(q * 100) - 1] if q < 1 else max(values)


async def main() -> int:
    """Run the rounds and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    catalog, calls, what = workload(options.misses)
    with tempfile.TemporaryDirectory() as home:
        probe = open_backend(None, Path(home))
        report = store_recorded(probe, calls, catalog)
        exemplars = ExemplarStore([probe])
        misses = []
        for _key, entry in probe.items():
            api = catalog.get((entry.category, entry.tool, entry.api))
            changed = _changed(api, entry.arguments)
            if changed is not None and exemplars.nearest(api_id(api), changed, limit=1):
                misses.append((api, changed))
        probe.close()
    misses = misses[: options.misses]
    print(f"{report.stored} recorded replies of {what}; {len(misses)} misses per round")
    results: dict[str, list[float]] = {"exemplar": [], "schema": []}
    for _round in range(options.rounds):
        results["exemplar"] += await one_round(catalog, calls, misses, ExemplarSimulator())
        results["schema"] += await one_round(catalog, calls, misses, SchemaSimulator())
    alone = adaptation_alone(catalog, calls, misses)
    median = {name: 1000 * statistics.median(times) for name, times in results.items()}
    for name, times in results.items():
        print(f"{name:9} miss: median {median[name]:.2f} ms, p90 {_ms(times, 0.9):.2f} ms")
    print(f"exemplar / schema (medians): {median['exemplar'] / median['schema']:.2f}")
    print(
        f"exemplar step alone (nearest + adapt): median {1000 * statistics.median(alone):.2f} ms,"
        f" p90 {_ms(alone, 0.9):.2f} ms"
    )
    met = median["exemplar"] <= 5.0
    print(f"aim (median miss with exemplar adaptation <= 5 ms): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
