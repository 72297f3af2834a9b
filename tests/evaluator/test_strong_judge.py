"""``toolsim eval agreement --judge <endpoint>``: any OpenAI-compatible judge on the labels.

Against the fault-injecting stub server (real HTTP, the real openai client): a URL
for ``--judge`` is the openai backend at that endpoint; replies are cached, so a
repeated run makes no call and an interrupted one resumes with only what failed;
``--judge-prompts`` uses a folder's prompts exactly (toolsim's layout or a
StableToolBench evaluator's ``template.txt``). The real llama.cpp server test is at
the end (integration).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import require_local_model
from typer.testing import CliRunner

from toolsim.cli import app

LABELS = "judge-labels/toolllama_sft_cot"
SAMPLE = ("--sample", "12", "--seed", "3")
runner = CliRunner()

# A StableToolBench-format evaluator template, in our own words (the format is what matters:
# <function> blocks named as StableToolBench names them, with {query} and {answer}).
STB_TEMPLATE = """<function>
<name>check_answer_status</name>
<description>
FIRST PASS. Query: {query} Answer: {answer} Give answer_status.
</description>
</function>

<function>
<name>parse_answer_status</name>
<description>
SECOND PASS with details. Query: {query} Answer: {answer} Give answer_status.
</description>
</function>
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOOLSIM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TOOLSIM_RETRY__RETRIES", "0")  # a failed call fails at once
    return tmp_path


def _agreement(shared_data: Path, url: str, out: Path, *extra: str):
    return runner.invoke(
        app,
        [
            "eval",
            "agreement",
            "--labels",
            str(shared_data / LABELS),
            *SAMPLE,
            "--judge",
            url,
            "--judge-model",
            "stub-model",
            "--out",
            str(out),
            *extra,
        ],
    )


def test_any_endpoint_is_one_flag_away_and_a_rerun_is_all_cache(
    shared_data: Path, env: Path, stub
) -> None:
    stub.reply = json.dumps({"reason": "fine", "verdict": "Solved"})
    first = _agreement(shared_data, stub.base_url, env / "a")
    assert first.exit_code == 0, first.output
    doc = json.loads((env / "a" / "agreement.json").read_text())
    assert doc["judge"]["identity"]["backend"] == "openai"
    assert doc["judge"]["identity"]["model"] == "stub-model"
    assert doc["judge"]["calls_made"] == len(stub.requests) > 0
    assert all(body["model"] == "stub-model" for body in stub.requests)
    assert "Baselines on the same items" in first.output and "rule (answered" in first.output
    assert doc["baselines"]["rule"]["answered"]["n"] == doc["answered"]["n"]
    assert doc["ranking"]["systems"]
    again = _agreement(shared_data, stub.base_url, env / "b")
    assert again.exit_code == 0, again.output
    assert json.loads((env / "b" / "agreement.json").read_text())["judge"]["calls_made"] == 0
    assert len(stub.requests) == doc["judge"]["calls_made"]


def test_an_interrupted_measurement_resumes_with_only_what_failed(
    shared_data: Path, env: Path, stub
) -> None:
    stub.reply = json.dumps({"reason": "fine", "verdict": "Unsolved"})
    stub.sequence = ["ok", "ok", "ok", "500", "500"]  # then every request succeeds again
    stub.mode = "500"
    first = _agreement(shared_data, stub.base_url, env / "a")
    assert first.exit_code == 0, first.output
    made = len(stub.requests)
    failed = json.loads((env / "a" / "agreement.json").read_text())["judge"]["failed"]
    assert failed == made - 3 and failed > 0
    stub.mode = "ok"
    second = _agreement(shared_data, stub.base_url, env / "b")
    assert second.exit_code == 0, second.output
    doc = json.loads((env / "b" / "agreement.json").read_text())
    assert doc["judge"]["calls_made"] == failed  # only the failures are asked again
    assert doc["judge"]["failed"] == 0 and doc["counted"]["judge_unscored"] == 0


