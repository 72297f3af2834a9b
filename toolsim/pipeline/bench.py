"""``toolsim bench``: every agent x planner combination over a suite, evaluated and reported.

Each combination is an ordinary ``toolsim run`` folder under ``OUT/runs/<label>``,
so a bench resumes like a run: finished queries are skipped, and the agent's
model, the tools and the judge answer repeated requests from their caches.
Then one pass-rate evaluation covers every combination, each later combination
is compared with the first (win rate), and ``OUT/report.html`` shows it all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from toolsim import __version__
from toolsim.agent.actions import uses_local_model
from toolsim.agent.episode import AgentLimits
from toolsim.agent.runner import RunConfig, RunProgress, RunSummary, run_queries
from toolsim.budget import CostTable, parse_costs
from toolsim.errors import UserError
from toolsim.evaluator.judging.factory import create_judge
from toolsim.evaluator.labels import SCORES
from toolsim.evaluator.scoring.pass_rate import evaluate_pass_rate_async
from toolsim.evaluator.scoring.results import EntryResult, PassRateReport, WinRateReport
from toolsim.evaluator.scoring.win_rate import evaluate_win_rate_async
from toolsim.files import write_json_atomic
from toolsim.llm.local import acquire_local_server, local_model_options, release_local_server
from toolsim.pipeline.determinism import (
    DeterminismResult,
    compare,
    fingerprint,
    replay_folder,
    replay_settings,
)
from toolsim.pipeline.matrix import DEFAULT_COSTS, Combination, check_budget, combinations
from toolsim.pipeline.reports import write_bench_reports
from toolsim.runs import RunFolder
from toolsim.server.faults import load_profile
from toolsim.settings import Settings
from toolsim.world.check import ConsistencyReport, check_run

#: Where a bench keeps its combinations' run folders, under its output folder.
RUNS_FOLDER = "runs"


@dataclass
class BenchConfig:
    """What a bench runs; the defaults finish on the example suite on a 2-core laptop."""

    suite: Sequence[str] = ("example",)
    agents: Sequence[str] = ("cot",)
    planners: Sequence[str] = ("none", "btp")
    out: Path = Path("toolsim-bench")
    query_ids: Sequence[str] = ()
    budget: int | None = 20
    costs: CostTable = field(default_factory=lambda: parse_costs(DEFAULT_COSTS))
    experience: Path | None = None
    #: Judge runs per answer (pass rate) and rounds per comparison (win rate).
    runs: int = 1
    rounds: int = 1
    server: str | None = None
    concurrency: int | None = None
    limits: AgentLimits = field(default_factory=AgentLimits)
    query_timeout: float | None = 1800.0


class BenchProgress(Protocol):
    """Told how a bench advances (the CLI draws progress bars)."""

    def run_progress(self, combination: Combination) -> RunProgress:
        """The progress of one combination's run."""
        ...

    def judge_progress(self, what: str) -> Callable[[int, int], None]:
        """Called as ``(done, total)`` while the judge works on ``what``."""
        ...


