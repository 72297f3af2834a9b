"""Budget hooks: costs per call, the gate consulted before every call, the spent total."""

from __future__ import annotations

from typing import Any

from agent_support import call, finish, load, offered, steps_done

from toolsim.budget import BudgetGate, CostTable, Rejection

WEATHER = "current_weather_for_skycast_weather"
FORECAST = "get_5_day_forecast_for_skycast_weather"
FX = "latestrates_for_quick_fx_rates"


class NoForecastGate(BudgetGate):
    """A planner-like gate: hides and rejects the forecast, advises, keeps a plan."""

    made: list[NoForecastGate] = []

    def __init__(self, apis, budget) -> None:
        super().__init__(apis, budget)
        self.checked: list[tuple[str, dict[str, Any]]] = []
        NoForecastGate.made.append(self)

    def offered(self) -> list[str]:
        return [name for name in super().offered() if name != FORECAST]

    def check(self, function: str, arguments: dict[str, Any]) -> Rejection | None:
        self.checked.append((function, arguments))
        if function == FORECAST:
            return Rejection("unplanned", "not executed: the plan does not include the forecast")
        return super().check(function, arguments)

    def advice(self) -> str | None:
        return "Plan: call the weather once, then finish."

    def record(self) -> dict[str, Any]:
        return {"plan": [WEATHER], **super().record()}


async def test_the_gate_hides_rejects_and_advises(run, model, tmp_path):
    NoForecastGate.made.clear()

    def policy(request):
        done = steps_done(request)
        if done == 0:
            return call(FORECAST, city="Lisbon")  # hidden, but the model calls it anyway
        if done == 1:
            return call(WEATHER, city="Lisbon")
        return finish("Sunny")

    model.policy = policy
    await run(gate_factory=lambda query, apis, budget: NoForecastGate(apis, budget))

    first = model.requests[0]
    assert FORECAST not in offered(first) and WEATHER in offered(first)
    assert first.messages[-1]["content"] == "Note: Plan: call the weather once, then finish."
    rejected = [m for m in model.requests[1].messages if m["role"] == "tool"][0]["content"]
    assert "the plan does not include the forecast" in rejected
    record = load(tmp_path / "out/records/example/1.json")
    assert record["calls"][0] == {
        "function": FORECAST,
        "arguments": {"city": "Lisbon"},
        "cost": 0,
        "error": "not executed: the plan does not include the forecast",
        "rejected": "unplanned",
        "source": "gate",
        "turn": 0,
    }
    assert record["rejected_calls"] == 1 and record["tool_calls"] == 1
    assert record["plan"]["plan"] == [WEATHER] and record["plan"]["spent"] == 1
    (gate,) = NoForecastGate.made
    assert [function for function, _ in gate.checked] == [FORECAST, WEATHER]


async def test_costs_are_charged_and_the_budget_enforced(run, model, tmp_path):
    costs = CostTable(prices={WEATHER: 3, FX: 2}, default=5)

    def policy(request):
        if steps_done(request) < 2:
            return call(WEATHER, city=f"City {steps_done(request)}")
        return finish("done")

    model.policy = policy
    await run(budget=4, costs=costs)

    record = load(tmp_path / "out/records/example/1.json")
    assert record["budget"] == 4 and record["cost"] == 3
    assert [c["cost"] for c in record["calls"]] == [3, 0]
    assert record["calls"][1]["rejected"] == "over_budget"
    assert record["budget_exhausted"] is True and record["over_budget"] is False
    # Before the first call everything under 4 is offered; after it only what costs <= 1.
    assert offered(model.requests[0]) == [WEATHER, FX, "Finish"]
    assert offered(model.requests[1]) == ["Finish"]
    assert "budget is used up" in model.requests[1].messages[-1]["content"]
    manifest = load(tmp_path / "out/run.json")
    assert manifest["budget"] == 4 and manifest["costs"]["prices"] == {WEATHER: 3, FX: 2}


async def test_without_a_budget_costs_are_counted(run, model, tmp_path):
    def policy(request):
        if steps_done(request) < 3:
            return call(WEATHER, city=f"City {steps_done(request)}")
        return finish("done")

    model.policy = policy
    await run(costs=CostTable.drawn(7, 2, 2))

    record = load(tmp_path / "out/records/example/1.json")
    assert record["budget"] is None and record["cost"] == 6
    assert record["over_budget"] is False and record["budget_exhausted"] is False


async def test_the_gate_is_global_over_the_dfsdt_tree(run, model, tmp_path):
    NoForecastGate.made.clear()
    model.policy = lambda request: call(WEATHER, city=f"City {len(model.requests)}")

    await run(
        agent="dfsdt",
        budget=5,
        gate_factory=lambda query, apis, budget: NoForecastGate(apis, budget),
    )

    (gate,) = NoForecastGate.made  # one gate for the whole tree
    record = load(tmp_path / "out/records/example/1.json")
    assert record["cost"] == 5 == gate.spent
    assert record["budget_exhausted"] is True
