"""Builders of StableToolBench pass-rate *result* files (for tests).

Steps are written as the reference evaluator writes them: ``Step N: {repr of
{'name', 'arguments', 'response'}}`` lines, the last one repeated as ``Final step``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def result_entry(
    query: str,
    answer: str | None,
    *,
    labels: tuple[str, ...] = ("Solved", "Solved", "Solved"),
    steps: list[tuple[str, dict, str]] = (),  # type: ignore[assignment]
    return_type: str = "give_answer",
) -> dict[str, Any]:
    """One entry; ``answer=None`` means the agent never called Finish."""
    messages = [
        {
            "name": name,
            "arguments": json.dumps(arguments),
            "response": json.dumps({"error": "", "response": response}),
        }
        for name, arguments, response in steps
    ]
    if answer is not None:
        arguments = json.dumps({"return_type": return_type, "final_answer": answer})
        messages.append({"name": "Finish", "arguments": arguments, "response": ""})
    lines = [f"Step {number}: {message}" for number, message in enumerate(messages, 1)]
    return {
        "query": query,
        "tool_names": [message["name"] for message in messages] or ["Finish"],
        "answer_steps": "\n".join(lines),
        "final_step": f"Final step: {messages[-1]}" if messages else "",
        "is_solved": {str(run): f"AnswerStatus.{label}" for run, label in enumerate(labels)},
        "length": len(messages),
    }


def write_results(folder: Path, group: str, entries: dict[str, Any]) -> Path:
    """``folder/<group>_<folder name>.json``, as the reference names its result files."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{group}_{folder.name}.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path
