"""What numbering fault draws on the shared store costs a call, against numbering them in-process.

A fault profile's draw for a call depends on how many times the call was seen
before. Numbering those occurrences on the cache store (one atomic tally per
call: a SQLite transaction, or a Redis INCR + PEXPIRE) makes every worker and
replica draw alike; numbering them in the process costs a dict update. Measured
in one process, on a :class:`ToolService` driven directly (no HTTP: the server's
own cost is the same in all three), over calls that are all cache hits answered
from process memory (the cheapest path, where an added cost shows most), with a
profile that injects nothing (rates 0, no latency), so only the draw and its
numbering are added:

* **no profile**: the baseline (hits as without faults);
* **per process**: the profile, occurrences numbered in a dict;
* **shared**: the profile, occurrences numbered on the store (toolsim's default).

Alternating rounds on fresh stores; reported: the median and p90 per call of
each, and the shared numbering's added microseconds per call. Timings on a
shared 2-core machine are noisy: read the medians and the ratios.

Usage: python perf/fault_counts.py [--calls 2000] [--rounds 5] [--redis redis://...]
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

from toolsim.cache.backend import open_backend
from toolsim.catalog import Catalog
from toolsim.server.faults import FaultInjector, FaultProfile, LocalOccurrences, occurrences_on
from toolsim.server.service import ToolService
from toolsim.simulator.schema import SchemaSimulator

API = "current_weather_for_skycast_weather"
VARIANTS = ("no profile", "per process", "shared")


async def one_round(catalog: Catalog, url: str, home: Path, calls: int, variant: str) -> list:
    backend = open_backend(url, home)
    injector = None
    if variant != "no profile":
        injector = FaultInjector(FaultProfile(), seed=1, sha256="0" * 64, session=variant)
        injector.occurrences = (
            occurrences_on(backend, injector.namespace())
            if variant == "shared"
            else LocalOccurrences()
        )
    service = ToolService(catalog, backend, SchemaSimulator(), faults=injector)
    api = catalog.by_function(API)
    arguments = [{"city": f"city {n}"} for n in range(calls)]
    for each in arguments:  # misses: fill the store and process memory
        await service.call(api, each)
    times = []
    for each in arguments:
        started = time.perf_counter()
        result = await service.call(api, each)
        times.append(time.perf_counter() - started)
        assert result.cached
    backend.close()
    return times


def _us(values: list[float], q: float = 0.5) -> float:
    ordered = sorted(values)
    return 1e6 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis", default=None, help="A Redis URL (default: diskcache)")
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    catalog = Catalog.from_paths(["example"])
    medians: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    p90s: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    with tempfile.TemporaryDirectory() as folder:
        for n in range(options.rounds):
            for variant in VARIANTS:
                home = Path(folder) / f"{n}-{variant.replace(' ', '-')}"
                url = options.redis or f"disk://{home}"
                if options.redis:
                    url = f"{options.redis}?prefix=perf-faults-{n}-{variant.replace(' ', '-')}"
                times = await one_round(catalog, url, home, options.calls, variant)
                medians[variant].append(_us(times))
                p90s[variant].append(_us(times, 0.9))
    summary = {
        variant: {
            "median_us": statistics.median(medians[variant]),
            "p90_us": statistics.median(p90s[variant]),
        }
        for variant in VARIANTS
    }
    base = summary["no profile"]["median_us"]
    added = summary["shared"]["median_us"] - summary["per process"]["median_us"]
    store = "redis" if options.redis else "diskcache"
    print(f"{options.calls} hits x {options.rounds} rounds, store {store}, one process")
    for variant, row in summary.items():
        ratio = row["median_us"] / base
        print(
            f"  {variant:12} median {row['median_us']:8.1f} µs  p90 {row['p90_us']:8.1f} µs"
            f"  ({ratio:.2f}x no profile)"
        )
    print(f"  shared numbering adds {added:.1f} µs per call over per-process numbering")
    if options.json:
        options.json.write_text(json.dumps({"store": store, "summary": summary}, indent=2))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
