"""Solvable Win Rate: a candidate's answers against a reference's, query by query, round by round.

Each round r first takes both sides' pass-rate labels of run r (the pass rate is
evaluated first, through the same cached judge):

1. exactly one side Solved (both scored): it wins;
2. otherwise, neither side has an answer: a tie; exactly one has an answer: it wins;
3. otherwise the judge compares the two final answers, shown in an order shuffled
   deterministically per (group, query, round); "tie" is a tie, an unusable verdict
   makes the round unscored.

The win rate counts ties as non-wins and leaves unscored rounds out.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolsim.answers import Answer, query_order
from toolsim.errors import NoVerdict, UserError
from toolsim.evaluator.judging.base import Judge
from toolsim.evaluator.judging.llm import JudgeOptions
from toolsim.evaluator.labels import Label, Preference, Round, Verdict
from toolsim.evaluator.scoring.aggregate import count_labels, summarize, win_score
from toolsim.evaluator.scoring.pass_rate import (
    Entry,
    Progress,
    counters,
    load_entries,
    open_judge,
    pass_rate_of_entries,
    usage,
)
from toolsim.evaluator.scoring.results import WIN_LABELS, WinGroup, WinRateReport
from toolsim.settings import Settings

if TYPE_CHECKING:
    from toolsim.llm import ChatModel


def candidate_first(group: str, query_id: str, round_: int) -> bool:
    """Whether the candidate is shown as answer A in this round (seeded, so reproducible)."""
    return random.Random(f"{group}\0{query_id}\0{round_}").random() < 0.5


def rule_round(mine: Answer, theirs: Answer, my_label: Label, their_label: Label) -> Round | None:
    """The round's result when status alone decides it; None when the judge must compare."""
    scored = Label.UNSCORED not in (my_label, their_label)
    if scored and (my_label is Label.SOLVED) != (their_label is Label.SOLVED):
        won = my_label is Label.SOLVED
        return Round(
            Preference.WIN if won else Preference.LOSS, "only one side solved it", "solved"
        )
    if not mine.finished and not theirs.finished:
        return Round(Preference.TIE, "neither side gave an answer", "rule")
    if mine.finished != theirs.finished:
        won = mine.finished
        return Round(Preference.WIN if won else Preference.LOSS, "only one side answered", "rule")
    return None


async def judge_round(
    judge: Judge, group: str, mine: Answer, theirs: Answer, labels: tuple[Label, Label], run: int
) -> Round:
    """One round between the candidate (``mine``) and the reference (``theirs``)."""
    decided = rule_round(mine, theirs, *labels)
    if decided is not None:
        return decided
    first = candidate_first(group, mine.query_id, run)
    a, b = (mine, theirs) if first else (theirs, mine)
    try:
        choice, reason = await judge.compare(mine.query or theirs.query, a, b, run)
    except NoVerdict as exc:
        return Round(Preference.UNSCORED, exc.message, "judge")
    if choice == "tie":
        return Round(Preference.TIE, reason, "judge")
    won = (choice == "A") == first
    return Round(Preference.WIN if won else Preference.LOSS, reason, "judge")


def _one_label(entries: list[Entry], path: Path, side: str) -> Entry:
    if len(entries) != 1:
        labels = ", ".join(entry.label for entry in entries)
        raise UserError(f"{side} {path}: expected one set of answers, found several ({labels})")
    return entries[0]


