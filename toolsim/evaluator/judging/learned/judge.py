"""The learned judge: known verdicts first, then a LightGBM model's probability of "Solved".

It judges from toolsim's normalised answer alone, makes no model call and
needs no network, and is deterministic: every run gives the same verdict.
Its files (``toolsim judge train`` writes them; one ships with toolsim) are
read through :mod:`toolsim.evaluator.judging.learned.files`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toolsim.answers import Answer
from toolsim.errors import UserError
from toolsim.evaluator.judging.base import JudgeIdentity
from toolsim.evaluator.judging.learned.features import feature_row, vocabulary_of
from toolsim.evaluator.judging.learned.files import (
    JudgeFiles,
    model_hash,
    read_files,
    shipped_files,
)
from toolsim.evaluator.judging.learned.known import NO_MAJORITY, answer_key, load_known
from toolsim.evaluator.judging.learned.verdicts import UNSURE_BAND, label_of
from toolsim.evaluator.labels import Label, Verdict

#: Probabilities kept per judge, so repeated runs and comparisons compute each answer once.
_MEMO_LIMIT = 100_000


def summary(card: dict[str, Any]) -> str | None:
    """The cross-validated agreement of a model card, in words."""
    splits = card.get("cross_validation") or {}
    parts = []
    for split, title in (("method", "held-out methods"), ("query", "held-out queries")):
        answered = (splits.get(split) or {}).get("answered") or {}
        if answered.get("accuracy") is not None:
            parts.append(
                f"{title} {100 * answered['accuracy']:.1f}% (kappa {answered['kappa']:.2f}, "
                f"n={answered['n']})"
            )
    if not parts:
        return None
    reference = card.get("reference") or "the training labels"
    return ", ".join(parts) + f" on answered items vs {reference} (cross-validated)"


class LearnedJudge:
    """A free, offline, deterministic judge trained to agree with a reference judge."""

    name = "learned"
    backend = "learned"

    def __init__(self, files: JudgeFiles, source: str = "shipped") -> None:
        import lightgbm

        try:
            self.booster = lightgbm.Booster(model_str=files.model)
            self.known = load_known(files.known)
            self.card = json.loads(files.card)
        except (lightgbm.basic.LightGBMError, ValueError) as exc:
            raise UserError(f"learned judge {source}: not a usable model: {exc}") from None
        self.source = source
        self.vocab = vocabulary_of(self.booster.feature_name())
        self.hash = model_hash(files.model)
        self.requests = 0
        self.failed = 0
        self.known_hits = 0
        self._memo: dict[str, float] = {}

    @classmethod
    def load(cls, folder: Path | None = None) -> LearnedJudge:
        """The judge in ``folder`` (from ``toolsim judge train``), or the shipped one."""
        if folder is None:
            return cls(shipped_files())
        return cls(read_files(Path(folder)), str(folder))

    @property
    def calls(self) -> int:
        """No model is ever called."""
        return 0

    @property
    def cached(self) -> int:
        """Nothing is cached: every verdict is computed (in well under a millisecond)."""
        return 0

    def identity(self) -> JudgeIdentity:
        """The model file's hash and its cross-validated agreement."""
        return JudgeIdentity(
            backend=self.backend,
            model=f"LightGBM {self.source} ({len(self.booster.feature_name())} features)",
            fingerprint=f"model sha256 {self.hash[:12]}",
            agreement=summary(self.card),
        )

    def seen(self, answer: Answer) -> bool:
        """Whether this exact answer was among the training answers."""
        return answer_key(answer) in self.known

    def probability(self, answer: Answer) -> float:
        """The model's probability that the reference would call the answer Solved."""
        return self.probabilities([answer])[0]

    def probabilities(self, answers: Sequence[Answer]) -> list[float]:
        """:meth:`probability` of many answers, in one pass of the model."""
        keys = [answer_key(answer) for answer in answers]
        missing = {key: answer for key, answer in zip(keys, answers, strict=True)}
        for key in [key for key in missing if key in self._memo]:
            del missing[key]
        if missing:
            import numpy as np

            rows = np.array([feature_row(answer, self.vocab) for answer in missing.values()])
            found = self.booster.predict(rows, num_threads=1)
            for key, value in zip(missing, found, strict=True):
                if len(self._memo) < _MEMO_LIMIT:
                    self._memo[key] = float(value)
            computed = dict(zip(missing, (float(v) for v in found), strict=True))
        else:
            computed = {}
        return [self._memo[key] if key in self._memo else computed[key] for key in keys]

    async def verdict(self, answer: Answer, run: int) -> Verdict:
        """The reference's own label for a known answer, else the model's verdict."""
        return (await self.verdicts([answer], run))[0]

    async def verdicts(self, answers: Sequence[Answer], run: int) -> list[Verdict]:
        """:meth:`verdict` of many answers, the model run once over all of them."""
        self.requests += len(answers)
        return [
            self._verdict(answer, probability)
            for answer, probability in zip(answers, self.probabilities(answers), strict=True)
        ]

    def _verdict(self, answer: Answer, probability: float) -> Verdict:
        known = self.known.get(answer_key(answer))
        if known is not None and known != NO_MAJORITY:
            self.known_hits += 1
            return Verdict(
                Label(known),
                "identical to a reference-labelled training answer",
                "known",
                probability,
            )
        low, high = UNSURE_BAND
        return Verdict(
            Label(label_of(probability)),
            f"p(Solved) = {probability:.3f} (Unsure in [{low}, {high}))",
            "learned",
            probability,
        )

    async def compare(self, query: str, first: Answer, second: Answer, run: int) -> tuple[str, str]:
        """The answer with the higher probability of "Solved"; equal probabilities tie."""
        a, b = self.probability(first), self.probability(second)
        reason = f"p(Solved): A {a:.3f}, B {b:.3f}"
        if a == b:
            return "tie", reason
        return ("A" if a > b else "B"), reason

    async def aclose(self) -> None:
        """Nothing to release."""
