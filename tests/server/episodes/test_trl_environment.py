"""The TRL environment example against a live server (the same door GRPOTrainer uses, no torch).

GRPOTrainer makes one environment object per rollout, calls ``reset(**row)``, lets the
model call the object's public methods as tools, then ``get_reward()``. Here a
scripted policy takes the model's place.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
from pathlib import Path

import pytest
from episode_fixtures import CREATE, GET, note_id
from support import serving

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "trl_environment.py"


@pytest.fixture
def environment_class():
    spec = importlib.util.spec_from_file_location("trl_environment", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def base_url(make_episodes_app):
    with serving(make_episodes_app()) as base:
        yield base


def test_rollouts_are_isolated_episodes_with_the_judges_reward(environment_class, base_url):
    make = environment_class.ToolsimEnvironment
    # What GRPOTrainer reads off the class: reset, get_reward, and the tool methods.
    public = {
        name for name, _ in inspect.getmembers(make, inspect.isfunction) if not name.startswith("_")
    }
    assert public == {"reset", "get_reward", "call_tool", "final_answer"}
    first, second = make(base_url), make(base_url)
    prompt = first.reset(query="Note my trip to Lisbon", tools=["Notes Hub"], extra="ignored")
    second.reset(query="Note my trip to Lisbon", tools=["Notes Hub"])
    assert "Note my trip to Lisbon" in prompt and CREATE in prompt

    created = json.loads(first.call_tool(CREATE, json.dumps({"title": "trip", "body": "Lisbon"})))
    second.call_tool(CREATE, json.dumps({"title": "trip", "body": "Porto"}))
    mine = json.loads(first.call_tool(GET, json.dumps({"note_id": note_id("trip")})))
    theirs = json.loads(second.call_tool(GET, json.dumps({"note_id": note_id("trip")})))
    bad = json.loads(first.call_tool(GET, "{not json"))
    stranger = json.loads(first.call_tool("stock_quote_for_market_pulse", "{}"))

    first.final_answer("Your Lisbon trip is noted.")
    assert created["error"] == "" and json.loads(mine["response"])["body"] == "Lisbon"
    assert json.loads(theirs["response"])["body"] == "Porto"
    assert "not JSON" in bad["error"] and "unknown function" in stranger["error"]
    try:
        assert first.get_reward() == 1.0 and second.get_reward() == 0.0  # second never answered
    finally:
        first.http.close()
        second.http.close()


def test_the_scripted_rollout_of_the_example_runs(environment_class, base_url):
    assert environment_class.scripted_rollout(base_url, seed=1) in (0.0, 1.0)
