"""Verify: rewards from the judge handed to the app, batched, cached, single-flight; ATIF export."""

from __future__ import annotations

import asyncio

import pytest
from support import FX_ARGS, FX_FUNCTION

from toolsim.answers import Answer
from toolsim.evaluator.judging.learned.judge import LearnedJudge
from toolsim.evaluator.rewards import JudgeRewards
from toolsim.server.episodes import HEADER, Rewards
from toolsim.server.episodes.manager import answer_of
from toolsim.server.episodes.state import EpisodeState


async def _episode(client, calls: int = 1) -> str:
    opened = await client.post("/v1/episodes", json={"query": "Rates?", "functions": [FX_FUNCTION]})
    episode = opened.json()["episode_id"]
    for n in range(calls):
        arguments = {**FX_ARGS, "amount": 100 + n}
        reply = await client.post(
            f"/v1/tools/{FX_FUNCTION}", json=arguments, headers={HEADER: episode}
        )
        assert reply.status_code == 200
    return episode


async def test_verify_gives_the_judges_verdict_with_its_evidence(make_episodes_app, connect):
    app = make_episodes_app(simulator="scripted")
    async with connect(app) as client:
        episode = await _episode(client, calls=2)
        good = await client.post(f"/v1/episodes/{episode}/verify", json={"answer": "Lisbon: 20 C"})
        view = (await client.get(f"/v1/episodes/{episode}")).json()
        other = await _episode(client)
        bad = await client.post(f"/v1/episodes/{other}/verify", json={"answer": "no idea"})
    assert good.status_code == 200
    verdict = good.json()
    assert verdict["label"] == "Solved" and verdict["reward"] == 1.0
    assert verdict["evidence"] == [{"calls": 2}]  # whatever the judge returns passes through
    assert verdict["judge"]["backend"] == "fake"
    assert view["status"] == "verified" and view["verdict"]["reward"] == 1.0
    assert view["answer"] == {"answer": "Lisbon: 20 C", "give_up": False}
    assert bad.json()["reward"] == 0.0


async def test_concurrent_verifies_share_batches_and_identical_answers_are_judged_once(
    make_episodes_app, connect
):
    app = make_episodes_app(simulator="scripted", episodes={"verify_wait": 0.05})
    judge = app.state.episodes.rewards.judge
    async with connect(app) as client:
        episodes = [await _episode(client) for _ in range(6)]
        replies = await asyncio.gather(
            *(
                client.post(f"/v1/episodes/{e}/verify", json={"answer": f"Lisbon {i % 2}"})
                for i, e in enumerate(episodes)
            )
        )
        again = await client.post(f"/v1/episodes/{episodes[0]}/verify", json={"answer": "Lisbon 0"})
    assert all(reply.status_code == 200 for reply in replies)
    # Six episodes, each with its own call: six different answers, in one batch.
    assert judge.batches == [6]
    assert again.json()["reward"] == replies[0].json()["reward"]
    assert judge.batches == [6]  # the episode kept its verdict


async def test_identical_answers_in_flight_share_one_judgment():
    from episode_fixtures import FakeRewards

    judge = FakeRewards()
    judge.gate = asyncio.Event()
    rewards = Rewards(judge, batch=8, wait=0.001)
    answer = _answer("Lisbon")
    pending = [asyncio.ensure_future(rewards.verdict(answer)) for _ in range(5)]
    await asyncio.sleep(0.05)  # let the batch timer fire and the judge start
    judge.gate.set()
    verdicts = await asyncio.gather(*pending)
    assert judge.batches == [1] and rewards.cached == 4
    assert all(verdict == verdicts[0] for verdict in verdicts)
    assert (await rewards.verdict(answer)) == verdicts[0] and judge.batches == [1]


async def test_a_failing_judge_is_an_error_and_nothing_is_cached(make_episodes_app, connect):
    app = make_episodes_app(simulator="scripted")
    judge = app.state.episodes.rewards.judge
    calls = []

    async def broken(answers):
        calls.append(len(answers))
        raise RuntimeError("judge down")

    judge.verdicts = broken
    async with connect(app) as client:
        episode = await _episode(client)
        first = await client.post(f"/v1/episodes/{episode}/verify", json={"answer": "Lisbon"})
        second = await client.post(f"/v1/episodes/{episode}/verify", json={"answer": "Lisbon"})
    assert first.status_code == 502 and "judge down" in first.json()["error"]["message"]
    assert second.status_code == 502 and calls == [1, 1]


async def test_without_a_judge_verify_is_501(make_episodes_app, connect):
    app = make_episodes_app(judge=None, simulator="scripted")
    async with connect(app) as client:
        episode = await _episode(client)
        reply = await client.post(f"/v1/episodes/{episode}/verify", json={"answer": "x"})
    assert reply.status_code == 501 and "no judge" in reply.json()["error"]["message"]


async def test_the_learned_judge_rewards_a_batch_like_one_by_one():
    learned = LearnedJudge.load()
    answers = [_answer(text) for text in ("Lisbon is 20 C", "", "I could not find it", "Paris")]
    batched = await JudgeRewards(learned).verdicts(answers)
    single = [(await JudgeRewards(LearnedJudge.load()).verdicts([a]))[0] for a in answers]
    assert batched == single
    assert batched[1]["label"] == "Unsolved" and batched[1]["by"] == "rule"  # never finished
    assert all(v["reward"] in (0.0, 0.5, 1.0) for v in batched)
    assert {"probability", "reason"} <= set(batched[0])


def _answer(final: str) -> Answer:
    fields = {
        "query": "Weather in Lisbon?",
        "group": "",
        "query_id": "",
        "apis": [["Finance", "quick_fx_rates", "convertcurrency"]],
        "functions": [FX_FUNCTION],
        "prices": {},
        "max_calls": 10,
        "opened": 0.0,
    }
    state = EpisodeState.of("e1", fields)
    log = [
        {"function": FX_FUNCTION, "arguments": FX_ARGS, "error": "", "response": {"r": 1}},
    ]
    return answer_of(state, log, final, give_up=False)


async def test_the_trajectory_is_valid_atif(make_episodes_app, connect):
    atif = pytest.importorskip("atif", reason="the atif package checks the export (test extra)")
    app = make_episodes_app(simulator="scripted")
    async with connect(app) as client:
        episode = await _episode(client, calls=3)
        await client.post(f"/v1/episodes/{episode}/verify", json={"answer": "Lisbon 1.08"})
        exported = (await client.get(f"/v1/episodes/{episode}/trajectory")).json()
    trajectory = atif.Trajectory.model_validate(exported)
    assert trajectory.schema_version == "ATIF-v1.8" and trajectory.session_id == episode
    assert [step.source for step in trajectory.steps] == [
        "user",
        "agent",
        "agent",
        "agent",
        "agent",
    ]
    calls = [step.tool_calls[0] for step in trajectory.steps[1:4]]
    assert [call.function_name for call in calls] == [FX_FUNCTION] * 3
    assert [call.arguments["amount"] for call in calls] == [100, 101, 102]
    assert trajectory.steps[1].observation.results[0].source_call_id == calls[0].tool_call_id
    assert trajectory.steps[-1].message == "Lisbon 1.08"
    assert trajectory.final_metrics.extra["reward"] == 1.0
    assert trajectory.agent.tool_definitions[0]["function"]["name"] == FX_FUNCTION
