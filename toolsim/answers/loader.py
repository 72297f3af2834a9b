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

from collections.abc import Collection
from pathlib import Path

from toolsim.answers.converted import EntryError, answer_from_record, parse_entry
from toolsim.answers.models import AnswerSet
from toolsim.answers.results import group_of, is_result_entry, parse_result_entry
from toolsim.errors import UserError
from toolsim.files import JsonFileError, read_json
from toolsim.runs import RunFolder, RunManifest, RunRecord, is_run_folder
from toolsim.runs.folder import CONVERTED


def _load_group_file(
    path: Path, label: str, run: RunFolder | None = None, manifest: RunManifest | None = None
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
    records = run.read_records(group, result.problems) if run else {}
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
    if run is not None:
        _add_unconverted(result, run, records, set(data))
    if not result.answers and not result.problems:
        result.problems.append(f"{path}: no answers in the file")
    return result


def _add_unconverted(
    result: AnswerSet, run: RunFolder, records: dict[str, RunRecord], converted: Collection[str]
) -> None:
    """Queries attempted but never converted (the agent failed before answering) still count."""
    for query_id, record in records.items():
        if query_id not in result.answers and query_id not in converted:
            source = run.record_file(result.group, query_id)
            result.answers[query_id] = answer_from_record(record, group=result.group, source=source)


def _load_run(folder: Path) -> list[AnswerSet]:
    run = RunFolder(folder)
    manifest = run.read_manifest()
    sets = []
    for group in run.groups():
        path = run.converted_file(group)
        if path.exists():
            sets.append(_load_group_file(path, folder.name, run, manifest))
        else:
            result = AnswerSet(
                label=folder.name, group=group, answers={}, manifest=manifest, source=path
            )
            _add_unconverted(result, run, run.read_records(group, result.problems), ())
            sets.append(result)
    if not sets:
        raise UserError(f"{folder}: a run folder with no answers yet (no converted/*.json)")
    return sets


def _load_folder(folder: Path, *, nested: bool) -> list[AnswerSet]:
    if is_run_folder(folder):
        return _load_run(folder)
    if folder.name == CONVERTED and is_run_folder(folder.parent):
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
