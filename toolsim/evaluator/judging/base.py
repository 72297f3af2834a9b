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
        }


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


def measured_agreement(model: str, prompt: str) -> str | None:
    """The agreement measured for an LLM judge (model and prompt hash), when there is one.

    Measurements ship in ``toolsim/evaluator/measured.json``; they apply only to
    the exact prompts they were made with.
    """
    text = resources.files("toolsim.evaluator.judging").joinpath("measured.json").read_text("utf-8")
    for entry in json.loads(text).get("llm_judges", []):
        if entry.get("model") == model and entry.get("prompt") == prompt:
            return str(entry.get("summary"))
    return None
