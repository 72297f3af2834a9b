"""Solvable Pass Rate: rules first, then the judge on the final answer, then on the trajectory.

Per query and run: an answer that never reached Finish with ``give_answer`` (or
whose answer is empty) is Unsolved without asking the judge; otherwise the judge
labels the final answer, and an Unsure verdict is asked again with the whole
trajectory (its label is final; a second pass with no usable verdict is unscored).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolsim.answers import Answer, AnswerSet, load_answer_sets
from toolsim.errors import UserError
from toolsim.evaluator.judging.base import BatchJudge, Judge
from toolsim.evaluator.judging.factory import create_judge
from toolsim.evaluator.judging.llm import JudgeOptions, LLMJudge
from toolsim.evaluator.labels import Label, Verdict
from toolsim.evaluator.scoring.aggregate import count_labels, summarize
from toolsim.evaluator.scoring.budget_metrics import budget_metrics
from toolsim.evaluator.scoring.passk import pass_k_results
from toolsim.evaluator.scoring.results import (
    PASS_LABELS,
    EntryResult,
    GroupResult,
    JudgeUsage,
    PassRateReport,
)
from toolsim.evaluator.statistics import noise_floor
from toolsim.files import DamagedFiles
from toolsim.runs import QueryStatus, RunManifest
from toolsim.settings import Settings

if TYPE_CHECKING:
    from toolsim.llm import ChatModel

#: Called as ``progress(done, total)`` after each (query, run) is decided.
Progress = Callable[[int, int], None]


@dataclass
class Entry:
    """The answer sets of one folder, under a label unique in the evaluation."""

    label: str
    system: str
    source: str
    sets: list[AnswerSet]


def rule_verdict(answer: Answer) -> Verdict | None:
    """Decided without a judge: unscored after an infrastructure failure (the world failed the
    agent), Unsolved when the answer never finished; None when the judge must look."""
    if failed_infrastructure(answer):
        assert answer.record is not None
        return Verdict(Label.UNSCORED, f"infrastructure failure: {answer.record.error}", "rule")
    if answer.finished:
        return None
    if not answer.final_answer:
        return Verdict(
            Label.UNSOLVED, "no final answer (never reached Finish with an answer)", "rule"
        )
    return Verdict(Label.UNSOLVED, "gave up instead of giving an answer", "rule")


def failed_infrastructure(answer: Answer) -> bool:
    """Whether the run ended this query on an infrastructure failure (never scored)."""
    record = answer.record
    return record is not None and record.status is QueryStatus.INFRASTRUCTURE


def infrastructure_failures(entries: Sequence[Entry]) -> list[str]:
    """``label group:query_id: why`` for every answer ended by an infrastructure failure."""
    return [
        f"{entry.label} {answer_set.group}:{answer.query_id}: {answer.record.error}"
        for entry in entries
        for answer_set in entry.sets
        for answer in answer_set.answers.values()
        if answer.record is not None and failed_infrastructure(answer)
    ]


async def judge_answer(judge: Judge, answer: Answer, run: int) -> Verdict:
    """The label of one answer in one run: the rules first, then the judge."""
    decided = rule_verdict(answer)
    if decided is not None:
        return decided
    return await judge.verdict(answer, run)


def setup_of(manifest: RunManifest | None) -> dict[str, Any]:
    """How a run's answers were made, as its manifest says (empty without one)."""
    if manifest is None:
        return {}
    data = manifest.to_json()
    return {key: data[key] for key in SETUP_FIELDS if data.get(key) not in (None, {}, "")}


#: The manifest fields a report shows at its top.
SETUP_FIELDS = (
    "agent",
    "method",
    "agent_model",
    "prompt_hash",
    "action_mode",
    "planner",
    "budget",
    "costs",
    "limits",
    "simulator",
)