def test_stabletoolbench_prompts_are_used_exactly(shared_data: Path, env: Path, stub) -> None:
    folder = env / "tooleval_custom"
    folder.mkdir()
    (folder / "template.txt").write_text(STB_TEMPLATE)
    stub.reply = json.dumps({"reason": "cannot tell", "answer_status": "Unsure"})
    result = _agreement(shared_data, stub.base_url, env / "a", "--judge-prompts", str(folder))
    assert result.exit_code == 0, result.output
    first, second = stub.requests[0]["messages"], stub.requests[1]["messages"]
    assert [m["role"] for m in first] == ["user"]  # StableToolBench sends one user message
    texts = sorted([first[0]["content"], second[0]["content"]])
    assert texts[0].startswith("FIRST PASS. Query: ") and "Give answer_status." in texts[0]
    details = [body for body in stub.requests if "SECOND PASS" in body["messages"][0]["content"]]
    assert details and '"answer_details"' in details[0]["messages"][0]["content"]
    schema = stub.requests[0]["response_format"]["json_schema"]["schema"]
    assert "answer_status" in schema["required"]
    doc = json.loads((env / "a" / "agreement.json").read_text())
    # every verdict is Unsure (asked twice): the items count as disagreements, none unscored
    assert doc["counted"]["judge_unsure"] > 0 and doc["counted"]["judge_unscored"] == 0
    fingerprint = doc["judge"]["identity"]["fingerprint"]
    default = _agreement(shared_data, stub.base_url, env / "b")
    assert (
        json.loads((env / "b" / "agreement.json").read_text())["judge"]["identity"]["fingerprint"]
        != fingerprint
        and default.exit_code == 0
    )


def test_a_prompt_folder_in_toolsims_layout_overrides_only_its_files(
    shared_data: Path, env: Path, stub
) -> None:
    folder = env / "prompts"
    folder.mkdir()
    (folder / "pass_user.txt").write_text("MY PROMPT $query ::: $answer")
    stub.reply = json.dumps({"reason": "fine", "verdict": "Solved"})
    result = _agreement(shared_data, stub.base_url, env / "a", "--judge-prompts", str(folder))
    assert result.exit_code == 0, result.output
    messages = stub.requests[0]["messages"]
    assert messages[0]["role"] == "system" and "did what a user asked" in messages[0]["content"]
    assert messages[1]["content"].startswith("MY PROMPT ")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"pass_user.txt": "bad $nonsense"}, "uses a placeholder it may not"),
        ({"notes.txt": "hello"}, "unknown prompt files notes.txt"),
        ({}, "no prompt file"),
        (
            {"template.txt": "<function><name>x</name><description>y</description></function>"},
            "no check_answer_status or parse_answer_status",
        ),
    ],
)
def test_bad_prompt_folders_are_clear_errors(
    shared_data: Path, env: Path, stub, files: dict[str, str], message: str
) -> None:
    folder = env / "prompts"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    result = _agreement(shared_data, stub.base_url, env / "a", "--judge-prompts", str(folder))
    assert result.exit_code == 1 and message in result.output.replace("\n", " ")
    assert not stub.requests


def test_an_endpoint_without_a_model_name_says_which_flag(shared_data: Path, env: Path) -> None:
    result = runner.invoke(
        app,
        [
            "eval",
            "agreement",
            "--labels",
            str(shared_data / LABELS),
            *SAMPLE,
            "--judge",
            "http://127.0.0.1:9/v1",
            "--out",
            str(env / "a"),
        ],
    )
    assert result.exit_code == 1 and "TOOLSIM_JUDGE__MODEL" in result.output


@pytest.mark.integration
def test_the_real_local_server_as_an_endpoint_judge(shared_data: Path, env: Path) -> None:
    """llama.cpp serving SmolLM2 over HTTP: plumbing only (the model is far too small)."""
    require_local_model()
    from toolsim.llm.local import LocalModelOptions, LocalModelServer

    server = LocalModelServer(LocalModelOptions(home=env / "model-home", slots=2))
    endpoint = server.start()
    try:
        args = [
            "eval",
            "agreement",
            "--labels",
            str(shared_data / LABELS),
            "--sample",
            "4",
            "--seed",
            "1",
            "--judge",
            endpoint.base_url,
            "--judge-model",
            endpoint.model,
        ]
        first = runner.invoke(app, [*args, "--out", str(env / "a")])
        assert first.exit_code == 0, first.output
        doc = json.loads((env / "a" / "agreement.json").read_text())
        assert doc["judge"]["identity"]["backend"] == "openai" and doc["judge"]["calls_made"] > 0
        again = runner.invoke(app, [*args, "--out", str(env / "b")])
        assert again.exit_code == 0, again.output
        assert json.loads((env / "b" / "agreement.json").read_text())["judge"]["calls_made"] == 0
    finally:
        server.stop()
