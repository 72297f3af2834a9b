"""The world's cost: time added to a cache miss (aim: under 2 ms), and nothing added to a hit.

In one process, a :class:`ToolService` on a fresh store (diskcache by default,
``--redis URL`` for Redis) with the deterministic schema simulator (so the
simulator itself costs little and the world's share shows), driven directly
(no HTTP: the server's own overhead is the same with and without the world):

* **misses**: ``--pairs`` search -> details pairs over the example suite's
  four pair APIs (hotels, recipes, films, companies), every call never seen
  before, with the world on and, as the baseline, off (``world=None``), in
  alternating rounds on fresh stores. Reported: median and p90 per miss of each,
  and the difference. The world's own steps (looking up the known entities,
  reconciling, writing the entities) are also timed alone, around the exact
  functions the service calls.
* **hits**: the same calls again, all hits, world on vs off, read from the store
  (in-process memory off) and from memory (the default); on the world's store also
  with the world detached from the service; and the number of world-store reads and
  writes during hits (counted on the backend: must be 0).

Timings on a shared 2-core machine are noisy: read the medians and the ratios.

Usage: python perf/world_cost.py [--pairs 200] [--rounds 3] [--redis redis://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from toolsim.cache.backend import open_backend
from toolsim.catalog import Catalog
from toolsim.server.service import ToolService
from toolsim.simulator.schema import SchemaSimulator
from toolsim.world import World, prepare, settle
from toolsim.world import store as world_store

PAIRS = (
    (
        "search_hotels_for_tripnest_hotels",
        "city",
        "hotels",
        "id",
        "hotel_details_for_tripnest_hotels",
        "hotel_id",
    ),
    (
        "searchrecipes_for_open_recipes_hub",
        "query",
        "results",
        "id",
        "getrecipedetails_for_open_recipes_hub",
        "recipe_id",
    ),
    (
        "search_movies_for_reelradar",
        "title",
        "results",
        "id",
        "movie_details_for_reelradar",
        "movie_id",
    ),
    (
        "stock_quote_for_market_pulse",
        "symbol",
        "",
        "symbol",
        "company_profile_for_market_pulse",
        "symbol",
    ),
)
EXTRA = {"search_hotels_for_tripnest_hotels": {"check_in": "2025-06-01", "check_out": "2025-06-03"}}


class Counting:
    """The backend, with its world-record reads and writes counted."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.world_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def __len__(self) -> int:
        return len(self._backend)

    def records_get(self, *args: Any) -> Any:
        self.world_calls += 1
        return self._backend.records_get(*args)

    def records_merge(self, *args: Any) -> Any:
        self.world_calls += 1
        return self._backend.records_merge(*args)


class Timed:
    """Wraps the world's three steps on a miss and sums their time."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def install(self) -> None:
        import toolsim.server.service as service

        def timed(function: Any) -> Any:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    self.seconds.append(time.perf_counter() - started)

            return wrapper

        service.prepare = timed(prepare)
        service.settle = timed(settle)
        World.observe = timed(world_store.World.observe)  # type: ignore[method-assign]


async def one_round(
    catalog: Catalog, url: str, home: Path, pairs: int, world_on: bool, tag: str
) -> dict:
    backend = Counting(open_backend(url, home))
    service = ToolService(
        catalog,
        backend,
        SchemaSimulator(),
        world=World(backend) if world_on else None,  # type: ignore[arg-type]
    )
    service._memory_entries = 0  # every hit reads the store, as after a restart
    miss_times, calls = [], []
    for n in range(pairs):
        search, argument, items, item_id, details, parameter = PAIRS[n % len(PAIRS)]
        arguments = {argument: f"{tag}-{n}", **EXTRA.get(search, {})}
        api = catalog.by_function(search)
        started = time.perf_counter()
        found = await service.call(api, arguments)
        miss_times.append(time.perf_counter() - started)
        response = found.reply.response
        item = response[items][0] if items else response
        second = (catalog.by_function(details), {parameter: item[item_id]})
        started = time.perf_counter()
        await service.call(*second)
        miss_times.append(time.perf_counter() - started)
        calls += [(api, arguments), second]
    before = backend.world_calls
    hit_times = await _hits(service, calls)
    hit_world_calls = backend.world_calls - before
    # The same store, the world detached: a difference from "on" would be work a hit does
    # for the world (there is none); a difference from "off" comes from the store's size.
    service.world = None
    detached = await _hits(service, calls)
    service._memory_entries = 10_000  # the default: hot replies in process memory
    await _hits(service, calls)
    memory = await _hits(service, calls)
    backend.close()
    return {
        "miss": miss_times,
        "hit": hit_times,
        "hit_detached": detached,
        "hit_memory": memory,
        "hit_world_calls": hit_world_calls,
    }


async def _hits(service: ToolService, calls: list) -> list[float]:
    times = []
    for api, arguments in calls:
        started = time.perf_counter()
        result = await service.call(api, arguments)
        times.append(time.perf_counter() - started)
        assert result.cached
    return times


def _ms(values: list[float], q: float = 0.5) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default=None, help="A Redis URL (default: diskcache)")
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    catalog = Catalog.from_paths(["example"])
    timed = Timed()
    timed.install()
    results: dict[str, dict[str, list]] = {"on": {}, "off": {}}
    hit_world_calls = 0
    with tempfile.TemporaryDirectory() as folder:
        for number in range(options.rounds):
            order = ("off", "on") if number % 2 == 0 else ("on", "off")
            for mode in order:
                tag = f"r{number}{mode}"
                url = (
                    options.redis + f"?prefix=bench-{tag}-{time.time_ns()}"
                    if options.redis
                    else f"disk://{folder}/{tag}"
                )
                measured = await one_round(
                    catalog, url, Path(folder), options.pairs, mode == "on", tag
                )
                for name in ("miss", "hit", "hit_detached", "hit_memory"):
                    results[mode].setdefault(name, []).extend(measured[name])
                hit_world_calls += measured["hit_world_calls"] if mode == "on" else 0
    summary = {
        "store": "redis" if options.redis else "diskcache",
        "misses_per_mode": len(results["on"]["miss"]),
        "miss_median_ms": {mode: round(_ms(results[mode]["miss"]), 3) for mode in results},
        "miss_p90_ms": {mode: round(_ms(results[mode]["miss"], 0.9), 3) for mode in results},
        "hit_store_median_ms": {mode: round(_ms(results[mode]["hit"]), 4) for mode in results},
        "hit_store_world_detached_median_ms": round(_ms(results["on"]["hit_detached"]), 4),
        "hit_memory_median_ms": {
            mode: round(_ms(results[mode]["hit_memory"]), 4) for mode in results
        },
        "world_steps_per_miss_median_ms": round(
            1000
            * statistics.median(
                sum(timed.seconds[i : i + 3]) for i in range(0, len(timed.seconds) - 2, 3)
            ),
            3,
        ),
        "hit_world_store_calls": hit_world_calls,
    }
    summary["miss_added_median_ms"] = round(
        summary["miss_median_ms"]["on"] - summary["miss_median_ms"]["off"], 3
    )
    stored, memory = summary["hit_store_median_ms"], summary["hit_memory_median_ms"]
    summary["hit_store_ratio_on_vs_off"] = round(stored["on"] / stored["off"], 3)
    summary["hit_store_ratio_on_vs_detached"] = round(
        stored["on"] / summary["hit_store_world_detached_median_ms"], 3
    )
    summary["hit_memory_ratio_on_vs_off"] = round(memory["on"] / memory["off"], 3)
    print(json.dumps(summary, indent=2))
    if options.json:
        options.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
