"""Judging answers: the :class:`Judge` protocol and registry, the LLM judge, the learned judge.

Layers inside: ``base`` (protocol, identity, registry) <- ``llm`` (a judge over any
chat model) and ``learned`` (a LightGBM model over answer features). A plug-in
registers with :func:`register_judge` or the entry-point group ``toolsim.judges``.
Names are imported on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolsim.exports import lazy_exports

_EXPORTS = {
    "Judge": "toolsim.evaluator.judging.base",
    "JudgeIdentity": "toolsim.evaluator.judging.base",
    "available_judges": "toolsim.evaluator.judging.factory",
    "create_judge": "toolsim.evaluator.judging.factory",
    "register_judge": "toolsim.evaluator.judging.factory",
    "JudgeOptions": "toolsim.evaluator.judging.llm",
    "LLMJudge": "toolsim.evaluator.judging.llm",
}

__all__ = [
    "Judge",
    "JudgeIdentity",
    "JudgeOptions",
    "LLMJudge",
    "available_judges",
    "create_judge",
    "register_judge",
]

if TYPE_CHECKING:
    from toolsim.evaluator.judging.base import Judge, JudgeIdentity
    from toolsim.evaluator.judging.factory import available_judges, create_judge, register_judge
    from toolsim.evaluator.judging.llm import JudgeOptions, LLMJudge

__getattr__ = lazy_exports(__name__, _EXPORTS)
