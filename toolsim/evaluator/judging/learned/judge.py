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
from toolsim.evaluator.judging.base import JudgeIdentity, OfflineJudge, resolution_of
from toolsim.evaluator.judging.grounding import did_nothing, evidence, read
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
    """The measured agreement of a model card, in words: its final test when it has one,
    else its cross-validation."""
    final = card.get("final_test")
    if final:
        answered = final["learned"]["answered"]
        ranked = final["learned"]["ranking"]
        reference = card.get("reference") or "the training labels"
        return (
            f"final test of this recipe trained without {', '.join(final['methods'])} "
            f"(methods no design decision saw): {100 * answered['accuracy']:.1f}% "
            f"(kappa {answered['kappa']:.2f}, "
            f"n={answered['n']}) on answered items vs {reference}; pass-rate error "
            f"{ranked['mean_abs_error']:.1f} (max {ranked['max_abs_error']:.1f}) points "
            f"per method"
        )
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


def largest_error(card: dict[str, Any], judge: str = "learned") -> float | None:
    """The largest per-method pass-rate error (points) a model card measured on held-out
    methods: its design cross-validation by method and its final test (``judge``: the
    ``learned`` one or the ``rule`` beside it)."""
    errors = []
    final = card.get("final_test") or {}
    if final.get(judge):
        errors.append(final[judge]["ranking"]["max_abs_error"])
    method = (card.get("cross_validation") or {}).get("method") or {}
    if judge == "learned" and method.get("ranking"):
        errors.append(method["ranking"]["max_abs_error"])
    found = [error for error in errors if error is not None]
    return max(found) if found else None


class LearnedJudge(OfflineJudge):
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
        self._memo: dict[str, tuple[float, str | None]] = {}
        #: The keys :meth:`prepare` computed, by answer object (kept, so no id is reused).
        self._keys: dict[int, tuple[Answer, str]] = {}

    @classmethod
    def load(cls, folder: Path | None = None) -> LearnedJudge:
        """The judge in ``folder`` (from ``toolsim judge train``), or the shipped one."""
        if folder is None:
            return cls(shipped_files())
        return cls(read_files(Path(folder)), str(folder))

    def identity(self) -> JudgeIdentity:
        """The model file's hash and its cross-validated agreement."""
        return JudgeIdentity(
            backend=self.backend,
            model=f"LightGBM {self.source} ({len(self.booster.feature_name())} features)",
            fingerprint=f"model sha256 {self.hash[:12]}",
            agreement=summary(self.card),
            resolution=resolution_of(largest_error(self.card)),
        )

    def seen(self, answer: Answer) -> bool:
        """Whether this exact answer was among the training answers."""
        return answer_key(answer) in self.known

    def probability(self, answer: Answer) -> float:
        """The model's probability that the reference would call the answer Solved."""
        return self._assess(answer)[0]

    def prepare(self, answers: Sequence[Answer]) -> None:
        """Assess every answer that is neither known nor assessed yet, with one model call
        for all of them: LightGBM predicts thousands of rows in one call in about the time
        of a few one-row calls, and each row's probability is the same either way (the
        trees read one row at a time)."""
        import numpy as np

        pending: dict[str, tuple[list[float], str | None]] = {}
        room = _MEMO_LIMIT - len(self._memo)
        self._keys = {}
        for answer in answers:
            if len(pending) >= room:
                break
            key = answer_key(answer)
            self._keys[id(answer)] = (answer, key)
            known = self.known.get(key)
            if (known is not None and known != NO_MAJORITY) or key in self._memo:
                continue
            if key not in pending:
                pending[key] = self._row(answer)
        if not pending:
            return
        rows = np.array([row for row, _ in pending.values()])
        probabilities = self.booster.predict(rows, num_threads=1)
        for (key, (_, nothing)), probability in zip(pending.items(), probabilities, strict=True):
            self._memo[key] = (float(probability), nothing)

    def _row(self, answer: Answer) -> tuple[list[float], str | None]:
        """The answer's model row and the grounding rule's reason (or None)."""
        reading = read(answer)
        signals = evidence(answer, reading)
        return feature_row(answer, self.vocab, reading, signals), did_nothing(signals)

    def _key(self, answer: Answer) -> str:
        """The answer's :func:`answer_key`, from :meth:`prepare` when it saw this very answer
        (hashing each answer a second time cost 3% of an evaluation)."""
        prepared = self._keys.get(id(answer))
        if prepared is not None and prepared[0] is answer:
            return prepared[1]
        return answer_key(answer)

    def _assess(self, answer: Answer, key: str | None = None) -> tuple[float, str | None]:
        """The model's probability and the grounding rule's reason (or None), computed once
        per answer (repeated runs and comparisons reuse them; ``key``: its
        :func:`answer_key`, when at hand)."""
        key = key or self._key(answer)
        found = self._memo.get(key)
        if found is None:
            import numpy as np

            row, nothing = self._row(answer)
            found = (float(self.booster.predict(np.array([row]), num_threads=1)[0]), nothing)
            if len(self._memo) < _MEMO_LIMIT:
                self._memo[key] = found
        return found

    async def verdict(self, answer: Answer, run: int) -> Verdict:
        """The reference's own label for a known answer; Unsolved for an answer that did
        nothing (:func:`~toolsim.evaluator.judging.grounding.did_nothing`); else the model's
        verdict."""
        self.requests += 1
        key = self._key(answer)
        known = self.known.get(key)
        if known is not None and known != NO_MAJORITY:
            self.known_hits += 1
            return Verdict(
                Label(known), "identical to a reference-labelled training answer", "known"
            )
        probability, nothing = self._assess(answer, key)
        if nothing is not None:
            return Verdict(Label.UNSOLVED, nothing, "grounding", probability)
        low, high = UNSURE_BAND
        label = Label(label_of(probability))
        bands = f"Unsolved under {low}, " + ("" if low == high else f"Unsure up to {high}, ")
        return Verdict(
            label,
            f"the learned judge puts the chance that this answer solves the query at "
            f"{probability:.3f}, so {label.value} ({bands}Solved from there)",
            "learned",
            probability,
        )

    async def compare(self, query: str, first: Answer, second: Answer, run: int) -> tuple[str, str]:
        """The answer with the higher probability of "Solved" (an answer that did nothing
        counts as 0); equal probabilities tie."""
        a, b = self._score(first), self._score(second)
        reason = f"p(Solved): A {a:.3f}, B {b:.3f}"
        if a == b:
            return "tie", reason
        return ("A" if a > b else "B"), reason

    def _score(self, answer: Answer) -> float:
        probability, nothing = self._assess(answer)
        return 0.0 if nothing is not None else probability
