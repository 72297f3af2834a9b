"""``toolsim planner plan``: the table, the --json shape, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from toolsim.budget import parse_costs
from toolsim.catalog import Catalog
from toolsim.cli import app

runner = CliRunner()
BASE = ["planner", "plan", "--queries", "example", "--query-id", "1"]


def plan_json(*options: str) -> dict:
    result = runner.invoke(app, [*BASE, *options, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_json_has_the_documented_shape_and_respects_the_budget() -> None:
    data = plan_json("--budget", "12", "--costs", "seed:1:1-10")
    assert set(data) == {"budget", "apis", "total_cost", "total_value"}
    assert data["budget"] == 12
    query = Catalog.from_paths(["example"]).query("example", "1")
    costs = parse_costs("seed:1:1-10")
    assert [api["function"] for api in data["apis"]] == [a.function_name for a in query.apis]
    for api in data["apis"]:
        assert set(api) == {"function", "cost", "value", "cap", "count"}
        assert api["cost"] == costs.cost(api["function"])
        assert 0 <= api["count"] <= api["cap"]
        assert (api["value"], api["cap"]) == (0.1, 1)  # no experience: every API unseen
    assert data["total_cost"] == sum(a["cost"] * a["count"] for a in data["apis"]) <= 12
    assert abs(data["total_value"] - 0.1 * sum(a["count"] for a in data["apis"])) < 1e-9


def test_cost_files_and_planners_change_the_plan(tmp_path: Path) -> None:
    costs = tmp_path / "costs.json"
    costs.write_text(json.dumps({"*": 5, "air_quality_index_for_skycast_weather": 1}))
    data = plan_json("--budget", "6", "--costs", str(costs))
    counts = {api["function"]: api["count"] for api in data["apis"]}
    assert counts["air_quality_index_for_skycast_weather"] == 1
    assert sum(counts.values()) == 2 and data["total_cost"] == 6
    none = plan_json("--budget", "6", "--planner", "none")
    assert all(api["count"] is None for api in none["apis"]) and none["total_cost"] == 0


def test_the_table_shows_every_api_and_the_totals() -> None:
    result = runner.invoke(app, [*BASE, "--budget", "20", "--costs", "seed:1:1-10"])
    assert result.exit_code == 0, result.output
    assert "btp plan" in result.output and "never used before" in result.output
    assert "budget 20: planned cost 20, value 0.300" in result.output


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    zero = tmp_path / "zero.json"
    zero.write_text(json.dumps({"*": 0}))
    cases = {
        ("--budget", "5", "--costs", str(zero)): "a cost must be an integer >= 1, got 0",
        ("--budget", "5", "--planner", "nope"): "unknown planner 'nope'; available: btp",
        (
            "--budget",
            "5",
            "--experience",
            str(tmp_path / "none.json"),
        ): "cannot read the experience",
    }
    for options, message in cases.items():
        result = runner.invoke(app, [*BASE, *options])
        assert result.exit_code == 1
        assert message in " ".join(result.output.split())
    missing = runner.invoke(
        app, ["planner", "plan", "--queries", "example", "--query-id", "999", "--budget", "5"]
    )
    assert missing.exit_code == 1 and "no query '999' in example" in missing.output
