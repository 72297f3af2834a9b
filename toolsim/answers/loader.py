"""Find and read answer files: a ``toolsim run`` folder, converted ``<group>.json`` files, or both.

Accepted paths:

* a run folder (has ``run.json``): ``converted/<group>.json`` plus ``records/<group>/<id>.json``;
* a folder of converted ``<group>.json`` files (label: the folder's name);
* one ``<group>.json`` file (label: its folder's name);
* a folder of such folders (StableToolBench's ``model_predictions_converted/``);
* any of these holding StableToolBench pass-rate *result* files (``<group>_<method>.json``
  with ``answer_steps``, ``final_step`` and ``is_solved``), whose labels are kept.

A damaged answer file, entry or record is an error naming the file
(:class:`~toolsim.files.DamagedFile`), or, when the caller skips damaged files
(:class:`~toolsim.files.DamagedFiles`), left out and listed; a path that is
missing, unreadable or holds nothing loadable is a :class:`UserError` naming it.
Names read from files are dictionary keys only: record files are found by
listing folders, never by building paths from ids.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from toolsim.answers.converted import EntryError, answer_from_record, parse_entry
from toolsim.answers.models import AnswerSet
from toolsim.answers.results import group_of, is_result_entry, parse_result_entry
from toolsim.errors import UserError
from toolsim.files import DamagedFile, DamagedFiles, JsonFileError, read_json, utf8_name
from toolsim.runs import RunFolder, RunManifest, RunRecord, is_run_folder
from toolsim.runs.folder import CONVERTED


def _load_group_file(
    path: Path,
    label: str,
    damaged: DamagedFiles,
    run: RunFolder | None = None,
    manifest: RunManifest | None = None,
) -> AnswerSet | None:
    """The answers of one ``<group>.json``; None when it is damaged and skipped.

    A damaged file in a run folder is skipped whole, records included: rebuilding
    its answers from the records alone would judge them without their query.
    """
    if not utf8_name(path):  # its group would be a name no report can hold
        damaged.found(path, "its name is not UTF-8 text; rename it")
        return None
    try:
        data = read_json(path, "answer file")
    except JsonFileError as exc:
        damaged.found(path, exc.reason)
        return None
    if not isinstance(data, dict):
        damaged.found(path, "expected an object of query id -> answer")
        return None
    # Pass-rate result files are named <group>_<method>.json inside the method's folder.
    results = any(is_result_entry(entry) for entry in data.values())
    group = group_of(path.stem, path.parent.name) if results else path.stem
    result = AnswerSet(label=label, group=group, answers={}, manifest=manifest, source=path)
    records = run.read_records(group, damaged) if run else {}
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
            damaged.found(path, f"query {query_id}: {exc}")
    if run is not None:
        _add_unconverted(result, run, records, set(data))
    if not result.answers and not data:
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


def _load_run(folder: Path, damaged: DamagedFiles) -> list[AnswerSet]:
    run = RunFolder(folder)
    manifest = run.read_manifest()
    sets = []
    for group in run.groups():
        path = run.converted_file(group)
        if path.exists():
            found = _load_group_file(path, folder.name, damaged, run, manifest)
            if found is not None:
                sets.append(found)
        else:
            result = AnswerSet(
                label=folder.name, group=group, answers={}, manifest=manifest, source=path
            )
            _add_unconverted(result, run, run.read_records(group, damaged), ())
            sets.append(result)
    if not sets and not damaged.skipped:
        raise UserError(f"{folder}: a run folder with no answers yet (no converted/*.json)")
    return sets


def _load_folder(folder: Path, damaged: DamagedFiles, *, nested: bool) -> list[AnswerSet]:
    if is_run_folder(folder):
        return _load_run(folder, damaged)
    if folder.name == CONVERTED and is_run_folder(folder.parent):
        return _load_run(folder.parent, damaged)
    files = sorted(path for path in folder.glob("*.json") if path.is_file())
    if files:
        loaded = (_load_group_file(path, folder.name, damaged) for path in files)
        return [found for found in loaded if found is not None]
    if nested:
        sets: list[AnswerSet] = []
        empty: list[str] = []
        for sub in sorted(path for path in folder.iterdir() if path.is_dir()):
            try:
                sets.extend(_load_folder(sub, damaged, nested=False))
            except DamagedFile:
                raise
            except UserError as exc:  # a folder that holds no answers (not a damaged one)
                empty.append(exc.message)
        if sets:
            if empty:
                sets[0].problems.extend(empty)
            return sets
    raise UserError(
        f"{folder}: no answers found (expected run.json, <group>.json files, or folders of them)"
    )


def load_answer_sets(path: Path, damaged: DamagedFiles | None = None) -> list[AnswerSet]:
    """Every :class:`AnswerSet` under ``path`` (see the module docstring for what is accepted).

    A damaged answer file or record raises :class:`~toolsim.files.DamagedFile`
    naming it, unless ``damaged`` skips such files (then they are listed there
    and left out: possibly every set, so the result may be empty).

    Raises:
        UserError: the path is missing or unreadable, or holds nothing loadable.
    """
    damaged = damaged if damaged is not None else DamagedFiles()
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix != ".json":
            raise UserError(f"{path}: expected a <group>.json answer file")
        result = _load_group_file(path, path.parent.name or path.stem, damaged)
        if result is None:
            return []
        if not result.answers:
            raise UserError("; ".join(result.problems or [f"{path}: no readable answers"]))
        return [result]
    try:
        sets = _load_folder(path, damaged, nested=True)
    except PermissionError as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    if sets and not any(result.answers for result in sets):
        problems = [problem for result in sets for problem in result.problems]
        raise UserError(f"{path}: no readable answers ({'; '.join(problems[:5])})")
    return sets
