"""Agent fixtures: the scripted model, settings on a tmp home, a runner over example queries.

Helpers (reply builders, request readers) live in ``agent_support``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_support import BACKEND, Current, ScriptedChat

from toolsim.agent import AgentLimits, RunConfig, run_queries
from toolsim.settings import Settings


@pytest.fixture
def model() -> Iterator[ScriptedChat]:
    """The scripted model every run in this test talks to."""
    Current.model = ScriptedChat()
    yield Current.model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a tmp home: the scripted agent model, the schema simulator."""
    return Settings(
        home=tmp_path / "home", agent={"backend": BACKEND}, simulator={"backend": "schema"}
    )


@pytest.fixture
def run(settings: Settings, tmp_path: Path) -> Callable[..., Any]:
    """Run an agent on example queries: ``await run(agent="cot", ids=["1"], **config)``."""

    async def go(agent: str = "cot", ids: tuple[str, ...] = ("1",), **options: Any):
        limits = options.pop("limits", AgentLimits())
        config = RunConfig(
            queries=["example"],
            out=options.pop("out", tmp_path / "out"),
            agent=agent,
            query_ids=list(ids),
            limits=limits,
            **options,
        )
        return await run_queries(config, options.pop("settings", settings))

    return go
