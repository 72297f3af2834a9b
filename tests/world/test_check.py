"""``toolsim world check``: facts an agent saw more than once, and how many agreed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from toolsim.cli import app
from toolsim.world.check import check_run


def _tool(name: str, arguments: dict, response: object, following: list) -> dict:
    reply = json.dumps({"error": "", "response": response})
    message = {"name": name, "arguments": json.dumps(arguments), "response": reply}
    return {"role": "tool", "message": message, "next": following}


def _answers(folder: Path, stars_in_details: int) -> Path:
    """A converted answer file: search hotels, then the first one's details."""
    details = _tool(
        "hotel_details_for_tripnest_hotels",
        {"hotel_id": "h1"},
        {"id": "h1", "name": "Casa", "stars": stars_in_details, "city": "Lisbon"},
        [],
    )
    search = _tool(
        "search_hotels_for_tripnest_hotels",
        {"city": "Lisbon"},
        {"city": "Lisbon", "hotels": [{"id": "h1", "name": "CASA ", "stars": 4}, {"id": "h2"}]},
        [details],
    )
    entry = {
        "query": "a hotel in Lisbon",
        "available_tools": [],
        "answer": {
            "method": "CoT@1",
            "total_steps": 2,
            "final_answer": json.dumps({"return_type": "give_answer", "final_answer": "Casa"}),
            "answer_details": [{"role": "system", "message": "", "next": [search]}],
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "example.json").write_text(json.dumps({"1": entry}))
    return folder


def test_agreeing_and_contradicting_facts_are_counted(tmp_path: Path) -> None:
    [same] = check_run(_answers(tmp_path / "same", stars_in_details=4))
    # name (case and spaces ignored), stars and city (the search's context) were seen twice.
    assert (same.facts_seen_twice, same.agreeing, same.rate) == (3, 3, 1.0)
    [differs] = check_run(_answers(tmp_path / "differs", stars_in_details=2))
    assert (differs.facts_seen_twice, differs.agreeing) == (3, 2)
    [wrong] = differs.disagreements
    assert (wrong["entity"], wrong["field"]) == ("tripnest_hotels/h1", "stars")
    assert sorted(wrong["values"].values()) == [2, 4]


def test_the_command_prints_the_line_and_writes_json(tmp_path: Path) -> None:
    folder = _answers(tmp_path / "run", stars_in_details=2)
    result = CliRunner().invoke(
        app, ["world", "check", str(folder), "--json", str(tmp_path / "w.json")]
    )
    assert result.exit_code == 0, result.output
    assert "2/3 facts seen twice agree" in result.output
    assert json.loads((tmp_path / "w.json").read_text())[0]["agreeing"] == 2


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["world", "check", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "no such file or folder" in " ".join(result.output.split())
