"""Where each file of a run folder lives, and reading and writing them.

Layout (the contract between the agent, which writes it, and the answer loader,
evaluator, planner, ``toolsim bench``, ``toolsim world check`` and the fidelity
reader, which read it)::

    DIR/run.json                                  manifest (RunManifest)
    DIR/answer/<group>/<query_id>_<method>.json   reference raw answer
    DIR/converted/<group>.json                    reference converted answers
    DIR/records/<group>/<query_id>.json           toolsim per-query record (RunRecord)

Every file is written whole (:mod:`toolsim.files`), so an interrupted run never
leaves half a file; the record is written last, so its presence means the
query's files are complete. Readers find records by listing folders, never by
building a path from an id read from a file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from toolsim.errors import UserError
from toolsim.files import DamagedFiles, JsonFileError, read_json, utf8_name, write_json_atomic
from toolsim.runs.manifest import SAME_RUN, RunManifest
from toolsim.runs.parsing import InvalidRunFile
from toolsim.runs.record import FORMAT, RunRecord

MANIFEST = "run.json"
ANSWERS = "answer"
CONVERTED = "converted"
RECORDS = "records"

#: Query ids and groups become file names: only these characters, never a leading dot.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$")


def safe_name(name: str, what: str) -> str:
    """``name`` if it can be a file name as is; else a :class:`UserError`."""
    if not _SAFE_NAME.match(name):
        raise UserError(
            f"{what} {name!r} cannot be used as a file name "
            "(letters, digits, '_', '-', '.', '@' only)"
        )
    return name


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` is a run folder (it has a ``run.json``)."""
    return (Path(path) / MANIFEST).is_file()


def is_run_metadata(path: Path) -> bool:
    """Whether ``path`` is a run folder's manifest or a record (toolsim's files, not answers)."""
    path = Path(path)
    if path.name == MANIFEST:
        return is_run_folder(path.parent)
    return path.parent.parent.name == RECORDS and is_run_folder(path.parent.parent.parent)


class RunFolder:
    """The files of one run folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def manifest_file(self) -> Path:
        """``run.json``."""
        return self.root / MANIFEST

    @property
    def records_folder(self) -> Path:
        """``records/``: one folder of records per group."""
        return self.root / RECORDS

    def answer_file(self, group: str, query_id: str, method: str) -> Path:
        """The raw answer file of a query."""
        return self.root / ANSWERS / group / f"{query_id}_{method}.json"

    def converted_file(self, group: str) -> Path:
        """The converted answers of a group."""
        return self.root / CONVERTED / f"{group}.json"

    def record_file(self, group: str, query_id: str) -> Path:
        """The record of a query."""
        return self.records_folder / group / f"{query_id}.json"

    def groups(self) -> list[str]:
        """Every group with converted answers or records (a group whose queries all
        failed before answering has records only)."""
        found = {path.stem for path in (self.root / CONVERTED).glob("*.json")}
        if self.records_folder.is_dir():
            found.update(sub.name for sub in self.records_folder.iterdir() if sub.is_dir())
        return sorted(found)

    def read_manifest(self) -> RunManifest:
        """The manifest; a :class:`UserError` naming the file if it is not one."""
        try:
            return RunManifest.from_json(read_json(self.manifest_file, "run manifest"))
        except JsonFileError as exc:
            raise UserError(f"{self.manifest_file}: {exc.reason}") from None
        except InvalidRunFile as exc:
            raise UserError(f"{self.manifest_file}: {exc}") from None

    def read_records(self, group: str, damaged: DamagedFiles) -> dict[str, RunRecord]:
        """A group's records by query id (the file stem); a damaged one goes to ``damaged``."""
        found: dict[str, RunRecord] = {}
        for path in sorted((self.records_folder / group).glob("*.json")):
            if not utf8_name(path):
                damaged.found(path, "its name is not UTF-8 text; rename it")
                continue
            try:
                found[path.stem] = RunRecord.from_json(read_json(path, "run record"))
            except JsonFileError as exc:
                damaged.found(path, exc.reason)
            except InvalidRunFile as exc:
                damaged.found(path, f"not a run record: {exc}")
        return found

    def read_converted(self, group: str) -> dict[str, Any]:
        """A group's converted answers as written so far ({} if none can be read)."""
        try:
            data = read_json(self.converted_file(group), "converted answer file")
        except JsonFileError:
            return {}
        return data if isinstance(data, dict) else {}

    def finished_record(self, group: str, query_id: str, method: str) -> RunRecord | None:
        """The record of a query that needs no rerun (valid, done, answer file present)."""
        try:
            record = RunRecord.from_json(read_json(self.record_file(group, query_id)))
        except (JsonFileError, InvalidRunFile):
            return None
        if record.format != FORMAT or not record.status.done or record.query_id != query_id:
            return None
        # The answer file (the largest of a query) is read only for a record that passed.
        try:
            answer = read_json(self.answer_file(group, query_id, method))
        except JsonFileError:
            return None
        return record if isinstance(answer, dict) else None

    def check_compatible(self, manifest: RunManifest) -> RunManifest | None:
        """The previous manifest; a :class:`UserError` if it was a different kind of run."""
        if not self.manifest_file.exists():
            return None
        try:
            previous = RunManifest.from_json(read_json(self.manifest_file))
        except (JsonFileError, InvalidRunFile):
            raise UserError(
                f"{self.manifest_file} is not a run manifest; use another --out"
            ) from None
        before, now = previous.identity(), manifest.identity()
        for key in SAME_RUN:
            if before[key] != now[key]:
                raise UserError(
                    f"{self.root} holds a run with {key}={before[key]!r}, not "
                    f"{now[key]!r}; use another --out to start a new run"
                )
        return previous

    def write_manifest(self, manifest: RunManifest) -> None:
        """Write ``run.json``."""
        write_json_atomic(self.manifest_file, manifest.to_json())

    def write_answer(self, group: str, query_id: str, method: str, raw: dict[str, Any]) -> None:
        """Write a query's raw answer."""
        write_json_atomic(self.answer_file(group, query_id, method), raw)

    def write_converted(self, group: str, entries: dict[str, Any]) -> None:
        """Write a group's converted answers (all of them so far)."""
        write_json_atomic(self.converted_file(group), entries)

    def write_record(self, record: RunRecord) -> None:
        """Write a query's record (last: it marks the query's files complete)."""
        write_json_atomic(self.record_file(record.group, record.query_id), record.to_json())
