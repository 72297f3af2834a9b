"""Choosing a judge by name: the registry of judges and the factory every command uses.

Built in: ``learned`` (a LightGBM model over cheap answer features, free and
offline) and the LLM judge over any chat-model backend (``openai``, ``local``,
or a registered one). ``TOOLSIM_JUDGE__BACKEND=auto`` means ``openai`` when
``TOOLSIM_JUDGE__BASE_URL`` is set and ``learned`` otherwise. Plug-ins register
like ``learned`` (entry-point group ``toolsim.judges``, or :func:`register_judge`):
a factory called with ``settings=``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from toolsim.errors import UserError
from toolsim.evaluator.judging.base import Judge
from toolsim.registry import Registry
from toolsim.settings import Settings

if TYPE_CHECKING:
    from toolsim.evaluator.judging.llm import JudgeOptions

AUTO = "auto"
LEARNED = "learned"


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
    settings: Settings,
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
