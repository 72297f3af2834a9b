"""What a judge is: the :class:`Judge` protocol, its identity, and its measured agreement.

A :class:`Judge` gives a finished answer a verdict and says which of two answers
is better. The judges themselves (``llm``, ``learned``) and the registry that
picks one by name (``factory``) build on this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolsim.answers import Answer
    from toolsim.evaluator.labels import Verdict


@dataclass(frozen=True, slots=True)
class JudgeIdentity:
    """What produced a verdict: enough to name it in every report."""

    backend: str
    #: The model (an LLM's name, or the learned model's file).
    model: str
    #: ``"prompt <hash>"`` for an LLM judge, ``"model <sha256 prefix>"`` for a learned one.
    fingerprint: str
    #: Its measured agreement with a reference judge, in words, when known.
    agreement: str | None = None
    #: The pass-rate difference (points) below which this judge's ordering of two systems
    #: has not been shown to match the reference's: twice its largest per-method pass-rate
    #: error on held-out methods. None when unmeasured (then no difference is resolved).
    resolution: float | None = None

    def describe(self) -> str:
        """One line for terminals and reports."""
        text = f"{self.backend} judge {self.model} ({self.fingerprint})"
        return text + (f"; measured agreement: {self.agreement}" if self.agreement else "")

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports."""
        return {
            "backend": self.backend,
            "model": self.model,
            "fingerprint": self.fingerprint,
            "measured_agreement": self.agreement,
            "resolution": None if self.resolution is None else round(self.resolution, 2),
        }


class OfflineJudge:
    """What a judge that calls no model has in common: no model calls, no cache, nothing to
    close (the learned judge, the rule)."""

    @property
    def calls(self) -> int:
        """No model is ever called."""
        return 0

    @property
    def cached(self) -> int:
        """Nothing is cached: every verdict is computed."""
        return 0

    async def aclose(self) -> None:
        """Nothing to release."""


#: Where a report points a reader whose differences this judge does not resolve.
STRONG_JUDGE_HINT = (
    "a strong judge resolves finer: --judge openai with TOOLSIM_JUDGE__BASE_URL set "
    "(measure it first with toolsim eval agreement; docs/judge.md)"
)


def resolution_note(resolution: float | None) -> str:
    """The judge's resolution as a sentence for every report that compares systems."""
    if resolution is None:
        return (
            "this judge's resolution is unmeasured: no difference between two systems is "
            f"resolved by it; {STRONG_JUDGE_HINT}"
        )
    return (
        f"judge resolution {resolution:.1f} points (twice its largest pass-rate error per "
        "held-out method): smaller differences between two systems are not resolved by this "
        f"judge; {STRONG_JUDGE_HINT}"
    )


def resolution_of(error: float | None) -> float | None:
    """The resolution of a judge whose largest per-method pass-rate error is ``error``."""
    return None if error is None else 2 * error


@runtime_checkable
class Judge(Protocol):
    """Labels finished answers and compares two answers to the same query."""

    #: The name reports show (an LLM's model name, or ``learned``).
    name: str
    #: Verdicts asked for, model calls made, answered from a cache, failed.
    requests: int
    failed: int

    @property
    def calls(self) -> int:
        """Requests that reached a model."""
        ...

    @property
    def cached(self) -> int:
        """Requests answered from a cache."""
        ...

    def identity(self) -> JudgeIdentity:
        """Backend, model, fingerprint and measured agreement."""
        ...

    async def verdict(self, answer: Answer, run: int) -> Verdict:
        """Solved / Unsolved / Unsure (or unscored, with why) for a finished answer."""
        ...

    async def compare(self, query: str, first: Answer, second: Answer, run: int) -> tuple[str, str]:
        """``("A"|"B"|"tie", reason)``.

        Raises:
            NoVerdict: no usable verdict (the round is counted as unscored).
        """
        ...

    async def aclose(self) -> None:
        """Release models and connections."""
        ...


@runtime_checkable
class BatchJudge(Protocol):
    """A judge that works faster on many answers at once (the learned judge: one model call
    for all of them). Optional: callers that judge many answers call :meth:`prepare` first
    when the judge has it, then ask for each verdict as usual; :class:`Judge` is unchanged."""

    def prepare(self, answers: Sequence[Answer]) -> None:
        """Work out what the verdicts of ``answers`` need, so that they come without delay
        and are exactly what they would have been one at a time."""
        ...


def measured(model: str, prompt: str) -> dict[str, Any] | None:
    """The measurement of an LLM judge (model and prompt hash), when there is one.

    Measurements ship in ``toolsim/evaluator/judging/measured.json``; they apply only to
    the exact prompts they were made with. ``summary`` is the agreement in words;
    ``max_abs_error`` (when measured) the largest per-method pass-rate error, in points.
    """
    text = resources.files("toolsim.evaluator.judging").joinpath("measured.json").read_text("utf-8")
    for entry in json.loads(text).get("llm_judges", []):
        if entry.get("model") == model and entry.get("prompt") == prompt:
            return dict(entry)
    return None
