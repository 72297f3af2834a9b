"""Search -> details consistency on the example suite, with the world on and off.

For each pair of :mod:`toolsim.world.probe` (hotels, recipes, films, companies, ...),
on a fresh cache: call the search, then the details of its first item, and count
the shared facts (fields both have) that agree. Prints ``agreeing/total`` per pair
and overall, for the chosen simulator, with the world on and (as the baseline) off.

Usage: python scripts/world_consistency.py [--simulator schema|local] [--pairs hotel,film]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

import httpx

from toolsim.server import create_app
from toolsim.settings import Settings
from toolsim.world.probe import PAIRS, ProbeError, disagreements, shared_facts


async def probe(simulator: str, world: bool, labels: list[str], home: Path) -> dict[str, tuple]:
    """Run the pairs on a fresh cache; per pair (agreeing, shared, what disagreed)."""
    settings = Settings(home=home, tools=["example"], world=world, simulator={"backend": simulator})
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    results = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=900) as client:
        try:
            for pair in PAIRS:
                if labels and pair.label not in labels:
                    continue
                try:
                    shared = await shared_facts(client, pair)
                except ProbeError as exc:
                    results[pair.label] = (0, 0, str(exc)[:200])
                    continue
                wrong = disagreements(shared)
                results[pair.label] = (len(shared) - len(wrong), len(shared), wrong)
        finally:
            await app.state.service.simulator.aclose()
            app.state.service.backend.close()
    return results


async def main() -> None:
    """Both settings of the world for one simulator."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulator", default="schema")
    parser.add_argument("--pairs", default="", help="Comma-separated pair labels (default all)")
    options = parser.parse_args()
    labels = [label for label in options.pairs.split(",") if label]
    for world in (False, True):
        with tempfile.TemporaryDirectory() as home:
            results = await probe(options.simulator, world, labels, Path(home))
        agreeing = sum(r[0] for r in results.values())
        total = sum(r[1] for r in results.values())
        print(f"{options.simulator}, world {'on' if world else 'off'}: {agreeing}/{total} agree")
        for label, (good, count, wrong) in results.items():
            print(f"  {label:22} {good}/{count}  {wrong if wrong else ''}")


if __name__ == "__main__":
    asyncio.run(main())