@dataclass
class BenchResult:
    """Everything a bench produced."""

    out: Path
    combinations: list[Combination]
    runs: dict[str, RunSummary]
    pass_rate: PassRateReport
    win_rates: list[WinRateReport]
    files: list[Path]
    wall_seconds: float
    #: Per combination: model calls, tool calls, cost and query seconds over all its records.
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    determinism: DeterminismResult | None = None
    #: The judge model's re-sends after transient failures, and seconds waited for them.
    judge_retries: dict[str, Any] = field(default_factory=dict)
    #: Per combination: facts its agents saw more than once, and how many agreed.
    world: dict[str, ConsistencyReport] = field(default_factory=dict)
    #: The fault profile the in-process server injected (file, sha256, seed); None if off.
    faults: dict[str, Any] | None = None

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per combination: pass rate, budget metrics, win rate against the first."""
        wins = {report.candidate: report for report in self.win_rates}
        rows = []
        for combination in self.combinations:
            entry = self.pass_rate.entry(combination.label)
            run = self.runs[combination.label]
            totals = self.totals[combination.label]
            budget = entry.budget
            win = wins.get(combination.label)
            rows.append(
                {
                    "combination": combination.label,
                    "agent": combination.agent,
                    "planner": combination.planner,
                    "queries": run.total,
                    "pass_rate": entry.overall.to_json(),
                    "counts": entry.counts,
                    "budget": None if budget is None else budget.to_json(),
                    "win_rate": None if win is None else win.overall.to_json(),
                    "win_counts": None if win is None else win.counts,
                    **totals,
                    **efficiency(entry, self.pass_rate.runs, totals),
                }
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        """The ``bench.json`` document."""
        floor = self.pass_rate.noise_floor
        return {
            "kind": "bench",
            "format": 1,
            "toolsim": __version__,
            "out": str(self.out),
            "wall_seconds": round(self.wall_seconds, 1),
            "judge": self.pass_rate.judge.to_json(),
            "judge_retries": self.judge_retries,
            "noise_floor": None if floor is None else round(floor, 2),
            "combinations": self.summary_rows(),
            "determinism": None if self.determinism is None else self.determinism.to_json(),
            "world_consistency": {label: report.to_json() for label, report in self.world.items()},
            "faults": self.faults,
            "files": [str(path) for path in self.files],
        }


#: Limits for the embedded model, whose every step takes seconds on two cores: a chain of 4
#: steps, 16 model calls per DFSDT search and 256 tokens per step (its good replies are under
#: 250; a repetition loop otherwise runs on to the limit) keep the example suite to minutes.
EMBEDDED_LIMITS = {"max_steps": 4, "max_model_calls": 16, "max_tokens": 256}


#: The example queries a bench runs with the embedded agent model unless told otherwise: the
#: odd-numbered half, which still uses all six example tools, so the default bench finishes
#: in minutes on two cores (``--full`` runs all 20).
EMBEDDED_EXAMPLE_IDS = tuple(str(number) for number in range(1, 21, 2))


def bench_query_ids(
    settings: Settings, suite: Sequence[str], query_ids: Sequence[str], full: bool
) -> list[str]:
    """The queries to run: those asked for; else, for the example suite on the embedded
    model, :data:`EMBEDDED_EXAMPLE_IDS` (unless ``full``); else all."""
    if query_ids or full or list(suite) != ["example"] or not uses_local_model(settings):
        return list(query_ids)
    return list(EMBEDDED_EXAMPLE_IDS)


def bench_limits(
    settings: Settings, max_steps: int | None, width: int, max_model_calls: int | None
) -> AgentLimits:
    """The agents' limits: the reference's (12 steps, 200 calls), or smaller ones by default
    when the agent is the embedded model; explicit values always win."""
    reference = AgentLimits()
    local = uses_local_model(settings)
    steps = max_steps or (EMBEDDED_LIMITS["max_steps"] if local else reference.max_steps)
    calls = max_model_calls or (
        EMBEDDED_LIMITS["max_model_calls"] if local else reference.max_model_calls
    )
    tokens = EMBEDDED_LIMITS["max_tokens"] if local else reference.max_tokens
    return AgentLimits(max_steps=steps, width=width, max_model_calls=calls, max_tokens=tokens)


def efficiency(entry: EntryResult, runs: int, totals: dict[str, Any]) -> dict[str, Any]:
    """Solved queries (Unsure counts half, averaged over judge runs), solved queries per tool
    call (tool productivity) and cost per solved query; None where a divisor is 0."""
    solved = sum(SCORES[label] * entry.counts.get(label, 0) for label in SCORES) / max(runs, 1)
    calls, cost = totals.get("tool_calls", 0), totals.get("cost", 0)
    return {
        "solved_queries": round(solved, 2),
        "tool_productivity": round(solved / calls, 4) if calls else None,
        "cost_per_solved": round(cost / solved, 2) if solved else None,
    }


def record_totals(folder: Path) -> dict[str, Any]:
    """Model calls, tool calls, cost and query seconds summed over a run folder's records.

    Read from the records rather than this invocation's summary, so a resumed
    bench reports the whole run, not just the queries it finished this time.
    """
    run = RunFolder(folder)
    # Unreadable records are skipped here; the evaluation lists them.
    records = [record for group in run.groups() for record in run.read_records(group, []).values()]
    return {
        "model_calls": sum(record.model_calls for record in records),
        "model_retries": sum(record.model_retries for record in records),
        "model_retry_seconds": round(sum((r.model_retry_seconds for r in records), 0.0), 1),
        "tool_calls": sum(record.tool_calls for record in records),
        # Calls a fault profile failed on purpose (the server marks them source "fault").
        "tool_faults": sum(
            1 for record in records for call in record.calls if call.source == FAULT_SOURCE
        ),
        "cost": sum(record.cost for record in records),
        "query_seconds": round(sum((record.wall_seconds for record in records), 0.0), 1),
    }


#: The source the server gives a reply that a fault profile injected.
FAULT_SOURCE = "fault"


def fault_profile(config: BenchConfig, settings: Settings) -> dict[str, Any] | None:
    """The fault profile the bench's in-process server applied: file, sha256 and seed."""
    profile = settings.faults.profile
    if profile is None or config.server is not None:
        return None
    _, digest = load_profile(profile)
    return {"profile": str(profile), "sha256": digest, "seed": settings.faults.seed}


def world_consistency(folder: Path, label: str) -> ConsistencyReport:
    """How far the tool replies a combination's agents saw agreed with each other."""
    try:
        reports = check_run(folder)
    except UserError:  # no answers at all: nothing was seen, nothing contradicted
        return ConsistencyReport(label)
    return reports[0] if reports else ConsistencyReport(label)


def run_folder(out: Path, combination: Combination) -> Path:
    """Where one combination's run lives inside a bench folder."""
    return Path(out) / RUNS_FOLDER / combination.label