def system_of(answer_set: AnswerSet) -> str:
    """What identifies the agent behind a set: its run manifest's configuration, else its label."""
    manifest = answer_set.manifest
    if manifest is None:
        return answer_set.label
    parts = [manifest.agent_model or "?", manifest.method or "?"]
    if manifest.planner:
        parts.append(f"+{manifest.planner}")
    if manifest.budget is not None:
        parts.append(f"B={manifest.budget}")
    return " ".join(parts)


def load_entries(
    paths: Sequence[Path], damaged: DamagedFiles | None = None
) -> tuple[list[Entry], list[str]]:
    """One entry per label found under the paths, and the problems met reading them.

    A damaged file, or a path that holds no answers, is an error unless
    ``damaged`` skips such inputs (then each is listed in ``damaged.skipped``).

    Raises:
        UserError: an input that cannot be read (see above), or nothing at all to load.
    """
    damaged = damaged if damaged is not None else DamagedFiles()
    entries: dict[str, Entry] = {}
    problems: list[str] = []
    for path in paths:
        try:
            sets = load_answer_sets(Path(path), damaged)
        except UserError as exc:
            damaged.unusable(exc)
            continue
        by_label: dict[str, list[AnswerSet]] = defaultdict(list)
        for answer_set in sets:
            problems.extend(answer_set.problems)
            if answer_set.answers:
                by_label[answer_set.label].append(answer_set)
        for label, found in by_label.items():
            unique, number = label, 2
            while unique in entries:
                unique, number = f"{label}#{number}", number + 1
            source = found[0].source
            folder = source.parent if source and source.suffix == ".json" else source
            entries[unique] = Entry(unique, system_of(found[0]), str(folder), found)
    if not entries:
        reasons = problems + damaged.skipped
        raise UserError("no answers to evaluate: " + "; ".join(reasons or ["no paths given"]))
    return list(entries.values()), problems


async def judge_entries(
    entries: Sequence[Entry], runs: int, judge: Judge, *, progress: Progress | None = None
) -> dict[tuple[str, str], dict[str, list[Verdict]]]:
    """Every answer's outcome in every run, by (label, group) then query id."""
    jobs = [
        (entry.label, answer_set.group, answer, run)
        for entry in entries
        for answer_set in entry.sets
        for answer in answer_set.answers.values()
        for run in range(runs)
    ]
    results: dict[tuple[str, str], dict[str, list[Any]]] = defaultdict(dict)
    for label, group, answer, _run in jobs:
        results[(label, group)][answer.query_id] = [None] * runs
    done = 0

    async def one(label: str, group: str, answer: Answer, run: int) -> None:
        nonlocal done
        results[(label, group)][answer.query_id][run] = await judge_answer(judge, answer, run)
        done += 1
        if progress is not None:
            progress(done, len(jobs))

    if isinstance(judge, BatchJudge):  # the answers the rules leave to the judge, at once
        judge.prepare([job[2] for job in jobs if job[3] == 0 and rule_verdict(job[2]) is None])
    if progress is not None:
        progress(0, len(jobs))
    # The chat model limits real model calls itself; this only bounds tasks in flight.
    slots = asyncio.Semaphore(64)

    async def bounded(*job: Any) -> None:
        async with slots:
            await one(*job)

    await asyncio.gather(*(bounded(*job) for job in jobs))
    return results


def build_entry(
    entry: Entry, outcomes: dict[tuple[str, str], dict[str, list[Verdict]]], runs: int
) -> EntryResult:
    """Aggregate one entry's outcomes into per-group and overall rates."""
    groups: dict[str, GroupResult] = {}
    strata = []
    for answer_set in sorted(entry.sets, key=lambda s: s.group):
        by_query = outcomes[(entry.label, answer_set.group)]
        labels = {qid: [o.label for o in runs_] for qid, runs_ in by_query.items()}
        strata.append((answer_set.answers, labels))
        groups[answer_set.group] = GroupResult(
            group=answer_set.group,
            rate=summarize([labels], runs),
            counts=count_labels(labels, PASS_LABELS),
            outcomes=by_query,
            budget=budget_metrics([(answer_set.answers, labels)], runs),
            answers=answer_set.answers,
        )
    all_counts = {name: sum(g.counts[name] for g in groups.values()) for name in PASS_LABELS}
    return EntryResult(
        label=entry.label,
        system=entry.system,
        source=entry.source,
        groups=groups,
        overall=summarize([labels for _, labels in strata], runs),
        counts=all_counts,
        budget=budget_metrics(strata, runs),
        setup=setup_of(entry.sets[0].manifest),
    )


