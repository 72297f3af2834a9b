"""How fast the learned judge labels answers, against loading and rules alone (same run).

Judges every answer of ``../shared/data/judge-labels`` (4,437, 3,586 of them answered)
with the learned judge, several rounds, and reports answers per second: the whole
evaluation (load, rules, judge, aggregation) against the same evaluation where
every answered answer is labelled by a constant judge (the baseline: everything
but the learned judge's own work).

    python perf/learned_judge.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from toolsim.evaluator.judging.base import JudgeIdentity
from toolsim.evaluator.judging.learned.judge import LearnedJudge
from toolsim.evaluator.labels import Label, Verdict
from toolsim.evaluator.scoring.pass_rate import load_entries, pass_rate_of_entries

LABELS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "judge-labels"


class ConstantJudge:
    """Says Solved without looking: the cost of everything around a judge."""

    name = "constant"
    requests = failed = calls = cached = 0

    def identity(self) -> JudgeIdentity:
        return JudgeIdentity("constant", "constant", "none")

    async def verdict(self, answer, run):
        self.requests += 1
        return Verdict(Label.SOLVED, "constant", "constant")

    async def compare(self, query, first, second, run):
        return "tie", "constant"

    async def aclose(self) -> None:
        pass


async def timed(judge, entries) -> float:
    started = time.perf_counter()
    await pass_rate_of_entries(entries, 1, judge)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    entries, _ = load_entries([LABELS])
    answers = sum(len(s.answers) for entry in entries for s in entry.sets)
    learned, constant = [], []
    for _ in range(args.rounds):
        learned.append(asyncio.run(timed(LearnedJudge.load(), entries)))  # fresh: no memo
        constant.append(asyncio.run(timed(ConstantJudge(), entries)))
    median_learned, median_constant = statistics.median(learned), statistics.median(constant)
    print(f"{answers} answers, median of {args.rounds}")
    print(f"learned judge:  {median_learned:.2f} s, {answers / median_learned:,.0f} answers/s")
    print(f"constant judge: {median_constant:.2f} s, {answers / median_constant:,.0f} answers/s")
    print(f"ratio: {median_learned / median_constant:.1f}x the baseline's time")


if __name__ == "__main__":
    main()
