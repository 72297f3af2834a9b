"""Replicas on one real Redis serve any episode; it outlives the replica that opened it."""

from __future__ import annotations

import os

import httpx
import pytest
from support import FX_ARGS, FX_FUNCTION, Server

from toolsim.server.episodes import HEADER

pytestmark = pytest.mark.slow


def _replica(redis_url: str, home: str) -> Server:
    env = {
        **os.environ,
        "TOOLSIM_CACHE__URL": redis_url,
        "TOOLSIM_HOME": home,
        "TOOLSIM_SIMULATOR__BACKEND": "schema",
    }
    server = Server(env, workers=1)
    server.start()
    return server


def _call(base: str, episode: str, amount: int) -> httpx.Response:
    arguments = {**FX_ARGS, "amount": amount}
    return httpx.post(
        f"{base}/v1/tools/{FX_FUNCTION}", json=arguments, headers={HEADER: episode}, timeout=30
    )


def test_any_replica_serves_an_episode_and_it_survives_a_restart(redis_url, tmp_path):
    first = _replica(redis_url, str(tmp_path / "a"))
    second = _replica(redis_url, str(tmp_path / "b"))
    try:
        opened = httpx.post(
            f"{first.base}/v1/episodes",
            json={"query": "Convert", "functions": [FX_FUNCTION], "budget": 10},
            timeout=30,
        ).json()
        episode = opened["episode_id"]
        assert _call(first.base, episode, 1).status_code == 200
        assert _call(second.base, episode, 2).status_code == 200
        first.kill()  # the replica that opened the episode dies
        assert _call(second.base, episode, 3).status_code == 200
        restarted = _replica(redis_url, str(tmp_path / "a"))
        try:
            assert _call(restarted.base, episode, 4).status_code == 200
            verdict = httpx.post(
                f"{restarted.base}/v1/episodes/{episode}/verify",
                json={"answer": "100 USD is about 92 EUR"},
                timeout=60,
            )
            view = httpx.get(f"{second.base}/v1/episodes/{episode}", timeout=30).json()
        finally:
            restarted.stop()
    finally:
        first.stop()
        second.stop()
    assert [call["arguments"]["amount"] for call in view["calls"]] == [1, 2, 3, 4]
    assert view["budget"]["spent"] == 4
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["judge"]["backend"] == "learned"  # toolsim serve wired the judge in
    assert view["verdict"] == {k: v for k, v in verdict.json().items() if k != "episode_id"}
