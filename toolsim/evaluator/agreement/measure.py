"""``toolsim eval agreement``: how often a judge agrees with reference labels, honestly counted.

The answers come from reference-labelled pass-rate result files (each path one
system). Every answer is judged through the ordinary pass-rate pipeline (rules
first, then the judge), and compared with the reference's majority label:
items whose reference runs have no majority, or whose majority is Unsure, are
left out and counted. Agreement is reported over all compared answers and
over those that reached a final answer (the part no rule decides), with the
confusion matrix, each system's pass rate judged vs reference and their rank
correlation, both judges' run-to-run agreement, and speed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolsim import __version__
from toolsim.answers import Answer, AnswerSet
from toolsim.errors import UserError
from toolsim.evaluator.judging.base import Judge
from toolsim.evaluator.labels import Label
from toolsim.evaluator.scoring.aggregate import summarize
from toolsim.evaluator.scoring.pass_rate import (
    Entry,
    Progress,
    load_entries,
    open_judge,
    pass_rate_of_entries,
)
from toolsim.evaluator.scoring.results import PassRateReport
from toolsim.evaluator.statistics import Agreement, agreement, majority, pairwise, spearman
from toolsim.settings import Settings

COMPARED = ("Solved", "Unsolved")


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled answer and what both judges said."""

    system: str
    group: str
    query_id: str
    answered: bool
    reference: tuple[str, ...]
    judged: tuple[str, ...]
    by: str
    probability: float | None
    #: The answer was in the judge's training data (a learned judge that says so).
    seen: bool

    @property
    def reference_label(self) -> str | None:
        """The reference's majority label."""
        return majority(self.reference)

    @property
    def judged_label(self) -> str:
        """The judge's majority over its runs ("no majority" when it has none)."""
        return majority(self.judged) or "no majority"


@dataclass(frozen=True, slots=True)
class SystemRate:
    """One system's pass rate as judged and as the reference labels give it."""

    system: str
    answers: int
    judged: float | None
    reference: float | None


@dataclass
class AgreementReport:
    """Everything ``toolsim eval agreement`` measured."""

    judge: dict[str, Any]
    runs: int
    items: list[Item]
    all: Agreement
    answered: Agreement
    #: Answered items the judge never trained on (a learned judge); None when it cannot tell.
    unseen_answered: Agreement | None
    #: Items left out of the comparison (the reference has no usable majority).
    excluded: dict[str, int]
    #: Compared items the judge left undecided (counted as disagreements), and seen ones.
    counted: dict[str, int]
    systems: list[SystemRate]
    spearman: float | None
    judge_runs: dict[str, Any]
    reference_runs: dict[str, Any]
    seconds: float
    sample: dict[str, Any] | None
    pass_rate: PassRateReport
    problems: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float | None:
        """Answers judged per second (judge and rules, every run)."""
        done = len(self.items) * self.runs
        return done / self.seconds if self.seconds > 0 else None

    def to_json(self) -> dict[str, Any]:
        """The ``agreement.json`` document."""

        def value(number: float | None, digits: int = 4) -> float | None:
            return None if number is None else round(number, digits)

        return {
            "kind": "agreement",
            "format": 1,
            "toolsim": __version__,
            "judge": self.judge,
            "runs": self.runs,
            "sample": self.sample,
            "accuracy": value(self.all.accuracy),
            "kappa": value(self.all.kappa),
            "answered_accuracy": value(self.answered.accuracy),
            "answered_kappa": value(self.answered.kappa),
            "spearman": value(self.spearman),
            "all": self.all.to_json(),
            "answered": self.answered.to_json(),
            "unseen_answered": None
            if self.unseen_answered is None
            else self.unseen_answered.to_json(),
            "excluded": self.excluded,
            "counted": self.counted,
            "systems": [
                {
                    "system": rate.system,
                    "answers": rate.answers,
                    "judged_pass_rate": value(rate.judged, 2),
                    "reference_pass_rate": value(rate.reference, 2),
                }
                for rate in self.systems
            ],
            "judge_run_to_run": self.judge_runs,
            "reference_run_to_run": self.reference_runs,
            "noise_floor": value(self.pass_rate.noise_floor, 2),
            "seconds": value(self.seconds, 3),
            "answers_per_second": value(self.per_second, 1),
            "problems": self.problems,
        }


def labelled_entries(paths: Sequence[Path]) -> tuple[list[Entry], list[str]]:
    """The answer sets under ``paths`` that carry reference labels, one entry per system.

    Raises:
        UserError: no answer under the paths has reference labels.
    """
    entries, problems = load_entries(paths)
    kept = _filter_entries(entries, lambda _key, answer: bool(answer.reference))
    labels = {entry.label for entry in kept}  # labels are unique (load_entries)
    problems.extend(
        f"{entry.source}: no reference labels ('is_solved'); left out"
        for entry in entries
        if entry.label not in labels
    )
    if not kept:
        raise UserError(
            "no reference-labelled answers: --labels takes StableToolBench pass-rate result "
            "files (with 'is_solved'), e.g. ../shared/data/judge-labels"
        )
    return kept, problems


def _filter_entries(
    entries: Sequence[Entry], keep: Callable[[tuple[str, str, str], Answer], bool]
) -> list[Entry]:
    """The entries with only the answers that ``keep((label, group, query_id), answer)``
    accepts, in order; sets and entries left empty are dropped."""
    kept = []
    for entry in entries:
        sets = []
        for answer_set in entry.sets:
            answers = {
                query_id: answer
                for query_id, answer in answer_set.answers.items()
                if keep((entry.label, answer_set.group, query_id), answer)
            }
            if answers:
                sets.append(
                    AnswerSet(
                        label=answer_set.label,
                        group=answer_set.group,
                        answers=answers,
                        manifest=answer_set.manifest,
                        source=answer_set.source,
                    )
                )
        if sets:
            kept.append(Entry(entry.label, entry.system, entry.source, sets))
    return kept


