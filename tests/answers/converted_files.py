"""Builders of answer files in the converted format and of ``toolsim run`` folders (for tests).

Imported as ``answers.converted_files`` (``tests/`` is on ``sys.path``) by the
loader tests and the evaluator tests alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def entry(
    query: str,
    answer: str | None,
    *,
    return_type: str = "give_answer",
    steps: list[tuple[str, dict, str]] = (),  # type: ignore[assignment]
    method: str = "CoT@1",
) -> dict[str, Any]:
    """One converted-format entry; ``answer=None`` means the agent never called Finish."""
    nodes: list[dict[str, Any]] = []
    for name, arguments, response in steps:
        message = {
            "name": name,
            "arguments": json.dumps(arguments),
            "response": json.dumps({"error": "", "response": response}),
        }
        nodes.append({"role": "tool", "message": message, "next": []})
    final = ""
    if answer is not None:
        final = json.dumps({"return_type": return_type, "final_answer": answer})
        finish = {"name": "Finish", "arguments": final, "response": ""}
        nodes.append({"role": "tool", "message": finish, "next": []})
    tree = {"role": "system", "message": "", "next": [{"role": "user", "message": "", "next": []}]}
    parent = tree["next"][0]
    for node in nodes:
        parent["next"] = [node]
        parent = node
    return {
        "query": query,
        "available_tools": [{"name": "Finish"}],
        "answer": {
            "method": method,
            "total_steps": len(nodes),
            "final_answer": final,
            "answer_details": [tree],
        },
    }


def write_group(folder: Path, group: str, entries: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{group}.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def record(query_id: str, group: str, **fields: Any) -> dict[str, Any]:
    base = {
        "format": 1,
        "query_id": query_id,
        "group": group,
        "agent": "cot",
        "method": "CoT@1",
        "planner": None,
        "status": "answered",
        "final_answer": "",
        "error": None,
        "budget": None,
        "cost": 0,
        "over_budget": False,
        "budget_exhausted": False,
        "calls": [],
    }
    return base | fields


def write_run(
    folder: Path,
    group: str,
    entries: dict[str, Any],
    records: dict[str, dict[str, Any]],
    **manifest: Any,
) -> Path:
    """A ``toolsim run`` output folder: run.json, converted/<group>.json, records/<group>/."""
    folder.mkdir(parents=True, exist_ok=True)
    base = {"toolsim": "0.1.0", "format": 1, "agent": "cot", "method": "CoT@1", "planner": None}
    base |= {"budget": None, "agent_model": "test-model", "queries": []}
    (folder / "run.json").write_text(json.dumps(base | manifest), encoding="utf-8")
    if entries:
        write_group(folder / "converted", group, entries)
    (folder / "records" / group).mkdir(parents=True, exist_ok=True)
    for query_id, data in records.items():
        path = folder / "records" / group / f"{query_id}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
    return folder
