"""Recorded tool calls and their replies, read from the files the reference world left.

Accepted, file by file or folder by folder (recursively):

* raw answer files (``<id>_CoT@1.json``, ``<id>_DFS_woFilter_w2.json``): every
  ``Action`` -> ``Action Input`` node with an ``observation`` in chains and trees, and
  every ``function_call`` followed by a ``function`` message in ``train_messages``;
* converted answer files (``<group>.json`` of ``{query_id: {answer: {answer_details}}}``)
  and ``toolsim run`` folders (their answer files; the manifest and records are skipped):
  every tool node of the answer tree;
* pass-rate result files (``judge-labels/``: ``{query_id: {answer_steps: "Step 1: {...}"}}``);
* a reference response cache folder (``tool_response_cache/<Category>/<tool>_for_<Category>/
  <api>.json``), read into memory with the catalog's key normalisation.

Calls are identified by function name and canonical arguments; a call seen more
than once keeps its first reply. ``Finish`` is not a tool call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolsim.answers.results import NOT_LITERAL, literal_steps
from toolsim.cache.entry import Reply
from toolsim.catalog.catalog import Catalog
from toolsim.files import JsonFileError, read_json
from toolsim.runs import FINISH
from toolsim.runs.folder import is_run_metadata
from toolsim.world.extract import decode

_STEP = re.compile(r"(?:^|\n)Step \d+: ")


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One call and the reply it got, with where it was found."""

    function: str
    arguments: dict[str, Any]
    reply: Reply
    origin: str


@dataclass
class Recorded:
    """Every distinct recorded call found, and what could not be read."""

    calls: dict[tuple[str, str], RecordedCall] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files: int = 0

    def add(self, function: str, arguments: Any, observation: Any, origin: str) -> None:
        """Add one call unless it is Finish, unreadable, or already known."""
        if not function or function == FINISH:
            return
        args = _arguments(arguments)
        reply = _reply(observation)
        if args is None or reply is None:
            return
        key = (function, json.dumps(args, sort_keys=True, ensure_ascii=False))
        self.calls.setdefault(key, RecordedCall(function, args, reply, origin))


def _arguments(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return None
    if not value.strip():
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _reply(observation: Any) -> Reply | None:
    data = decode(observation) if isinstance(observation, str) else observation
    if not isinstance(data, dict) or "response" not in data:
        return None
    error = data.get("error") or ""
    return Reply(
        error=error if isinstance(error, str) else json.dumps(error), response=data["response"]
    )


def _walk_answer(node: Any, recorded: Recorded, origin: str, state: dict[str, Any]) -> None:
    """Document-order walk of a raw answer file (chains, trees and train_messages)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
            continue
        if not isinstance(item, dict):
            continue
        kind = item.get("node_type")
        if kind == "Action":
            state["action"] = item.get("description")
        elif kind == "Action Input" and "observation" in item:
            recorded.add(
                state.get("action", ""), item.get("description"), item["observation"], origin
            )
        call = item.get("function_call")
        if item.get("role") == "assistant" and isinstance(call, dict):
            state["call"] = call
        elif item.get("role") == "function" and isinstance(state.get("call"), dict):
            call = state.pop("call")
            recorded.add(call.get("name", ""), call.get("arguments"), item.get("content"), origin)
        stack.extend(reversed([value for value in item.values() if isinstance(value, dict | list)]))


def _read_steps(text: str, recorded: Recorded, origin: str) -> None:
    for _part, step in literal_steps(text, _STEP):
        if step is NOT_LITERAL:
            recorded.problems.append(f"{origin}: a step that is not a Python literal")
        elif isinstance(step, dict):
            recorded.add(
                str(step.get("name", "")), step.get("arguments"), step.get("response"), origin
            )


def _read_file(path: Path, recorded: Recorded) -> None:
    try:
        data = read_json(path, "answer file")
    except JsonFileError as exc:
        recorded.problems.append(f"{path}: {exc.reason}")
        return
    recorded.files += 1
    origin = str(path)
    if isinstance(data, dict) and "answer_generation" in data:
        _walk_answer(data, recorded, origin, {})
        return
    if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
        for query_id, entry in data.items():
            where = f"{origin}#{query_id}"
            if isinstance(entry.get("answer_steps"), str):
                _read_steps(entry["answer_steps"], recorded, where)
            elif isinstance(entry.get("answer"), dict):
                _walk_tree(entry["answer"].get("answer_details"), recorded, where)
        return
    recorded.problems.append(f"{path}: not an answer, converted or pass-rate result file")


def _walk_tree(tree: Any, recorded: Recorded, origin: str) -> None:
    from toolsim.answers.converted import tool_steps

    for step in tool_steps(tree or []):
        recorded.add(step.function, step.arguments, step.response, origin)


def is_reference_cache(folder: Path) -> bool:
    """Whether a folder is in StableToolBench's response cache layout."""
    return any(
        sub.is_dir() and "_for_" in sub.name
        for category in folder.iterdir()
        if category.is_dir()
        for sub in category.iterdir()
    )


def _read_reference_cache(folder: Path, catalog: Catalog, recorded: Recorded) -> None:
    from toolsim.cache.memory import MemoryBackend
    from toolsim.cache.reference_format import import_reference
    from toolsim.errors import ToolNotFound

    backend = MemoryBackend()
    report = import_reference(backend, folder, catalog)
    recorded.files += report.files
    recorded.problems.extend(f"{folder}: {problem}" for problem in report.problems)
    for _key, entry in backend.items():
        try:
            api = catalog.get((entry.category, entry.tool, entry.api))
        except (ToolNotFound, TypeError):
            continue
        response = {"error": entry.reply.error, "response": entry.reply.response}
        recorded.add(api.function_name, entry.arguments, response, str(folder))


def _json_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    else:
        # A run folder's manifest and records hold no replies: its answer files do.
        found = (p for p in path.rglob("*.json") if p.is_file() and not is_run_metadata(p))
        yield from sorted(found)


def read_recorded(paths: list[Path], catalog: Catalog | None = None) -> Recorded:
    """Every distinct recorded call under ``paths`` (see the module docstring)."""
    from toolsim.errors import UserError

    recorded = Recorded()
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise UserError(f"{path}: no such file or folder")
        if path.is_dir() and catalog is not None and is_reference_cache(path):
            _read_reference_cache(path, catalog, recorded)
            continue
        for file in _json_files(path):
            _read_file(file, recorded)
    return recorded