def sample_entries(entries: list[Entry], size: int, seed: int) -> list[Entry]:
    """``size`` answers drawn uniformly (seeded) from all entries, kept in their sets."""
    pool = [
        (entry.label, answer_set.group, query_id)
        for entry in entries
        for answer_set in entry.sets
        for query_id in answer_set.answers
    ]
    if size >= len(pool):
        return entries
    chosen = set(random.Random(seed).sample(pool, size))
    return _filter_entries(entries, lambda key, _answer: key in chosen)


def _items(entries: Sequence[Entry], report: PassRateReport, judge: Judge) -> list[Item]:
    seen = getattr(judge, "seen", None)
    items = []
    for entry in entries:
        result = report.entry(entry.label)
        for answer_set in entry.sets:
            outcomes = result.groups[answer_set.group].outcomes
            for query_id, answer in answer_set.answers.items():
                runs = outcomes[query_id]
                items.append(
                    Item(
                        system=entry.label,
                        group=answer_set.group,
                        query_id=query_id,
                        answered=answer.finished,
                        reference=answer.reference,
                        judged=tuple(outcome.label.value for outcome in runs),
                        by=runs[0].by,
                        probability=runs[0].probability,
                        seen=bool(seen(answer)) if seen is not None and answer.finished else False,
                    )
                )
    return items


def _runs_agreement(runs: list[tuple[str, ...]]) -> dict[str, Any]:
    accuracy, kappa, pairs = pairwise(runs)
    return {
        "pairs": pairs,
        "accuracy": None if accuracy is None else round(accuracy, 4),
        "kappa": None if kappa is None else round(kappa, 4),
    }


def _system_rates(entries: Sequence[Entry], report: PassRateReport) -> list[SystemRate]:
    rates = []
    for entry in entries:
        strata = [
            {q: [Label(label) for label in a.reference] for q, a in s.answers.items()}
            for s in entry.sets
        ]
        runs = max((len(a.reference) for s in entry.sets for a in s.answers.values()), default=1)
        result = report.entry(entry.label)
        rates.append(
            SystemRate(
                system=entry.label,
                answers=sum(len(s.answers) for s in entry.sets),
                judged=result.overall.mean,
                reference=summarize(strata, runs).mean,
            )
        )
    return rates


async def evaluate_agreement_async(
    label_paths: Sequence[Path],
    *,
    runs: int = 1,
    sample: int | None = None,
    seed: int = 0,
    settings: Settings | None = None,
    judge: Judge | None = None,
    progress: Progress | None = None,
) -> AgreementReport:
    """Judge every reference-labelled answer under ``label_paths`` and compare (module doc).

    ``sample`` judges that many answers drawn with ``seed`` instead of all of them.
    """
    if sample is not None and sample < 1:
        raise UserError("--sample must be at least 1")
    entries, problems = labelled_entries(label_paths)
    total = sum(len(s.answers) for entry in entries for s in entry.sets)
    if sample is not None:
        entries = sample_entries(entries, sample, seed)
    judge, owned = open_judge(settings, None, None, judge)
    try:
        report = await pass_rate_of_entries(entries, runs, judge, progress=progress)
        items = _items(entries, report, judge)
    finally:
        if owned:
            await judge.aclose()
    compared = [item for item in items if item.reference_label in COMPARED]
    answered = [item for item in compared if item.answered]
    learned = hasattr(judge, "seen")
    unseen = [item for item in answered if not item.seen]
    systems = _system_rates(entries, report)
    with_rates = [r for r in systems if r.judged is not None and r.reference is not None]

    def agree(chosen: list[Item], salt: int) -> Agreement:
        return agreement(
            [item.reference_label or "" for item in chosen],
            [item.judged_label for item in chosen],
            seed=seed + salt,
        )

    return AgreementReport(
        judge={**report.judge.to_json(), "name": judge.name},
        runs=runs,
        items=items,
        all=agree(compared, 0),
        answered=agree(answered, 1),
        unseen_answered=agree(unseen, 2) if learned else None,
        excluded={
            "reference_no_majority": sum(item.reference_label is None for item in items),
            "reference_unsure": sum(item.reference_label == "Unsure" for item in items),
        },
        counted={
            "judge_unsure": sum(item.judged_label == "Unsure" for item in compared),
            "judge_unscored": sum(item.judged_label == "unscored" for item in compared),
            "seen_in_training": sum(item.seen for item in answered),
        },
        systems=systems,
        spearman=spearman([r.judged for r in with_rates], [r.reference for r in with_rates]),  # type: ignore[misc]
        judge_runs={
            "all": _runs_agreement([item.judged for item in items]),
            "answered": _runs_agreement([item.judged for item in items if item.answered]),
        },
        reference_runs={
            "all": _runs_agreement([item.reference for item in items]),
            "answered": _runs_agreement([item.reference for item in items if item.answered]),
        },
        seconds=report.seconds,
        sample=None if sample is None else {"size": len(items), "of": total, "seed": seed},
        pass_rate=report,
        problems=problems,
    )


def evaluate_agreement(label_paths: Sequence[Path], **options: Any) -> AgreementReport:
    """Blocking form of :func:`evaluate_agreement_async`."""
    return asyncio.run(evaluate_agreement_async(label_paths, **options))
