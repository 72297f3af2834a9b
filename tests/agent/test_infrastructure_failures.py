"""When the world fails the agent: a model or simulator that does not answer.

Such a query is an infrastructure failure, not an agent failure: the run stops
before any query when a model cannot be reached at all, a failure met during a
query ends it with status ``infrastructure`` (never shown to the agent as the
API's reply unless asked), the command exits 1 listing it, and the pass rate
leaves it unscored. No credential of a URL reaches the agent, the record or the
output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_support import BACKEND, call, finish, load, steps_done
from model_stub import StubControl, refused_url, stub  # noqa: F401  (fixtures)
from typer.testing import CliRunner

from toolsim.cli import app

runner = CliRunner()
WEATHER = "current_weather_for_skycast_weather"
SECRET = "s3cret-pass"


def _with_credentials(url: str) -> str:
    return url.replace("http://", f"http://user:{SECRET}@")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "TOOLSIM_HOME": str(tmp_path / "home"),
        "TOOLSIM_AGENT__BACKEND": BACKEND,
        "TOOLSIM_RETRY__RETRIES": "0",
        "TOOLSIM_WORLD": "false",
    }


@pytest.fixture
def failing_simulator(env: dict[str, str], stub: StubControl) -> dict[str, str]:  # noqa: F811
    """A simulator whose model endpoint answers, but every simulation fails (HTTP 500).

    The model simulator alone: the default chain would answer the example suite's calls
    from its recorded replies (the exemplar simulator) without asking the model."""
    stub.mode = "500"
    return env | {
        "TOOLSIM_SIMULATOR__BACKEND": "openai",
        "TOOLSIM_SIMULATOR__BASE_URL": _with_credentials(stub.base_url),
        "TOOLSIM_SIMULATOR__MODEL": "stub-model",
    }


def _weather_then_finish(request):
    if steps_done(request) == 0:  # a city of each query's own: two distinct calls
        return call(WEATHER, city=f"City {len(json.dumps(request.messages))}")
    return finish("sunny")


def _run(env: dict[str, str], out: Path, *extra: str):
    args = ["run", "--queries", "example", "--query-ids", "1,2", "--out", str(out), *extra]
    return runner.invoke(app, args, env=env)


def test_an_unreachable_agent_model_stops_the_run_before_any_query(
    env: dict[str, str],
    refused_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = env | {
        "TOOLSIM_AGENT__BACKEND": "openai",
        "TOOLSIM_AGENT__BASE_URL": _with_credentials(refused_url),
        "TOOLSIM_AGENT__MODEL": "some-model",
        "TOOLSIM_SIMULATOR__BACKEND": "schema",
    }
    result = _run(env, tmp_path / "out")
    assert result.exit_code == 1
    where = refused_url.replace("http://", "http://***@")
    assert f"error: the agent model endpoint {where} cannot be reached" in result.output
    assert SECRET not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out" / "records").exists()


def test_a_simulator_outage_ends_the_query_and_the_agent_never_sees_it(
    failing_simulator: dict[str, str],
    model,
    stub: StubControl,  # noqa: F811
    tmp_path: Path,
) -> None:
    model.policy = _weather_then_finish
    out = tmp_path / "out"
    result = _run(failing_simulator, out)
    assert result.exit_code == 1
    assert "infrastructure: 2 queries failed because the world did not answer" in result.output
    assert "example:1: current_weather_for_skycast_weather: " in result.output
    assert SECRET not in result.output
    # One model request per query: the failure never came back to the model as a reply.
    assert len(model.requests) == 2
    record = load(out / "records" / "example" / "1.json")
    assert record["status"] == "infrastructure" and "HTTP 500" in record["error"]
    assert record["calls"][0]["cost"] == 0  # the world failed: nothing charged
    assert SECRET not in json.dumps(record)

    assert len(stub.requests) == 2  # one simulation each, failed, never stored
    again = _run(failing_simulator, out, "--allow-failures")
    assert again.exit_code == 0, again.output  # run again: both tried anew, still listed
    assert "infrastructure: 2 queries failed" in again.output and len(stub.requests) == 4


def test_failures_can_still_be_shown_to_the_agent_as_api_replies(
    failing_simulator: dict[str, str], model, tmp_path: Path
) -> None:
    model.policy = _weather_then_finish
    out = tmp_path / "out"
    result = _run(failing_simulator, out, "--failures-as-replies")
    assert result.exit_code == 0, result.output
    assert load(out / "records" / "example" / "1.json")["status"] == "answered"
    [seen] = [json.dumps(r.messages) for r in model.requests if steps_done(r) == 1][:1]
    assert "HTTP 500" in seen and SECRET not in seen


def test_the_pass_rate_leaves_infrastructure_failures_unscored_and_lists_them(
    failing_simulator: dict[str, str], model, tmp_path: Path
) -> None:
    model.policy = _weather_then_finish
    out = tmp_path / "out"
    assert _run(failing_simulator, out, "--allow-failures").exit_code == 0
    reports = tmp_path / "reports"
    result = runner.invoke(
        app,
        ["eval", "pass-rate", "--answers", str(out), "--out", str(reports), "--runs", "1"],
        env=failing_simulator,
    )
    assert result.exit_code == 0, result.output
    assert "unscored: out example:1: " in result.output
    doc = json.loads((reports / "pass_rate.json").read_text())
    [entry] = doc["entries"]
    assert entry["counts"]["unscored"] == 2 and entry["overall"]["mean"] is None
    assert len(doc["infrastructure_failures"]) == 2
    assert "Infrastructure failures" in (reports / "report.html").read_text()
