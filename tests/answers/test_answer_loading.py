"""Loading answers: the reference converted format, run folders, and everything malformed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from answers.converted_files import entry, record, write_group, write_run

from toolsim.answers import load_answer_sets
from toolsim.answers.converted import parse_finish
from toolsim.errors import UserError
from toolsim.files import DamagedFile, DamagedFiles

CONVERTED = "stabletoolbench/data_example/model_predictions_converted"


def test_reference_converted_file_loads(shared_data: Path) -> None:
    path = shared_data / CONVERTED / "virtual_chatgpt_cot" / "G1_instruction.json"
    [answer_set] = load_answer_sets(path)
    assert answer_set.label == "virtual_chatgpt_cot"
    assert answer_set.group == "G1_instruction"
    assert sorted(answer_set.answers) == ["1073", "588", "608"]
    assert answer_set.problems == []
    unfinished = answer_set.answers["588"]
    assert not unfinished.finished and unfinished.final_answer == ""
    assert [step.function for step in unfinished.steps][:2] == [
        "transfermarkt_search_for_theclique",
        "transfermarkt_details_for_theclique",
    ]
    assert len(unfinished.steps) == 6
    finished = answer_set.answers["608"]
    assert finished.finished and finished.method == "CoT@1"
    assert finished.final_answer.startswith("You can visit the 'gmhikaru' channel")
    assert all(step.function != "Finish" for step in finished.steps)
    assert finished.query.startswith("I'm a fan of the streamer 'gmhikaru'")
    assert finished.available_tools[0]["name"] == "get_channel_clips_for_kick_com_api_kick_api"


def test_folder_of_method_folders_gives_one_label_each(shared_data: Path) -> None:
    sets = load_answer_sets(shared_data / CONVERTED)
    assert sorted((s.label, s.group) for s in sets) == [
        ("virtual_chatgpt_cot", "G1_instruction"),
        ("virtual_chatgpt_dfs", "G1_instruction"),
    ]
    dfs = next(s for s in sets if s.label == "virtual_chatgpt_dfs")
    assert all(answer.finished for answer in dfs.answers.values())
    assert {answer.method for answer in dfs.answers.values()} == {"DFS_woFilter_w2"}


def test_dfs_tree_steps_are_every_node_depth_first(tmp_path: Path) -> None:
    def tool(name: str, children: list) -> dict:
        message = {"name": name, "arguments": "{}", "response": '{"error": "boom", "response": ""}'}
        return {"role": "tool", "message": message, "next": children}

    tree = [tool("a", [tool("b", []), tool("c", [tool("d", [])])])]
    data = entry("q", "fine")
    data["answer"]["answer_details"] = tree
    path = write_group(tmp_path / "m", "G", {"1": data})
    [answer_set] = load_answer_sets(path)
    steps = answer_set.answers["1"].steps
    assert [step.function for step in steps] == ["a", "b", "c", "d"]
    assert {step.error for step in steps} == {"boom"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"return_type": "give_answer", "final_answer": "Paris"}', ("Paris", "give_answer")),
        ('{"return_type": "give_up_and_restart"}', ("", "give_up_and_restart")),
        ('{"return_type": "give_answer", "final_answer": "un"terminated', ("un", "give_answer")),
        ("just a plain answer", ("just a plain answer", "give_answer")),
        ("", ("", "")),
        ('{"final_answer": {"city": "Oslo"}}', ('{"city": "Oslo"}', "give_answer")),
    ],
)
def test_finish_arguments_are_read_leniently(text: str, expected: tuple[str, str]) -> None:
    assert parse_finish(text) == expected


def test_gave_up_is_not_finished(tmp_path: Path) -> None:
    entries = {"1": entry("q", "I give up", return_type="give_up_and_restart")}
    [answer_set] = load_answer_sets(write_group(tmp_path / "m", "G", entries))
    assert not answer_set.answers["1"].finished


def test_run_folder_attaches_records_and_keeps_unconverted_queries(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run-1",
        "example",
        {"1": entry("q1", "done")},
        {
            "1": record("1", "example", cost=3, budget=5),
            "2": record("2", "example", status="failed", error="model down"),
        },
        planner="btp",
    )
    [answer_set] = load_answer_sets(run)
    assert answer_set.label == "run-1"
    assert answer_set.manifest is not None and answer_set.manifest.planner == "btp"
    assert answer_set.answers["1"].record.cost == 3
    failed = answer_set.answers["2"]
    assert not failed.finished and failed.record.status == "failed"
    # The converted folder alone is read as the same run.
    [again] = load_answer_sets(run / "converted")
    assert sorted(again.answers) == ["1", "2"]


def test_run_folder_group_with_records_only(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", "G", {}, {"7": record("7", "G", status="timeout")})
    [answer_set] = load_answer_sets(run)
    assert answer_set.group == "G" and not answer_set.answers["7"].finished


def test_a_truncated_file_is_an_error_naming_it_unless_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "method"
    write_group(folder, "good", {"1": entry("q", "a")})
    (folder / "broken.json").write_text('{"1": {"query": "q", "answ', encoding="utf-8")
    with pytest.raises(DamagedFile, match="broken.json: not valid JSON") as failed:
        load_answer_sets(folder)
    assert failed.value.path == folder / "broken.json" and "--skip-bad-files" in str(failed.value)
    skipping = DamagedFiles(skip=True)
    [good] = load_answer_sets(folder, skipping)
    assert good.group == "good" and sorted(good.answers) == ["1"]
    [skipped] = skipping.skipped
    assert skipped.startswith(f"{folder / 'broken.json'}: not valid JSON")


def test_missing_fields_name_the_file_and_query(tmp_path: Path) -> None:
    bad = entry("q", "a")
    del bad["answer"]["final_answer"]
    path = write_group(
        tmp_path / "m", "G", {"1": entry("q", "a"), "2": bad, "3": {"answer": {}}, "4": []}
    )
    with pytest.raises(DamagedFile, match="query 2: missing field 'answer.final_answer'"):
        load_answer_sets(path)
    skipping = DamagedFiles(skip=True)
    [answer_set] = load_answer_sets(path, skipping)
    assert sorted(answer_set.answers) == ["1"]
    assert skipping.skipped == [
        f"{path}: query 2: missing field 'answer.final_answer'",
        f"{path}: query 3: missing field 'query'",
        f"{path}: query 4: not an object",
    ]


def test_wrong_top_level_shape(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_group(folder, "good", {"1": entry("q", "a")})
    (folder / "list.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DamagedFile, match="list.json: expected an object of query id -> answer"):
        load_answer_sets(folder)


@pytest.mark.parametrize("content", ["", "{", "{}"])
def test_single_unusable_file_is_a_user_error_naming_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "G1_tool.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match="G1_tool.json"):
        load_answer_sets(path)


def test_missing_path_and_empty_folder_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file or folder"):
        load_answer_sets(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"empty: no answers found"):
        load_answer_sets(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UserError, match="expected a <group>.json"):
        load_answer_sets(tmp_path / "notes.txt")


def test_folder_of_folders_reports_empty_subfolders(tmp_path: Path) -> None:
    write_group(tmp_path / "all" / "a", "G", {"1": entry("q", "x")})
    (tmp_path / "all" / "empty").mkdir()
    sets = load_answer_sets(tmp_path / "all")
    assert [s.label for s in sets] == ["a"]
    assert any("empty: no answers found" in problem for problem in sets[0].problems)


def test_broken_manifest_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(UserError, match=r"run\.json: not valid JSON"):
        load_answer_sets(tmp_path / "run")


def test_a_broken_record_is_an_error_unless_skipped(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", "G", {"1": entry("q", "a")}, {})
    (run / "records" / "G" / "1.json").write_text("{", encoding="utf-8")
    with pytest.raises(DamagedFile, match=r"1\.json: not valid JSON"):
        load_answer_sets(run)
    skipping = DamagedFiles(skip=True)
    [answer_set] = load_answer_sets(run, skipping)
    assert answer_set.answers["1"].record is None
    assert "1.json: not valid JSON" in skipping.skipped[0]


@pytest.mark.parametrize(
    "damage",
    [b"\xff\xfe\x00garbage", b"", b'{"1": {"query": "q", "ans'],
    ids=["binary", "empty", "cut"],
)
def test_a_damaged_converted_file_is_never_rebuilt_from_the_records(
    tmp_path: Path, damage: bytes
) -> None:
    # Rebuilt from its records, the group's answers would be judged without their query.
    records = {"1": record("1", "G", final_answer="a"), "2": record("2", "G", final_answer="b")}
    run = write_run(tmp_path / "run", "G", {"1": entry("q", "a"), "2": entry("q", "b")}, records)
    write_run(tmp_path / "run", "H", {"3": entry("q", "c")}, {"3": record("3", "H")})
    (run / "converted" / "G.json").write_bytes(damage)
    with pytest.raises(DamagedFile, match=r"converted/G\.json"):
        load_answer_sets(run)
    skipping = DamagedFiles(skip=True)
    [kept] = load_answer_sets(run, skipping)
    assert kept.group == "H" and sorted(kept.answers) == ["3"]
    [skipped] = skipping.skipped
    assert skipped.startswith(str(run / "converted" / "G.json"))


def test_query_ids_never_become_paths(tmp_path: Path) -> None:
    # A hostile id in the file is only a key: no record lookup builds a path from it.
    run = write_run(tmp_path / "run", "G", {"../../etc/passwd": entry("q", "a")}, {})
    [answer_set] = load_answer_sets(run)
    assert answer_set.answers["../../etc/passwd"].record is None
    assert json.loads((run / "run.json").read_text())["agent"] == "cot"
