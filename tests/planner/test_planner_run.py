"""Planners inside ``toolsim run`` on the example suite, with a scripted spendthrift agent.

The agent calls whatever it is offered until told to finish, so what each run
spends is what its gate allowed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolsim.budget import PricedApi
from toolsim.catalog.models import Query
from toolsim.cli import app
from toolsim.planner import Experience, Plan, planner_registry

runner = CliRunner()
COSTS = "seed:1:1-10"


def run(env: dict[str, str], out: Path, *options: str) -> list[dict]:
    result = runner.invoke(
        app,
        ["run", "--queries", "example", "--agent", "cot", "--out", str(out)]
        + ["--action-mode", "tools", "--costs", COSTS, *options],
        env=env,
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(p.read_text()) for p in sorted((out / "records/example").glob("*.json"))]
    assert len(records) == 20
    return records


def average_cost(records: list[dict]) -> float:
    return sum(record["cost"] for record in records) / len(records)


@pytest.mark.slow
def test_btp_stays_within_budget_and_spends_less_than_none(
    run_env: dict[str, str], tmp_path: Path
) -> None:
    btp = run(run_env, tmp_path / "btp", "--planner", "btp", "--budget", "20")
    none = run(run_env, tmp_path / "none", "--planner", "none", "--budget", "20")
    prompt = run(run_env, tmp_path / "prompt", "--planner", "prompt", "--budget", "20")
    assert not any(record["over_budget"] for record in btp)
    assert all(record["cost"] <= 20 for record in btp + none)
    # Unseen APIs get one call each under BTP; with no plan the agent spends to the wall.
    assert average_cost(btp) < average_cost(none)
    for record in btp:
        plan = record["plan"]["plan"]
        planned = {api["function"]: api["count"] for api in plan["apis"]}
        made: dict[str, int] = {}
        for call in record["calls"]:
            if call["rejected"] is None:
                made[call["function"]] = made.get(call["function"], 0) + 1
        assert all(made[name] <= planned[name] for name in made)
        assert plan["total_cost"] <= 20
    # Being told the budget is no wall: the spendthrift goes over it.
    assert any(record["over_budget"] for record in prompt)


def test_the_budget_is_global_over_a_dfsdt_tree(run_env: dict[str, str], tmp_path: Path) -> None:
    options = ["--agent", "dfsdt", "--planner", "btp", "--budget", "9"]
    records = run(run_env, tmp_path / "dfs", *options)
    assert records[0]["method"].startswith("DFS")
    for record in records:
        executed = [call for call in record["calls"] if call["rejected"] is None]
        assert record["cost"] == sum(call["cost"] for call in executed) <= 9
        assert not record["over_budget"]


def test_experience_from_one_run_plans_the_next(run_env: dict[str, str], tmp_path: Path) -> None:
    run(run_env, tmp_path / "first", "--planner", "none", "--budget", "20")
    experience = tmp_path / "experience.json"
    built = runner.invoke(
        app,
        ["planner", "build-experience", str(tmp_path / "first"), "--out", str(experience)]
        + ["--embedder", "hashed"],
    )
    assert built.exit_code == 0, built.output
    assert "20 past queries" in built.output
    second = run(
        run_env,
        tmp_path / "second",
        *["--planner", "btp", "--budget", "20", "--experience", str(experience)],
    )
    apis = [api for record in second for api in record["plan"]["plan"]["apis"]]
    # Every API was used helpfully in the first run, so none is unseen (value 0.1) any more.
    assert apis and all(api["value"] > 0.1 for api in apis)
    assert all("past uses" in api["reason"] and api["cap"] >= 1 for api in apis)
    assert "20 past queries" in second[0]["plan"]["plan"]["reasons"][0]
    assert not any(record["over_budget"] for record in second)


class CheapestOnce:
    """A third-party planner: one call of the cheapest candidate, nothing else."""

    name = "test-cheapest-once"
    needs_budget = False

    def plan(
        self, query: Query, apis: Sequence[PricedApi], budget: int | None, experience: Experience
    ) -> Plan:
        cheapest = min(apis, key=lambda priced: priced.cost)
        return Plan.from_counts(self.name, apis, {cheapest.function: 1}, budget, ["cheapest"])


@pytest.fixture
def third_party():
    with planner_registry.override({CheapestOnce.name: CheapestOnce}):
        yield CheapestOnce.name


def test_a_third_party_planner_runs_through_toolsim_run(
    third_party: str, run_env: dict[str, str], tmp_path: Path
) -> None:
    records = run(run_env, tmp_path / "third", "--planner", third_party)
    for record in records:
        plan = record["plan"]["plan"]
        assert plan["planner"] == third_party and plan["reasons"] == ["cheapest"]
        (chosen,) = [api for api in plan["apis"] if api["count"]]
        executed = [call["function"] for call in record["calls"] if call["rejected"] is None]
        assert executed == [chosen["function"]]
        assert record["cost"] == chosen["cost"]


def test_unknown_planners_and_missing_budgets_fail_before_running(
    run_env: dict[str, str], tmp_path: Path
) -> None:
    cases = {
        "nope": "unknown planner 'nope'; available: btp, btp-mc, btp-replan, greedy",
        "btp": "the btp planner needs a budget (--budget B)",
    }
    for planner, message in cases.items():
        out = tmp_path / planner
        result = runner.invoke(
            app,
            ["run", "--queries", "example", "--out", str(out), "--planner", planner],
            env=run_env,
        )
        assert result.exit_code == 1
        assert message in " ".join(result.output.split())
        assert not (out / "records").exists()  # failed before any query ran
