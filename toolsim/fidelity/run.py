"""``toolsim eval fidelity``: ask a simulator the recorded calls, compare with the records.

Each recorded call whose API the catalog knows is simulated once, alone: no cache,
no world and no prompt examples (which would show the simulator the answer), so
the figures measure the simulator itself. With ``leave_one_out`` a simulator that
adapts recorded replies (``exemplar_count`` > 0) is handed the *other* recorded
calls of the same API as exemplars, never the one being scored.

Every report scores, on the same calls, the baselines a reader needs to judge the
simulator's figures: a constant empty object, another recorded reply of the same
API, and a recorded reply of another API (both drawn with a seed per call). A
simulator figure is a *win* only when it beats every baseline on the same calls,
beyond noise: the 95% paired bootstrap interval of the difference is above 0.
Two scopes: every compared call, and the calls whose API has another recorded
reply (where every baseline, and leave-one-out adaptation, is defined).

Per API and overall, each measure of :mod:`toolsim.fidelity.measures` is the mean
over calls where it is defined, with a 95% bootstrap interval over calls (seeded);
BLEU-4 is one corpus score per scope (:mod:`toolsim.fidelity.scores`). A simulation
that fails (timeout, no valid reply) is what an agent would get as an error reply: it
is scored as one (against a recorded success, a disagreement and no data) and listed.
The report names the simulator, its model and its prompt hash, the split and the mode.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.cache.memory import MemoryBackend
from toolsim.catalog.catalog import Catalog
from toolsim.catalog.models import ApiSpec, api_id
from toolsim.errors import ToolNotFound, ToolsimError, UserError
from toolsim.fidelity.measures import bleu_available, bleu_stats, compare
from toolsim.fidelity.recorded import RecordedCall
from toolsim.fidelity.scores import (
    BASELINES,
    SCOPES,
    SIMULATOR,
    SPLITS,
    Score,
    scope_scores,
    summarize,
)
from toolsim.simulator.base import SimulationRequest, Simulator
from toolsim.simulator.exemplars import ExemplarStore


def in_test_split(function: str, share: float) -> bool:
    """Whether an API belongs to the frozen test part of a split (by a hash of its name)."""
    digest = hashlib.sha256(function.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


@dataclass
class FidelityReport:
    """Per call, per API and overall measures of one simulator against recorded replies."""

    simulator: str
    model: str = ""
    prompt_hash: str = ""
    leave_one_out: bool = False
    split: str = "all"
    test_share: float = 0.0
    bleu: bool = True
    recorded: int = 0
    compared: int = 0
    unknown_apis: int = 0
    failed: int = 0
    seconds: float = 0.0
    #: Per scope: ``{"n": calls, "rows": {method: {measure: Score}}, "wins": {measure: bool}}``.
    scopes: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_api: dict[str, dict[str, Score]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def overall(self) -> dict[str, Score]:
        """The simulator's scores over every compared call."""
        return self.scopes["all"]["rows"][SIMULATOR] if self.scopes else {}

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data."""
        return {
            "kind": "fidelity",
            "simulator": self.simulator,
            "model": self.model,
            "prompt_hash": self.prompt_hash,
            "leave_one_out": self.leave_one_out,
            "split": self.split,
            "test_share": self.test_share,
            "bleu": "sacrebleu BLEU-4, 13a, exp smoothing" if self.bleu else "sacrebleu missing",
            "recorded_calls": self.recorded,
            "compared": self.compared,
            "unknown_apis": self.unknown_apis,
            "simulator_failures": self.failed,
            "seconds": round(self.seconds, 1),
            "baselines": BASELINES,
            "overall": {name: s.to_json() for name, s in self.overall.items()},
            "scopes": {
                scope: {
                    "calls": SCOPES[scope],
                    "n": data["n"],
                    "rows": {
                        method: {name: s.to_json() for name, s in scores.items()}
                        for method, scores in data["rows"].items()
                    },
                    "wins": data["wins"],
                }
                for scope, data in self.scopes.items()
            },
            "per_api": {
                api: {name: s.to_json() for name, s in scores.items()}
                for api, scores in sorted(self.per_api.items())
            },
            "calls": self.calls,
            "problems": self.problems,
        }


@dataclass(frozen=True, slots=True)
class _Call:
    """A recorded call ready to score: its API, canonical arguments and cache key."""

    recorded: RecordedCall
    api: ApiSpec
    arguments: dict[str, Any]
    key: str


def _scored(recorded: Reply, answer: Reply) -> dict[str, Any]:
    return {**compare(recorded, answer), "bleu": bleu_stats(recorded, answer)}


def _known_calls(
    calls: Sequence[RecordedCall], catalog: Catalog, report: FidelityReport
) -> list[_Call]:
    """The calls of APIs the catalog knows, one per canonical call (the first recorded)."""
    known: dict[str, _Call] = {}
    for call in calls:
        try:
            api = catalog.by_function(call.function)
        except ToolNotFound:
            report.unknown_apis += 1
            continue
        arguments = normalize_arguments(api, call.arguments)
        key = cache_key(api, arguments)
        known.setdefault(key, _Call(call, api, arguments, key))
    return list(known.values())


def _exemplar_pool(calls: Sequence[_Call]) -> ExemplarStore:
    """Every recorded call as a stored exemplar, for leave-one-out adaptation."""
    pool = MemoryBackend()
    pool.put_many(
        (
            call.key,
            CacheEntry.of(call.api, call.arguments, call.recorded.reply, Source.RECORDED),
        )
        for call in calls
    )
    return ExemplarStore([pool], refresh_seconds=float("inf"))


def _baselines(call: _Call, by_api: dict[str, list[_Call]], everyone: list[_Call]) -> dict:
    """The baselines' answers to one call (None where one is undefined)."""
    rnd = random.Random(call.key)
    others = [other for other in by_api[call.api.function_name] if other.key != call.key]
    same = rnd.choice(others).recorded.reply if others else None
    elsewhere = None
    for _ in range(50):  # a few draws find another API unless nearly every call is one API's
        pick = everyone[rnd.randrange(len(everyone))]
        if pick.api.function_name != call.api.function_name:
            elsewhere = pick.recorded.reply
            break
    return {"empty": Reply(response={}), "same_api": same, "other_api": elsewhere}


