"""Parse one entry of StableToolBench's pass-rate *result* format into an :class:`Answer`.

The reference evaluator writes ``<group>_<method>.json`` files of
``{query_id: {query, tool_names, answer_steps, final_step, is_solved, ...}}``:
``answer_steps`` is one ``Step N: {...}`` line per tool call on the answer's
path (Finish included), each a Python ``repr`` of ``{name, arguments,
response}``; ``final_step`` is ``Final step: {...}``, the last of them; and
``is_solved`` holds the reference judge's label per run (``{"0":
"AnswerStatus.Solved", ...}``). The labels become :attr:`Answer.reference`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolsim.answers.converted import EntryError, error_of, parse_finish, text_of
from toolsim.answers.models import Answer, ToolStep
from toolsim.runs import FINISH, GIVE_ANSWER

#: Where one step ends and the next begins (reprs escape newlines inside values).
_STEP_START = re.compile(r"(?:^|\n)(?:Step \d+|Final step): ")
_NAME = re.compile(r"""['"]name['"]\s*:\s*['"]([^'"]*)['"]""")
_STATUSES = ("Solved", "Unsolved", "Unsure")
#: What :func:`literal_steps` gives for a step that is not a Python literal.
NOT_LITERAL: Any = object()


def is_result_entry(entry: Any) -> bool:
    """Whether an entry is in the pass-rate result format (rather than the converted one)."""
    return isinstance(entry, dict) and "final_step" in entry and "answer" not in entry


def group_of(stem: str, folder: str) -> str:
    """The group of ``<group>_<method>.json`` in folder ``<method>`` (else the stem itself)."""
    suffix = f"_{folder}"
    if folder and stem.endswith(suffix) and len(stem) > len(suffix):
        return stem[: -len(suffix)]
    return stem


def literal_steps(text: str, start: re.Pattern[str] = _STEP_START) -> Iterator[tuple[str, Any]]:
    """Each non-blank step of an ``answer_steps`` (or ``final_step``) text, split where
    ``start`` matches, with its Python literal (:data:`NOT_LITERAL` when it is not one)."""
    for part in start.split(text):
        if not part.strip():
            continue
        try:
            value = ast.literal_eval(part.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = NOT_LITERAL
        yield part, value


def _step(text: str, value: Any) -> dict[str, str]:
    """``{name, arguments, response}`` of one step; lenient when it is not a dict's repr."""
    if isinstance(value, dict):
        return {key: text_of(value.get(key)) for key in ("name", "arguments", "response")}
    found = _NAME.search(text)
    return {"name": found.group(1) if found else "", "arguments": "", "response": text}


def parse_steps(text: str) -> list[dict[str, str]]:
    """Every step of an ``answer_steps`` (or ``final_step``) text, in order."""
    return [_step(part, value) for part, value in literal_steps(text_of(text))]


def reference_labels(value: Any) -> tuple[str, ...]:
    """The reference's labels in run order from ``is_solved`` (a dict, or its repr)."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise EntryError("field 'is_solved' is not a dict of labels") from None
    if not isinstance(value, dict):
        raise EntryError("field 'is_solved' is not a dict of labels")
    labels = []
    for run in sorted(value, key=lambda key: int(key) if str(key).isdigit() else 1 << 30):
        status = str(value[run]).rsplit(".", 1)[-1]
        if status not in _STATUSES:
            raise EntryError(f"unknown label {value[run]!r} in 'is_solved'")
        labels.append(status)
    return tuple(labels)


def parse_result_entry(
    query_id: str, entry: Any, *, group: str, method: str, source: Path
) -> Answer:
    """The :class:`Answer` a pass-rate result entry describes, its reference labels included."""
    if not isinstance(entry, dict):
        raise EntryError("not an object")
    query = entry.get("query")
    if not isinstance(query, str):
        raise EntryError("missing field 'query'")
    steps = parse_steps(entry.get("answer_steps") or "")
    final = parse_steps(entry.get("final_step") or "")
    last = final[-1] if final else (steps[-1] if steps else None)
    final_answer, return_type = "", ""
    if last is not None and last["name"] == FINISH:
        final_answer, return_type = parse_finish(last["arguments"])
    tools = entry.get("tool_names") or []
    if isinstance(tools, str):
        try:
            tools = ast.literal_eval(tools)
        except (ValueError, SyntaxError):
            tools = []
    return Answer(
        query_id=query_id,
        group=group,
        query=query,
        method=method,
        final_answer=final_answer,
        finished=return_type == GIVE_ANSWER and bool(final_answer),
        steps=tuple(
            ToolStep(
                function=step["name"],
                arguments=step["arguments"],
                response=step["response"],
                error=error_of(step["response"]),
            )
            for step in steps
            if step["name"] != FINISH
        ),
        available_tools=tuple({"name": str(name)} for name in tools if isinstance(name, str)),
        details=None,
        record=None,
        source=source,
        reference=reference_labels(entry.get("is_solved") or {}),
    )