def run_config(config: BenchConfig, combination: Combination, out: Path) -> RunConfig:
    """The ``toolsim run`` configuration of one combination."""
    return RunConfig(
        queries=list(config.suite),
        out=run_folder(out, combination),
        agent=combination.agent,
        query_ids=list(config.query_ids),
        server=config.server,
        concurrency=config.concurrency,
        planner=combination.planner,
        experience=config.experience,
        budget=config.budget,
        costs=config.costs,
        query_timeout=config.query_timeout,
        limits=config.limits,
    )


async def run_combinations(
    config: BenchConfig,
    settings: Settings,
    out: Path,
    progress: BenchProgress | None = None,
) -> dict[str, RunSummary]:
    """Run (or resume) every combination into ``out/runs``; return their summaries."""
    summaries: dict[str, RunSummary] = {}
    for combination in combinations(config.agents, config.planners):
        summaries[combination.label] = await run_queries(
            run_config(config, combination, out),
            settings,
            progress=None if progress is None else progress.run_progress(combination),
        )
    return summaries


async def evaluate_combinations(
    config: BenchConfig,
    settings: Settings,
    out: Path,
    progress: BenchProgress | None = None,
    *,
    win_rates: bool = True,
    retries: dict[str, Any] | None = None,
) -> tuple[PassRateReport, list[WinRateReport]]:
    """Pass rate of every combination, and (``win_rates``) win rate of each against the first.

    ``retries``, when given, is filled with the judge model's retry counts.
    """
    chosen = combinations(config.agents, config.planners)
    folders = [run_folder(out, combination) for combination in chosen]
    judge = create_judge(settings)
    try:
        pass_rate = await evaluate_pass_rate_async(
            folders,
            runs=config.runs,
            judge=judge,
            progress=None if progress is None else progress.judge_progress("pass rate"),
        )
        wins = []
        for combination, folder in zip(chosen[1:], folders[1:], strict=True):
            if not win_rates:
                break
            wins.append(
                await evaluate_win_rate_async(
                    folder,
                    folders[0],
                    rounds=config.rounds,
                    judge=judge,
                    progress=None
                    if progress is None
                    else progress.judge_progress(f"{combination.label} vs {chosen[0].label}"),
                )
            )
    finally:
        if retries is not None:
            retries["model_retries"] = getattr(judge, "retries", 0)
            retries["model_retry_seconds"] = round(getattr(judge, "retry_seconds", 0.0), 1)
        await judge.aclose()
    return pass_rate, wins


async def run_bench(
    config: BenchConfig,
    settings: Settings,
    *,
    progress: BenchProgress | None = None,
    check_determinism: bool = False,
) -> BenchResult:
    """Run, evaluate and report every combination; see the module docstring.

    With ``check_determinism``, the bench is then replayed (see
    :mod:`toolsim.pipeline.determinism`) and ``result.determinism`` says how it went.
    """
    started = time.monotonic()
    chosen = combinations(config.agents, config.planners)  # fails fast on unknown names
    check_budget(config.planners, config.budget)
    out = Path(config.out)
    # One embedded model for the whole bench: without this hold, each combination's
    # run would stop it on finishing and the next would start it again.
    held = acquire_local_server(local_model_options(settings))
    try:
        runs = await run_combinations(config, settings, out, progress)
        judge_retries: dict[str, Any] = {}
        pass_rate, win_rates = await evaluate_combinations(
            config, settings, out, progress, retries=judge_retries
        )
        result = BenchResult(
            out=out,
            combinations=chosen,
            runs=runs,
            pass_rate=pass_rate,
            win_rates=win_rates,
            files=[],
            wall_seconds=time.monotonic() - started,
            totals={c.label: record_totals(run_folder(out, c)) for c in chosen},
            judge_retries=judge_retries,
            world={c.label: world_consistency(run_folder(out, c), c.label) for c in chosen},
            faults=fault_profile(config, settings),
        )
        result.files = write_bench_reports(result)
        if check_determinism:
            result.determinism = await replay_and_compare(config, settings, result, progress)
            write_json_atomic(out / "determinism.json", result.determinism.to_json())
            result.files.append(out / "determinism.json")
    finally:
        release_local_server(held)
    result.wall_seconds = time.monotonic() - started
    write_json_atomic(out / "bench.json", result.to_json())
    result.files.append(out / "bench.json")
    return result


async def replay_and_compare(
    config: BenchConfig,
    settings: Settings,
    result: BenchResult,
    progress: BenchProgress | None = None,
    replays: int = 2,
) -> DeterminismResult:
    """Run the bench ``replays`` more times in replay mode; compare each with the first run."""
    labels = [combination.label for combination in result.combinations]
    first = fingerprint(result.out / RUNS_FOLDER, labels, result.pass_rate)
    replay = replay_settings(settings)
    differences: list[str] = []
    for number in range(1, replays + 1):
        folder = replay_folder(result.out, number)
        await run_combinations(config, replay, folder, progress)
        pass_rate, _ = await evaluate_combinations(
            config, replay, folder, progress, win_rates=False
        )
        again = fingerprint(folder / RUNS_FOLDER, labels, pass_rate)
        differences += compare(first, again, f"replay {number}")
    return DeterminismResult(replays=replays, compared=len(first), differences=differences)
