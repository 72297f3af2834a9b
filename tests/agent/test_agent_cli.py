"""``toolsim run``: the command over the library, its errors, and a real ``toolsim serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from agent_support import BACKEND, call, finish, load, steps_done
from support import free_port, wait_for
from typer.testing import CliRunner

from toolsim.catalog.names import function_name
from toolsim.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "TOOLSIM_HOME": str(tmp_path / "home"),
        "TOOLSIM_AGENT__BACKEND": BACKEND,
        "TOOLSIM_SIMULATOR__BACKEND": "schema",
    }


def invoke(env: dict[str, str], *args: str):
    return runner.invoke(app, ["run", *args], env=env)


def test_run_writes_the_run_folder_and_a_summary(env, model, tmp_path):
    def policy(request):
        if steps_done(request) == 0:
            return call("current_weather_for_skycast_weather", city="Lisbon")
        return finish("sunny")

    model.policy = policy
    out = tmp_path / "out"
    result = invoke(env, "--queries", "example", "--query-ids", "1,2", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert "answered" in result.output and "model calls" in result.output
    assert sorted(load(out / "converted/example.json")) == ["1", "2"]
    manifest = load(out / "run.json")
    assert manifest["agent"] == "cot" and manifest["method"] == "CoT@1"
    assert manifest["queries"] == ["example"] and manifest["agent_model"] == model.name
    assert manifest["action_mode"] == "tools" and manifest["finished"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agent", "react"], "unknown agent 'react'; available: cot, dfsdt"),
        (["--costs", "seed:x"], "bad cost spec 'seed:x'"),
        (["--costs", "missing-costs.json"], "cannot read the cost file missing-costs.json"),
        (["--planner", "nope"], "planner"),
    ],
)
def test_bad_options_are_one_clear_error(env, model, tmp_path, args, message):
    result = invoke(env, "--queries", "example", "--out", str(tmp_path / "o"), *args)

    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_a_missing_query_file_is_named(env, model, tmp_path):
    missing = tmp_path / "G9.json"
    result = invoke(env, "--queries", str(missing), "--out", str(tmp_path / "o"))

    assert result.exit_code == 1
    assert f"no such file or folder: {missing}" in " ".join(result.output.split())


def test_no_queries_is_an_error(env, model, tmp_path):
    result = invoke(env, "--out", str(tmp_path / "o"))

    assert result.exit_code == 1 and "--queries" in result.output


def test_several_query_files_follow_one_option(env, model, tmp_path, shared_data):
    model.policy = lambda request: finish("x")
    folder = shared_data / "stabletoolbench/solvable_queries/test_instruction"
    out = tmp_path / "o"
    result = invoke(
        env,
        "--queries",
        str(folder / "G1_instruction.json"),
        str(folder / "G2_instruction.json"),
        "--query-ids",
        "G1_instruction:588,G2_instruction:1643",
        "--out",
        str(out),
    )

    assert result.exit_code == 0, result.output
    assert (out / "converted/G1_instruction.json").is_file()
    assert (out / "converted/G2_instruction.json").is_file()


@pytest.mark.slow
def test_run_against_a_running_toolsim_serve(env, model, tmp_path, shared_data):
    queries = shared_data / "stabletoolbench/solvable_queries/test_instruction/G1_instruction.json"
    first = json.loads(queries.read_text())[0]
    api = first["api_list"][0]
    port = free_port()
    server_env = {**os.environ, **env}
    command = [sys.executable, "-m", "toolsim", "serve", "--port", str(port)]
    command += ["--tools", str(queries)]
    server = subprocess.Popen(
        command, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, "the server is up")
        function = function_name(api["tool_name"], api["api_name"])
        arguments = {p["name"]: p.get("default") or "x" for p in api["required_parameters"]}

        def policy(request):
            if steps_done(request) == 0:
                return call(function, **arguments)
            return finish("done")

        model.policy = policy
        out = tmp_path / "out"
        result = invoke(
            env,
            "--queries",
            str(queries),
            "--query-ids",
            str(first["query_id"]),
            "--out",
            str(out),
            "--server",
            base,
        )
        assert result.exit_code == 0, result.output
        record = load(out / f"records/G1_instruction/{first['query_id']}.json")
        assert record["status"] == "answered"
        assert record["calls"][0]["function"] == function
        assert record["calls"][0]["source"] == "simulated"
        stats = httpx.get(f"{base}/stats").json()
        assert "simulated" in json.dumps(stats)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_an_unreachable_server_is_a_clear_error(env, model, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke(env, "--queries", "example", "--out", str(tmp_path / "o"), "--server", url)

    assert result.exit_code == 1
    assert f"cannot reach the tool server at {url}" in " ".join(result.output.split())
