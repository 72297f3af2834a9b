"""Rewards: an episode's final answer judged, asynchronously, in batches, once.

The server knows no judge of its own: the app factory is handed a
:class:`RewardJudge` (``toolsim serve`` wires in the configured one through
:func:`toolsim.evaluator.rewards.episode_judge`), so the flow stays one-way.
:class:`Rewards` puts it behind three guarantees:

* batched: verdicts asked for within ``wait`` seconds of each other (at most
  ``batch``) go to the judge in one call (the learned judge scores a whole batch
  in one model pass);
* cached: the same answer (query, tool calls, final answer) is judged once per
  process (the episode also keeps its verdict, for every replica);
* single-flight: identical answers in flight at once share one judgment.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from toolsim.answers import Answer
from toolsim.errors import UpstreamError
from toolsim.singleflight import SingleFlight

#: Verdicts kept per process, by answer.
CACHE_SIZE = 100_000


@runtime_checkable
class RewardJudge(Protocol):
    """Verdicts on finished episodes, many at once."""

    def identity(self) -> dict[str, Any]:
        """What judges: backend, model, fingerprint, measured agreement (JSON)."""
        ...

    async def verdicts(self, answers: Sequence[Answer]) -> list[dict[str, Any]]:
        """One verdict per answer, in order, as JSON.

        Each has at least ``label`` (``Solved``, ``Unsure``, ``Unsolved`` or
        ``unscored``) and ``reward`` (a number in [0, 1], or None when unscored);
        any other field (``reason``, ``probability``, grounding ``evidence``, ...)
        reaches the client unchanged.
        """
        ...

    async def aclose(self) -> None:
        """Release models and connections."""
        ...


def answer_digest(answer: Answer) -> str:
    """What makes two answers the same to a judge."""
    content = [
        answer.query,
        answer.final_answer,
        answer.finished,
        [[step.function, step.arguments, step.response] for step in answer.steps],
    ]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


class Rewards:
    """Judges answers through a :class:`RewardJudge`: batched, cached and single-flight."""

    def __init__(self, judge: RewardJudge, *, batch: int = 256, wait: float = 0.002) -> None:
        self.judge = judge
        self.batch = batch
        self.wait = wait
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._flights: SingleFlight[dict[str, Any]] = SingleFlight()
        self._pending: list[tuple[Answer, asyncio.Future[dict[str, Any]]]] = []
        self._flush: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()  # batches being judged (kept alive)
        self.judged = 0  # answers the judge was asked about
        self.batches = 0  # calls made to the judge
        self.cached = 0  # verdicts answered from the cache or an identical one in flight

    async def verdict(self, answer: Answer) -> dict[str, Any]:
        """The judge's verdict on ``answer`` (JSON, with ``label`` and ``reward``)."""
        digest = answer_digest(answer)
        found = self._cache.get(digest)
        if found is not None:
            self.cached += 1
            self._cache.move_to_end(digest)
            return found
        if self._flights.busy(digest):
            self.cached += 1
        verdict, _started = await self._flights.run(digest, lambda: self._queued(answer))
        self._cache[digest] = verdict
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return verdict

    async def _queued(self, answer: Answer) -> dict[str, Any]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((answer, future))
        if len(self._pending) >= self.batch:
            self._start_batch()
        elif self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(self.wait, self._start_batch)
        return await future

    def _start_batch(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        taken, self._pending = self._pending[: self.batch], self._pending[self.batch :]
        if self._pending:
            self._flush = asyncio.get_running_loop().call_later(self.wait, self._start_batch)
        if taken:
            task = asyncio.ensure_future(self._judge(taken))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _judge(self, taken: list[tuple[Answer, asyncio.Future[dict[str, Any]]]]) -> None:
        self.batches += 1
        self.judged += len(taken)
        try:
            verdicts = await self.judge.verdicts([answer for answer, _future in taken])
            if len(verdicts) != len(taken):
                raise UpstreamError(
                    f"the judge gave {len(verdicts)} verdicts for {len(taken)} answers"
                )
        except Exception as exc:
            for _answer, future in taken:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_answer, future), verdict in zip(taken, verdicts, strict=True):
            if not future.done():
                future.set_result(verdict)
