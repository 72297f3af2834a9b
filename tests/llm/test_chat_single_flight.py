"""Identical model requests in flight at once share one call, so concurrency changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from toolsim.answers import Answer
from toolsim.errors import UpstreamError
from toolsim.evaluator.judging.llm import LLMJudge
from toolsim.llm import CachedChat, ChatReply, ChatRequest


class SlowModel:
    """Answers only when released, a different verdict each call (so sharing shows)."""

    name = "slow-model"

    def __init__(self, failure: Exception | None = None) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.failure = failure

    async def complete(self, request: ChatRequest) -> ChatReply:
        self.calls += 1
        await self.release.wait()
        if self.failure is not None:
            raise self.failure
        verdict = ["Solved", "Unsolved", "Unsure"][self.calls % 3]
        return ChatReply(content=json.dumps({"reason": f"call {self.calls}", "verdict": verdict}))

    async def aclose(self) -> None:
        pass


ANSWER = Answer(
    query_id="1",
    group="G1_instruction",
    query="What is the weather in Oslo?",
    method="CoT@1",
    final_answer="It is 3 degrees in Oslo.",
    finished=True,
    steps=(),
    available_tools=(),
    details=None,
    record=None,
    source=Path("answer.json"),
)


async def _all_waiting(model: SlowModel, chat: CachedChat, tasks: list[asyncio.Task]) -> None:
    """Return once every request waits on the model, in one call or (without sharing) several."""

    async def settled() -> None:
        while model.calls + chat.hits < len(tasks):
            await asyncio.sleep(0)  # a yield to the event loop, not a timed wait

    await asyncio.wait_for(settled(), 10)


async def test_eight_identical_judge_requests_make_one_call(tmp_path: Path):
    model = SlowModel()
    chat = CachedChat(model, tmp_path / "llm-cache")
    judge = LLMJudge(chat)
    try:
        tasks = [asyncio.create_task(judge.verdict(ANSWER, run=0)) for _ in range(8)]
        await _all_waiting(model, chat, tasks)
        model.release.set()
        outcomes = await asyncio.gather(*tasks)
        again = await judge.verdict(ANSWER, run=0)
    finally:
        await chat.aclose()

    assert model.calls == 1
    assert len(set(outcomes)) == 1
    assert outcomes[0].reason == "call 1"
    assert again == outcomes[0]  # and the one reply is what the cache keeps
    assert (chat.calls, chat.hits) == (1, 8)


async def test_a_failure_reaches_every_waiter_and_is_not_cached(tmp_path: Path):
    model = SlowModel(failure=UpstreamError("the model endpoint answered HTTP 500"))
    chat = CachedChat(model, tmp_path / "llm-cache")
    request = ChatRequest(messages=({"role": "user", "content": "hi"},))
    try:
        tasks = [asyncio.create_task(chat.complete(request)) for _ in range(4)]
        await _all_waiting(model, chat, tasks)
        model.release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        model.failure = None
        recovered = await chat.complete(request)
    finally:
        await chat.aclose()

    assert [type(result) for result in results] == [UpstreamError] * 4
    assert model.calls == 2  # one shared failure, then a fresh call
    assert recovered.content is not None and not recovered.cached


@pytest.mark.parametrize("sample", [0, 1])
async def test_different_requests_are_not_shared(tmp_path: Path, sample: int):
    model = SlowModel()
    model.release.set()
    chat = CachedChat(model, tmp_path / "llm-cache")
    base = ChatRequest(messages=({"role": "user", "content": "hi"},))
    other = ChatRequest(messages=base.messages, sample=sample + 1)
    try:
        await asyncio.gather(chat.complete(base), chat.complete(other))
    finally:
        await chat.aclose()

    assert model.calls == 2
