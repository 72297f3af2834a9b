"""The one-line rule every judge is compared with: "answered, and no apology" is Solved.

It reads the final answer only and knows nothing of tools; a judge that cannot
beat it on the same items measures nothing. Registered as the ``rule`` judge,
so ``toolsim eval agreement --judge rule`` prints its figures.
"""

from __future__ import annotations

import re

from toolsim.answers import Answer
from toolsim.evaluator.judging.base import JudgeIdentity, OfflineJudge, resolution_of
from toolsim.evaluator.labels import Label, Verdict

_APOLOGY = re.compile(r"\b(sorry|apologi[sz]e|apologies|unfortunately)\b", re.IGNORECASE)


def rule_label(answer: Answer) -> str:
    """Solved when the answer finished and its final answer does not apologise."""
    if answer.finished and not _APOLOGY.search(answer.final_answer):
        return Label.SOLVED.value
    return Label.UNSOLVED.value


class RuleJudge(OfflineJudge):
    """The one-line rule as a judge (free, offline, deterministic)."""

    name = "rule"
    backend = "rule"

    def __init__(self) -> None:
        self.requests = 0
        self.failed = 0

    def identity(self) -> JudgeIdentity:
        """The rule's name, and its figures on the shipped learned judge's final test."""
        import json

        from toolsim.evaluator.judging.learned.files import shipped_files
        from toolsim.evaluator.judging.learned.judge import largest_error

        card = json.loads(shipped_files().card)
        final = (card.get("final_test") or {}).get("rule")
        agreement = None
        if final:
            answered = final["answered"]
            agreement = (
                f"{100 * answered['accuracy']:.1f}% (kappa {answered['kappa']:.2f}, "
                f"n={answered['n']}) on the learned judge's final test"
            )
        return JudgeIdentity(
            "rule",
            "answered and no apology",
            "rule v1",
            agreement,
            resolution_of(largest_error(card, "rule")),
        )

    async def verdict(self, answer: Answer, run: int) -> Verdict:
        """Solved unless the final answer apologises."""
        self.requests += 1
        label = Label(rule_label(answer))
        reason = "answered, no apology" if label is Label.SOLVED else "the answer apologises"
        return Verdict(label, reason, "rule")

    async def compare(self, query: str, first: Answer, second: Answer, run: int) -> tuple[str, str]:
        """The Solved one of the two; a tie when both or neither are."""
        a, b = rule_label(first) == "Solved", rule_label(second) == "Solved"
        if a == b:
            return "tie", "the rule cannot tell them apart"
        return ("A" if a else "B"), "only one answers without apology"