async def measure_fidelity(
    calls: Sequence[RecordedCall],
    catalog: Catalog,
    simulator: Simulator,
    *,
    limit: int | None = None,
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
    leave_one_out: bool = False,
    split: str = "all",
    test_share: float = 0.2,
) -> FidelityReport:
    """Simulate each recorded call the catalog knows (the first ``limit``) and compare.

    ``split`` keeps only the APIs of one part of a fixed split by API name
    (``test``: the ``test_share`` of APIs :func:`in_test_split` puts there; ``tune``:
    the others), so design decisions can be tuned on one part and checked once on
    the other.
    """
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    started = time.monotonic()
    report = FidelityReport(
        simulator=simulator.name,
        recorded=len(calls),
        leave_one_out=leave_one_out,
        split=split,
        test_share=test_share if split != "all" else 0.0,
        bleu=bleu_available(),
    )
    population = _known_calls(calls, catalog, report)
    if split != "all":
        wanted = split == "test"
        population = [
            c for c in population if in_test_split(c.api.function_name, test_share) == wanted
        ]
    # Exemplars and baselines come from every recorded call of the split, ``limit`` or not.
    pool = _exemplar_pool(population) if leave_one_out else None
    by_api: dict[str, list[_Call]] = defaultdict(list)
    for call in population:
        by_api[call.api.function_name].append(call)
    known = population if limit is None else population[:limit]
    wanted_exemplars = getattr(simulator, "exemplar_count", 0) if pool is not None else 0
    slots = asyncio.Semaphore(concurrency)
    done = 0

    async def one(call: _Call) -> dict[str, Any]:
        nonlocal done
        exemplars: tuple[tuple[str, CacheEntry], ...] = ()
        if pool is not None and wanted_exemplars > 0:
            exemplars = pool.nearest(
                api_id(call.api), call.arguments, limit=wanted_exemplars, exclude=call.key
            )
        request = SimulationRequest(
            api=call.api, arguments=call.arguments, key=call.key, exemplars=exemplars
        )
        row: dict[str, Any] = {
            "function": call.api.function_name,
            "arguments": call.arguments,
            "origin": call.recorded.origin,
            "simulator_failed": False,
        }
        async with slots:
            try:
                simulation = await simulator.simulate(request)
                answer = simulation.reply
                report.model = report.model or simulation.model
                report.prompt_hash = report.prompt_hash or simulation.prompt_hash
            except ToolsimError as exc:
                # The agent would get an error reply: it counts for the outcome, nothing else.
                report.failed += 1
                report.problems.append(
                    f"{call.api.function_name} {call.arguments}: {exc.message}"[:300]
                )
                answer = Reply(error=exc.message or "failed", response="")
                row["simulator_failed"] = True
            finally:
                done += 1
                if progress is not None:
                    progress(done, len(known))
        recorded = call.recorded.reply
        row["scores"] = {SIMULATOR: _scored(recorded, answer)} | {
            name: None if reply is None else _scored(recorded, reply)
            for name, reply in _baselines(call, by_api, population).items()
        }
        return row

    report.calls = list(await asyncio.gather(*(one(call) for call in known)))
    report.compared = len(report.calls)
    with_other = [r for r in report.calls if r["scores"]["same_api"] is not None]
    report.scopes = {"all": scope_scores(report.calls), "with_other": scope_scores(with_other)}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in report.calls:
        grouped[result["function"]].append(result)
    report.per_api = {
        api: summarize(rows, SIMULATOR, bleu_interval=False) for api, rows in grouped.items()
    }
    report.seconds = time.monotonic() - started
    return report
