"""Judges: what labels answers and compares them, a registry of them, and their identity.

A :class:`Judge` gives a finished answer a verdict and says which of two answers
is better. Built in: ``learned`` (a LightGBM model over cheap answer features,
free and offline) and the LLM judge over any chat-model backend (``openai``,
``local``, or a registered one). ``TOOLSIM_JUDGE__BACKEND=auto`` means
``openai`` when ``TOOLSIM_JUDGE__BASE_URL`` is set and ``learned`` otherwise.
Plug-ins register like ``learned`` (entry-point group ``toolsim.judges``, or
:func:`register_judge`): a factory called with ``settings=``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from toolsim.errors import UserError
from toolsim.registry import Registry
from toolsim.settings import Settings

if TYPE_CHECKING:
    from toolsim.answers import Answer
    from toolsim.evaluator.judging.llm import JudgeOptions
    from toolsim.evaluator.labels import Verdict

AUTO = "auto"
LEARNED = "learned"


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
        """``("A"|"B"|"tie", reason)``; ValueError when there is no usable verdict."""
        ...

    async def aclose(self) -> None:
        """Release models and connections."""
        ...


JudgeFactory = Callable[..., Judge]

#: Judge factories by name (entry-point group ``toolsim.judges``), called with ``settings=``.
judge_registry: Registry[JudgeFactory] = Registry("judge", "toolsim.judges")

#: Register a judge factory under a name (decorator); it is called with ``settings=``.
register_judge = judge_registry.register


def available_judges() -> list[str]:
    """Every name ``--judge`` and ``TOOLSIM_JUDGE__BACKEND`` accept."""
    from toolsim.llm import available_chat_models

    return [AUTO, *sorted(set(judge_registry.names()) | set(available_chat_models()))]


def resolve(name: str | None, settings: Settings) -> str:
    """The judge ``name`` (default: the configured one) stands for, ``auto`` resolved."""
    chosen = name or settings.judge.backend
    if chosen == AUTO:
        return "openai" if settings.judge.base_url else LEARNED
    return chosen


def create_judge(
    settings: Settings | None = None,
    name: str | None = None,
    *,
    options: JudgeOptions | None = None,
) -> Judge:
    """The judge ``name`` (or ``TOOLSIM_JUDGE__BACKEND``) stands for; the caller closes it.

    A registered judge first, else the LLM judge on the chat-model backend of that name.

    Raises:
        UserError: an unknown name (the message lists the available ones).
    """
    from toolsim.llm import available_chat_models, create_chat_model

    settings = settings or Settings()
    chosen = resolve(name, settings)
    if chosen in judge_registry:
        return judge_registry.create(chosen, settings=settings)
    if chosen in available_chat_models():
        from toolsim.evaluator.judging.llm import LLMJudge

        judge = settings.judge.model_copy(update={"backend": chosen})
        configured = settings.model_copy(update={"judge": judge})
        return LLMJudge(create_chat_model("judge", configured), options, backend=chosen)
    raise UserError(f"unknown judge {chosen!r}; available: " + ", ".join(available_judges()))


def learned_judge(*, settings: Settings) -> Judge:
    """The ``learned`` judge: the shipped model, or ``TOOLSIM_JUDGE__LEARNED_MODEL``."""
    from toolsim.evaluator.judging.learned.judge import LearnedJudge

    return LearnedJudge.load(settings.judge.learned_model)


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