async def evaluate_win_rate_async(
    candidate: Path,
    reference: Path,
    *,
    rounds: int = 3,
    settings: Settings | None = None,
    chat: ChatModel | None = None,
    options: JudgeOptions | None = None,
    progress: Progress | None = None,
    judge: Judge | None = None,
) -> WinRateReport:
    """How often ``candidate``'s answers beat ``reference``'s on the queries both answered.

    With the learned judge, a round both sides solved goes to the higher probability of
    "Solved" (equal probabilities tie).
    """
    if rounds < 1:
        raise UserError("--rounds must be at least 1")
    started = time.perf_counter()
    mine_entries, problems = load_entries([candidate])
    theirs_entries, their_problems = load_entries([reference])
    problems += their_problems
    mine = _one_label(mine_entries, candidate, "candidate")
    theirs = _one_label(theirs_entries, reference, "reference")
    if theirs.label == mine.label:
        theirs.label = f"{theirs.label} (reference)"
    judge, owned = open_judge(settings, chat, options, judge)
    try:
        before = counters(judge)
        passes = await pass_rate_of_entries([mine, theirs], rounds, judge, progress=progress)
        groups = await _compare_groups(judge, mine, theirs, passes, rounds, problems, progress)
        judge_usage = usage(judge, before)
    finally:
        if owned:
            await judge.aclose()
    if not groups:
        raise UserError(f"no query answered by both {mine.label} and {theirs.label}")
    labels = [_preferences(group.rounds) for group in groups.values()]
    return WinRateReport(
        candidate=mine.label,
        reference=theirs.label,
        rounds=rounds,
        groups=groups,
        overall=summarize(labels, rounds, win_score),
        counts={n: sum(g.counts[n] for g in groups.values()) for n in WIN_LABELS},
        judge=judge_usage,
        pass_rate=passes,
        problems=problems,
        seconds=time.perf_counter() - started,
    )


async def _compare_groups(
    judge: Judge,
    mine: Entry,
    theirs: Entry,
    passes: Any,
    rounds: int,
    problems: list[str],
    progress: Progress | None,
) -> dict[str, WinGroup]:
    my_sets = {s.group: s for s in mine.sets}
    their_sets = {s.group: s for s in theirs.sets}
    for group in sorted(set(my_sets) ^ set(their_sets)):
        side = mine.label if group in my_sets else theirs.label
        problems.append(f"group {group}: only {side} has answers; not compared")
    my_outcomes = {g: r.outcomes for g, r in passes.entry(mine.label).groups.items()}
    their_outcomes = {g: r.outcomes for g, r in passes.entry(theirs.label).groups.items()}
    jobs = []
    for group in sorted(set(my_sets) & set(their_sets)):
        mine_answers, their_answers = my_sets[group].answers, their_sets[group].answers
        only = set(mine_answers) ^ set(their_answers)
        if only:
            problems.append(
                f"group {group}: {len(only)} queries answered by one side only; not compared"
            )
        for qid in sorted(set(mine_answers) & set(their_answers), key=query_order):
            for run in range(rounds):
                pair: tuple[Verdict, Verdict] = (
                    my_outcomes[group][qid][run],
                    their_outcomes[group][qid][run],
                )
                jobs.append((group, qid, run, mine_answers[qid], their_answers[qid], pair))
    results: dict[str, dict[str, list[Any]]] = {}
    for group, qid, *_ in jobs:
        results.setdefault(group, {})[qid] = [None] * rounds
    done = 0

    async def one(group: str, qid: str, run: int, a: Answer, b: Answer, pair: Any) -> None:
        nonlocal done
        labels = (pair[0].label, pair[1].label)
        results[group][qid][run] = await judge_round(judge, group, a, b, labels, run)
        done += 1
        if progress is not None:
            progress(done, len(jobs))

    await asyncio.gather(*(one(*job) for job in jobs))
    groups = {}
    for group, by_query in results.items():
        labels = _preferences(by_query)
        groups[group] = WinGroup(
            group=group,
            rate=summarize([labels], rounds, win_score),
            counts=count_labels(labels, WIN_LABELS),
            rounds=by_query,
        )
    return groups


def _preferences(rounds: dict[str, list[Round]]) -> dict[str, list[Preference]]:
    return {qid: [item.preference for item in per_query] for qid, per_query in rounds.items()}


def evaluate_win_rate(candidate: Path, reference: Path, **options: Any) -> WinRateReport:
    """Blocking form of :func:`evaluate_win_rate_async`."""
    return asyncio.run(evaluate_win_rate_async(candidate, reference, **options))
