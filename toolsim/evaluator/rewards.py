"""A judge as the reward of server episodes: verdicts on many answers at once, as JSON.

The server defines what it needs (``toolsim.server.episodes.RewardJudge``) and
imports no judge; ``toolsim serve`` hands it :func:`episode_judge`. The same rules
as the pass rate come first (an answer that never finished is Unsolved without
asking the judge), then the judge, one verdict per answer, concurrently, after
one :meth:`~toolsim.evaluator.judging.base.BatchJudge.prepare` of them all for a
judge that works faster on many (the learned judge: one model pass).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from toolsim.answers import Answer
from toolsim.evaluator.judging.base import BatchJudge, Judge
from toolsim.evaluator.judging.factory import create_judge
from toolsim.evaluator.labels import SCORES, Verdict
from toolsim.evaluator.scoring.pass_rate import rule_verdict
from toolsim.settings import Settings


def reward_json(verdict: Verdict) -> dict[str, Any]:
    """A verdict as an episode's reward: every field of the verdict, and ``reward``."""
    return {**verdict.to_json(), "reward": SCORES.get(verdict.label)}


class JudgeRewards:
    """Rewards from a :class:`Judge` (see the module docstring).

    Args:
        judge: The judge, or a function that makes it on first use (so a server starts
            without loading a model it may never need).
        run: The judge run the verdicts are asked for.
    """

    def __init__(self, judge: Judge | Callable[[], Judge], run: int = 0) -> None:
        self._judge = judge if isinstance(judge, Judge) else None
        self._make = None if isinstance(judge, Judge) else judge
        self.run = run

    @property
    def judge(self) -> Judge:
        """The judge, made now if it was not yet."""
        if self._judge is None:
            assert self._make is not None
            self._judge = self._make()
        return self._judge

    def identity(self) -> dict[str, Any]:
        """The judge's identity, as JSON."""
        return self.judge.identity().to_json()

    async def verdicts(self, answers: Sequence[Answer]) -> list[dict[str, Any]]:
        """One reward per answer, in order."""
        decided: list[Verdict | None] = [rule_verdict(answer) for answer in answers]
        asked = [answer for answer, verdict in zip(answers, decided, strict=True) if not verdict]
        judge = self.judge
        if asked and isinstance(judge, BatchJudge):
            judge.prepare(asked)  # one model pass for all of them, as the pass rate does
        judged = await asyncio.gather(*(judge.verdict(answer, self.run) for answer in asked))
        given = iter(judged)
        return [reward_json(verdict or next(given)) for verdict in decided]

    async def aclose(self) -> None:
        """Close the judge, if it was made."""
        if self._judge is not None:
            await self._judge.aclose()


def episode_judge(settings: Settings) -> JudgeRewards:
    """The configured judge (``TOOLSIM_JUDGE__*``) as the reward of episodes, made on the
    first verify."""
    return JudgeRewards(lambda: create_judge(settings))
