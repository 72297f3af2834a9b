"""Find and read answer files: a ``toolsim run`` folder, converted ``<group>.json`` files, or both.

Accepted paths:

* a run folder (has ``run.json``): ``converted/<group>.json`` plus ``records/<group>/<id>.json``;
* a folder of converted ``<group>.json`` files (label: the folder's name);
* one ``<group>.json`` file (label: its folder's name);
* a folder of such folders (StableToolBench's ``model_predictions_converted/``);
* any of these holding StableToolBench pass-rate *result* files (``<group>_<method>.json``
  with ``answer_steps``, ``final_step`` and ``is_solved``), whose labels are kept.

A malformed entry or file becomes a problem (``"file: what is wrong"``) and the
rest is loaded; a path that is missing, unreadable or holds nothing loadable is a
:class:`UserError` naming it. Names read from files are dictionary keys only:
record files are found by listing folders, never by building paths from ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolsim.answers.converted import EntryError, answer_from_record, parse_entry
from toolsim.answers.models import AnswerSet
from toolsim.answers.results import group_of, is_result_entry, parse_result_entry
from toolsim.errors import UserError
from toolsim.files import JsonFileError, read_json

MANIFEST = "run.json"


def _records(folder: Path, problems: list[str]) -> dict[str, dict[str, Any]]:
    """Records by query id (the file stem) in ``records/<group>/``."""
    found: dict[str, dict[str, Any]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        try:
            record = read_json(path, "run record")
        except JsonFileError as exc:
            problems.append(f"{path}: {exc.reason}")
            continue
        if not isinstance(record, dict):
            problems.append(f"{path}: expected a JSON object")
            continue
        found[path.stem] = record
    return found


def _load_group_file(
    path: Path, label: str, records_dir: Path | None = None, manifest: dict | None = None
) -> AnswerSet:
    problems: list[str] = []
    try:
        data = read_json(path, "answer file")
    except JsonFileError as exc:
        problems.append(f"{path}: {exc.reason}")
        data = {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected an object of query id -> answer")
        data = {}
    # Pass-rate result files are named <group>_<method>.json inside the method's folder.
    results = any(is_result_entry(entry) for entry in data.values())
    group = group_of(path.stem, path.parent.name) if results else path.stem
    result = AnswerSet(label=label, group=group, answers={}, manifest=manifest, source=path)
    result.problems.extend(problems)
    records = _records(records_dir / group, result.problems) if records_dir else {}
    for query_id, entry in data.items():
        try:
            if results:
                answer = parse_result_entry(
                    str(query_id), entry, group=group, method=label, source=path
                )
            else:
                answer = parse_entry(
                    str(query_id),
                    entry,
                    group=group,
                    source=path,
                    record=records.get(str(query_id)),
                )
            result.answers[str(query_id)] = answer
        except EntryError as exc:
            result.problems.append(f"{path}: query {query_id}: {exc}")
    for query_id, record in records.items():
        # Attempted but never converted (the agent failed before answering): it still counts.
        if query_id not in result.answers and query_id not in data:
            source = records_dir / group / f"{query_id}.json"  # type: ignore[operator]
            result.answers[query_id] = answer_from_record(record, group=group, source=source)
    if not result.answers and not result.problems:
        result.problems.append(f"{path}: no answers in the file")
    return result


def _load_run(folder: Path) -> list[AnswerSet]:
    try:
        manifest = read_json(folder / MANIFEST, "run manifest")
    except JsonFileError as exc:
        raise UserError(f"{folder / MANIFEST}: {exc.reason}") from None
    if not isinstance(manifest, dict):
        raise UserError(f"{folder / MANIFEST}: expected a JSON object")
    converted = folder / "converted"
    records = folder / "records"
    files = {path.stem: path for path in sorted(converted.glob("*.json"))}
    # A group whose queries all failed before answering has records but no converted file.
    if records.is_dir():
        for sub in sorted(records.iterdir()):
            if sub.is_dir() and sub.name not in files:
                files[sub.name] = converted / f"{sub.name}.json"
    sets = []
    for group, path in sorted(files.items()):
        if path.exists():
            sets.append(_load_group_file(path, folder.name, records, manifest))
        else:
            result = AnswerSet(
                label=folder.name, group=group, answers={}, manifest=manifest, source=path
            )
            for query_id, record in _records(records / group, result.problems).items():
                source = records / group / f"{query_id}.json"
                result.answers[query_id] = answer_from_record(record, group=group, source=source)
            sets.append(result)
    if not sets:
        raise UserError(f"{folder}: a run folder with no answers yet (no converted/*.json)")
    return sets


def _is_run(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def _load_folder(folder: Path, *, nested: bool) -> list[AnswerSet]:
    if _is_run(folder):
        return _load_run(folder)
    if folder.name == "converted" and _is_run(folder.parent):
        return _load_run(folder.parent)
    files = sorted(path for path in folder.glob("*.json") if path.is_file())
    if files:
        return [_load_group_file(path, folder.name) for path in files]
    if nested:
        sets: list[AnswerSet] = []
        empty: list[str] = []
        for sub in sorted(path for path in folder.iterdir() if path.is_dir()):
            try:
                sets.extend(_load_folder(sub, nested=False))
            except UserError as exc:
                empty.append(exc.message)
        if sets:
            if empty:
                sets[0].problems.extend(empty)
            return sets
    raise UserError(
        f"{folder}: no answers found (expected run.json, <group>.json files, or folders of them)"
    )


def load_answer_sets(path: Path) -> list[AnswerSet]:
    """Every :class:`AnswerSet` under ``path`` (see the module docstring for what is accepted).

    Raises:
        UserError: the path is missing or unreadable, or holds nothing loadable.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix != ".json":
            raise UserError(f"{path}: expected a <group>.json answer file")
        result = _load_group_file(path, path.parent.name or path.stem)
        if not result.answers:
            raise UserError("; ".join(result.problems))
        return [result]
    try:
        sets = _load_folder(path, nested=True)
    except PermissionError as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    if not any(result.answers for result in sets):
        problems = [problem for result in sets for problem in result.problems]
        raise UserError(f"{path}: no readable answers ({'; '.join(problems[:5])})")
    return sets
