"""``toolsim eval fidelity``: ask a simulator the recorded calls, compare with the records.

Each recorded call whose API the catalog knows is simulated once, alone: no cache,
no world and no recorded examples (which would show the simulator the answer), so
the figures measure the simulator itself. Per API and overall, each measure of
:mod:`toolsim.fidelity.measures` is the mean over calls where it is defined, with a
95% bootstrap interval over calls (seeded). A simulation that fails (timeout, no
valid reply) is what an agent would get as an error reply: it counts on the outcome
only (against a recorded success, a disagreement) and is listed. The report names
the simulator, its model and its prompt hash.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolsim.cache.entry import Reply
from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.catalog.catalog import Catalog
from toolsim.errors import ToolNotFound, ToolsimError
from toolsim.evaluator.statistics import bootstrap_ci
from toolsim.fidelity.measures import MEASURES, compare
from toolsim.fidelity.recorded import RecordedCall
from toolsim.simulator.base import SimulationRequest, Simulator


@dataclass
class Score:
    """One measure's mean over calls, its interval and how many calls defined it."""

    mean: float | None
    ci: tuple[float, float] | None
    n: int

    def to_json(self) -> dict[str, Any]:
        """The score as JSON data (rounded)."""
        return {
            "mean": None if self.mean is None else round(self.mean, 4),
            "ci95": None if self.ci is None else [round(self.ci[0], 4), round(self.ci[1], 4)],
            "n": self.n,
        }


def score(values: Sequence[float | None]) -> Score:
    """Mean and bootstrap interval of the defined values."""
    present = [value for value in values if value is not None]
    if not present:
        return Score(None, None, 0)
    return Score(sum(present) / len(present), bootstrap_ci([present]), len(present))


@dataclass
class FidelityReport:
    """Per call, per API and overall measures of one simulator against recorded replies."""

    simulator: str
    model: str = ""
    prompt_hash: str = ""
    recorded: int = 0
    compared: int = 0
    unknown_apis: int = 0
    failed: int = 0
    seconds: float = 0.0
    overall: dict[str, Score] = field(default_factory=dict)
    per_api: dict[str, dict[str, Score]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data."""
        return {
            "kind": "fidelity",
            "simulator": self.simulator,
            "model": self.model,
            "prompt_hash": self.prompt_hash,
            "recorded_calls": self.recorded,
            "compared": self.compared,
            "unknown_apis": self.unknown_apis,
            "simulator_failures": self.failed,
            "seconds": round(self.seconds, 1),
            "overall": {name: s.to_json() for name, s in self.overall.items()},
            "per_api": {
                api: {name: s.to_json() for name, s in scores.items()}
                for api, scores in sorted(self.per_api.items())
            },
            "calls": self.calls,
            "problems": self.problems,
        }


async def measure_fidelity(
    calls: Sequence[RecordedCall],
    catalog: Catalog,
    simulator: Simulator,
    *,
    limit: int | None = None,
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> FidelityReport:
    """Simulate each recorded call the catalog knows (the first ``limit``) and compare."""
    started = time.monotonic()
    report = FidelityReport(simulator=simulator.name, recorded=len(calls))
    known = []
    for call in calls:
        try:
            known.append((call, catalog.by_function(call.function)))
        except ToolNotFound:
            report.unknown_apis += 1
    if limit is not None:
        known = known[:limit]
    slots = asyncio.Semaphore(concurrency)
    done = 0

    async def one(call: RecordedCall, api: Any) -> dict[str, Any]:
        nonlocal done
        arguments = normalize_arguments(api, call.arguments)
        request = SimulationRequest(api=api, arguments=arguments, key=cache_key(api, arguments))
        async with slots:
            try:
                simulation = await simulator.simulate(request)
            except ToolsimError as exc:
                # The agent would get an error reply: it counts for the outcome, nothing else.
                report.failed += 1
                report.problems.append(f"{call.function} {arguments}: {exc.message}"[:300])
                failed = compare(call.reply, Reply(error=exc.message or "failed", response=""))
                return {
                    "function": call.function,
                    "arguments": arguments,
                    "origin": call.origin,
                    "simulator_failed": True,
                    **failed,
                }
            finally:
                done += 1
                if progress is not None:
                    progress(done, len(known))
        report.model = report.model or simulation.model
        report.prompt_hash = report.prompt_hash or simulation.prompt_hash
        return {
            "function": call.function,
            "arguments": arguments,
            "origin": call.origin,
            **compare(call.reply, simulation.reply),
        }

    report.calls = list(await asyncio.gather(*(one(call, api) for call, api in known)))
    report.compared = len(report.calls)
    by_api: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in report.calls:
        by_api[result["function"]].append(result)
    report.overall = {name: score([r[name] for r in report.calls]) for name in MEASURES}
    report.per_api = {
        api: {name: score([r[name] for r in rows]) for name in MEASURES}
        for api, rows in by_api.items()
    }
    report.seconds = time.monotonic() - started
    return report
