"""Integration: both agents on example queries with the real embedded model (plumbing only).

The model (SmolLM2-135M) is far too small to solve anything; these tests check
that JSON actions come back through ``response_format``, that tools are called
through the in-process server (whose simulator is the same local model), and
that the files are valid and reproducible. Limits keep them to a few minutes.
"""

from __future__ import annotations

import pytest
from agent_support import load
from support import require_local_model

from toolsim.agent import AgentLimits, RunConfig, run_queries
from toolsim.answers import load_answer_sets
from toolsim.settings import Settings

pytestmark = pytest.mark.integration

RECORD_KEYS = {
    "format", "query_id", "group", "agent", "method", "planner", "status", "final_answer",
    "error", "model_calls", "failed_model_calls", "prompt_tokens", "completion_tokens",
    "tool_calls", "rejected_calls", "budget", "cost", "over_budget", "budget_exhausted", "calls",
    "plan", "wall_seconds", "finished",
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _require_model() -> None:
    # Module scope: runs before the autouse fixture that clears TOOLSIM_* variables.
    require_local_model()


@pytest.mark.parametrize(
    ("agent", "limits"),
    [
        ("cot", AgentLimits(max_steps=2, max_tokens=200)),
        ("dfsdt", AgentLimits(max_steps=2, max_model_calls=3, max_tokens=200)),
    ],
)
async def test_both_agents_write_valid_files_with_the_local_model(agent, limits, tmp_path):
    settings = Settings(home=tmp_path / "home")  # the embedded defaults, on a fresh home
    config = RunConfig(
        queries=["example"], out=tmp_path / "run", agent=agent, query_ids=["1", "3"],
        limits=limits,
    )  # fmt: skip

    summary = await run_queries(config, settings)

    assert summary.total == 2 and sum(summary.statuses.values()) == 2
    assert "timeout" not in summary.statuses
    manifest = load(tmp_path / "run/run.json")
    assert manifest["action_mode"] == "json" and manifest["agent_model"] == "SmolLM2-135M-Instruct"
    (answers,) = load_answer_sets(tmp_path / "run")
    assert sorted(answers.answers) == ["1", "3"] and not answers.problems
    for query_id in ("1", "3"):
        record = load(tmp_path / f"run/records/example/{query_id}.json")
        assert RECORD_KEYS <= set(record)
        # The small model produced parseable JSON actions at least once.
        assert record["model_calls"] > record["failed_model_calls"]
        assert record["prompt_tokens"] > 0 and record["model_calls"] <= limits.max_model_calls
        assert answers.answers[query_id].record.to_json() == record

    # Replaying the same inputs into a new folder asks the model nothing and writes the same.
    again = await run_queries(RunConfig(**{**config.__dict__, "out": tmp_path / "again"}), settings)
    assert again.statuses == summary.statuses
    for query_id in ("1", "3"):
        method = summary.method
        first = load(tmp_path / f"run/answer/example/{query_id}_{method}.json")
        second = load(tmp_path / f"again/answer/example/{query_id}_{method}.json")
        assert first == second
