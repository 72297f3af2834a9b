"""The labels a query gets, and what each scores."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Label(StrEnum):
    """A query's status in one evaluation run."""

    SOLVED = "Solved"
    UNSURE = "Unsure"
    UNSOLVED = "Unsolved"
    #: No usable verdict (unparseable reply, failed request): excluded from rates.
    UNSCORED = "unscored"


#: Solved 1, Unsure half, Unsolved 0; unscored has no score.
#: Keyed by label; a plain string ("Solved") finds its label too (a StrEnum hashes as its value).
SCORES: dict[str, float] = {Label.SOLVED: 1.0, Label.UNSURE: 0.5, Label.UNSOLVED: 0.0}


class Preference(StrEnum):
    """The outcome of one win-rate round, from the candidate's side."""

    WIN = "win"
    LOSS = "loss"
    TIE = "tie"
    UNSCORED = "unscored"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A label with why it was given and by what (``rule``, ``answer``, ``trajectory``,
    ``learned``, ``known``)."""

    label: Label
    reason: str
    by: str
    #: The judge's probability of "Solved", when it has one (the learned judge).
    probability: float | None = None

    def to_json(self) -> dict[str, object]:
        """A plain-JSON form for reports."""
        data: dict[str, object] = {"label": self.label.value, "reason": self.reason, "by": self.by}
        if self.probability is not None:
            data["probability"] = round(self.probability, 4)
        return data


@dataclass(frozen=True, slots=True)
class Round:
    """One win-rate round: the outcome, why, and by what (``solved``, ``rule``, ``judge``)."""

    preference: Preference
    reason: str
    by: str

    def to_json(self) -> dict[str, str]:
        """A plain-JSON form for reports."""
        return {"preference": self.preference.value, "reason": self.reason, "by": self.by}
