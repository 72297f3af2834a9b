"""The run folder: manifest, raw answers, converted answers, per-query records.

Layout (the contract shared with the evaluator and the planner)::

    DIR/run.json                                  manifest
    DIR/answer/<group>/<query_id>_<method>.json   reference raw answer
    DIR/converted/<group>.json                    reference converted answers
    DIR/records/<group>/<query_id>.json           toolsim per-query record

Every file is written whole (:mod:`toolsim.files`), so an interrupted
run never leaves half a file; the record is written last, so its presence means
the query's files are complete.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from toolsim.errors import UserError

FORMAT = 1
#: Statuses after which a query is not run again when a run is resumed.
DONE = frozenset({"answered", "gave_up", "no_answer"})
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


def read_json(path: Path) -> Any:
    """Parsed JSON, or None when the file is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


class RunDir:
    """Paths and reads/writes of one run folder."""

    def __init__(self, root: Path, method: str) -> None:
        self.root = Path(root)
        self.method = method

    @property
    def manifest(self) -> Path:
        """``run.json``."""
        return self.root / "run.json"

    def answer(self, group: str, query_id: str) -> Path:
        """The raw answer file of a query."""
        return self.root / "answer" / group / f"{query_id}_{self.method}.json"

    def record(self, group: str, query_id: str) -> Path:
        """The toolsim record of a query."""
        return self.root / "records" / group / f"{query_id}.json"

    def converted(self, group: str) -> Path:
        """The converted answers of a group."""
        return self.root / "converted" / f"{group}.json"

    def finished(self, group: str, query_id: str) -> dict[str, Any] | None:
        """The record of a query that needs no rerun (valid, done, answer file present)."""
        record = read_json(self.record(group, query_id))
        if (
            isinstance(record, dict)
            and record.get("format") == FORMAT
            and record.get("status") in DONE
            and record.get("query_id") == query_id
            and isinstance(read_json(self.answer(group, query_id)), dict)
        ):
            return record
        return None

    def check_compatible(self, manifest: dict[str, Any]) -> dict[str, Any] | None:
        """The previous manifest; a :class:`UserError` if it was a different kind of run."""
        if not self.manifest.exists():
            return None
        previous = read_json(self.manifest)
        if not isinstance(previous, dict):
            raise UserError(f"{self.manifest} is not a run manifest; use another --out")
        for key in ("agent", "planner", "budget", "costs", "agent_model", "param_names"):
            # Manifests written before a key existed had its default.
            default = "documented" if key == "param_names" else None
            if previous.get(key, default) != manifest.get(key):
                raise UserError(
                    f"{self.root} holds a run with {key}={previous.get(key)!r}, not "
                    f"{manifest.get(key)!r}; use another --out to start a new run"
                )
        return previous
