"""Parse one entry of StableToolBench's converted answer format into an :class:`Answer`.

An entry is ``{query, available_tools, answer: {method, total_steps, final_answer,
answer_details}}``; ``final_answer`` holds the JSON arguments of the Finish call
and ``answer_details`` is a tree of ``{role, message, next: [...]}`` nodes whose
tool nodes carry ``{name, arguments, response}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolsim.answers.models import Answer, ToolStep
from toolsim.runs import FINISH, GIVE_ANSWER, GIVE_UP, QueryStatus, RunRecord

# Finish arguments that are not valid JSON (models write broken JSON now and then):
# the answer text is still recoverable from the first "final_answer" string.
_LENIENT_ANSWER = re.compile(r'"final_answer"\s*:\s*"((?:[^"\\]|\\.)*)', re.DOTALL)
_LENIENT_TYPE = re.compile(r'"return_type"\s*:\s*"([^"]*)"')


class EntryError(ValueError):
    """An entry that is not a usable answer; the message says what is wrong."""


def parse_finish(text: str) -> tuple[str, str]:
    """``(final_answer, return_type)`` from the Finish call's arguments text.

    Plain text that is not JSON is taken as the answer itself, given unless it
    says ``give_up_and_restart`` (:data:`~toolsim.runs.GIVE_UP`).
    """
    text = text.strip()
    if not text:
        return "", ""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        answer = data.get("final_answer", "")
        return_type = data.get("return_type", GIVE_ANSWER)
        answer = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        return answer.strip(), str(return_type)
    found = _LENIENT_ANSWER.search(text)
    if found:
        kind = _LENIENT_TYPE.search(text)
        answer = found.group(1).replace('\\"', '"').replace("\\n", "\n")
        return answer.strip(), kind.group(1) if kind else GIVE_ANSWER
    if GIVE_UP in text:
        return "", GIVE_UP
    return text, GIVE_ANSWER


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every node of an ``answer_details`` tree, depth first, without recursion limits."""
    stack = list(reversed(tree)) if isinstance(tree, list) else [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        yield node
        children = node.get("next") or []
        if isinstance(children, list):
            stack.extend(reversed(children))


def error_of(response: str) -> str:
    """The ``error`` field of a tool reply's JSON text ("" if none or not JSON)."""
    try:
        data = json.loads(response)
    except (json.JSONDecodeError, TypeError):
        return ""
    error = data.get("error", "") if isinstance(data, dict) else ""
    return error if isinstance(error, str) else json.dumps(error)


def text_of(value: Any) -> str:
    """A field as text: strings as they are, other values as JSON, None as ""."""
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def tool_steps(tree: Any) -> tuple[ToolStep, ...]:
    """The tool calls (Finish excluded) of an ``answer_details`` tree, in depth-first order."""
    steps = []
    for node in _nodes(tree):
        message = node.get("message")
        if node.get("role") != "tool" or not isinstance(message, dict):
            continue
        name = text_of(message.get("name"))
        if name == FINISH:
            continue
        response = text_of(message.get("response"))
        steps.append(
            ToolStep(
                function=name,
                arguments=text_of(message.get("arguments")),
                response=response,
                error=error_of(response),
            )
        )
    return tuple(steps)


def parse_entry(
    query_id: str, entry: Any, *, group: str, source: Path, record: RunRecord | None = None
) -> Answer:
    """The :class:`Answer` an entry describes; :class:`EntryError` when it cannot be one."""
    if not isinstance(entry, dict):
        raise EntryError("not an object")
    query = entry.get("query")
    answer = entry.get("answer")
    if not isinstance(query, str):
        raise EntryError("missing field 'query'")
    if not isinstance(answer, dict):
        raise EntryError("missing field 'answer'")
    missing = [name for name in ("method", "final_answer") if name not in answer]
    if missing:
        raise EntryError("missing field " + ", ".join(f"'answer.{name}'" for name in missing))
    final_answer, return_type = parse_finish(text_of(answer["final_answer"]))
    tools = entry.get("available_tools") or []
    return Answer(
        query_id=query_id,
        group=group,
        query=query,
        method=text_of(answer["method"]),
        final_answer=final_answer,
        finished=return_type == GIVE_ANSWER and bool(final_answer),
        steps=tool_steps(answer.get("answer_details") or []),
        available_tools=tuple(tool for tool in tools if isinstance(tool, dict)),
        details=answer.get("answer_details"),
        record=record,
        source=source,
    )


def answer_from_record(record: RunRecord, *, group: str, source: Path) -> Answer:
    """An answer for a query that has a run record but no converted entry (it failed early).

    Such a query was attempted, so it must count (as unfinished unless the record
    says otherwise) rather than vanish from the rate.
    """
    final_answer = record.final_answer.strip()
    steps = tuple(
        ToolStep(
            function=call.function,
            arguments=text_of(call.arguments),
            response=json.dumps({"error": call.error, "response": ""}),
            error=call.error,
        )
        for call in record.executed_calls
    )
    return Answer(
        query_id=record.query_id or source.stem,
        group=group,
        query="",
        method=record.method,
        final_answer=final_answer,
        finished=record.status is QueryStatus.ANSWERED and bool(final_answer),
        steps=steps,
        available_tools=(),
        details=None,
        record=record,
        source=source,
    )