def counters(judge: Judge) -> tuple[int, int, int, int]:
    """The judge's running counts: requests, model calls, cache hits, failures."""
    return judge.requests, judge.calls, judge.cached, judge.failed


def usage(judge: Judge, since: tuple[int, int, int, int] = (0, 0, 0, 0)) -> JudgeUsage:
    """What the judge did since ``since`` (a :func:`counters` value)."""
    now = counters(judge)
    requests, calls, cached, failed = (
        after - before for after, before in zip(now, since, strict=True)
    )
    return JudgeUsage(judge.name, requests, calls, cached, failed, judge.identity())


def open_judge(
    settings: Settings | None,
    chat: ChatModel | None,
    options: JudgeOptions | None,
    judge: Judge | None = None,
) -> tuple[Judge, bool]:
    """``judge``; else an LLM judge over ``chat``; else the judge ``settings`` configure (then
    owned by the caller, who closes it).

    Raises:
        TypeError: none of the three is given.
    """
    if judge is not None:
        return judge, False
    if chat is not None:
        return LLMJudge(chat, options), False
    if settings is None:
        raise TypeError("give the settings of the judge to use, a judge, or a chat model")
    return create_judge(settings, options=options), True


async def pass_rate_of_entries(
    entries: Sequence[Entry], runs: int, judge: Judge, *, progress: Progress | None = None
) -> PassRateReport:
    """Judge and aggregate already loaded entries (shared by the win rate)."""
    if runs < 1:
        raise UserError("--runs must be at least 1")
    started = time.perf_counter()
    before = counters(judge)
    outcomes = await judge_entries(entries, runs, judge, progress=progress)
    results = [build_entry(entry, outcomes, runs) for entry in entries]
    return PassRateReport(
        runs=runs,
        entries=results,
        judge=usage(judge, before),
        pass_k=pass_k_results(results, runs),
        seconds=time.perf_counter() - started,
        noise_floor=noise_floor([entry.overall for entry in results]),
        infrastructure_failures=infrastructure_failures(entries),
    )


async def evaluate_pass_rate_async(
    answer_paths: Sequence[Path],
    *,
    runs: int = 3,
    settings: Settings | None = None,
    chat: ChatModel | None = None,
    options: JudgeOptions | None = None,
    progress: Progress | None = None,
    judge: Judge | None = None,
    skip_bad_files: bool = False,
) -> PassRateReport:
    """The Solvable Pass Rate of every answer folder under ``answer_paths``.

    ``judge`` (or an LLM judge over ``chat``) overrides the configured judge and
    is not closed here. A damaged answer file or record is an error naming it,
    unless ``skip_bad_files`` (then the report lists what was left out).
    """
    damaged = DamagedFiles(skip=skip_bad_files)
    entries, problems = load_entries(answer_paths, damaged)
    judge, owned = open_judge(settings, chat, options, judge)
    try:
        report = await pass_rate_of_entries(entries, runs, judge, progress=progress)
    finally:
        if owned:
            await judge.aclose()
    report.problems = problems
    report.skipped_files = damaged.skipped
    return report


def evaluate_pass_rate(answer_paths: Sequence[Path], **options: Any) -> PassRateReport:
    """Blocking form of :func:`evaluate_pass_rate_async`."""
    return asyncio.run(evaluate_pass_rate_async(answer_paths, **options))
