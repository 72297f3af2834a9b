"""Reading JSON files with one contract, and writing files so no reader sees half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from toolsim.errors import UserError


class JsonFileError(UserError):
    """A JSON file that is missing, unreadable or not valid JSON.

    ``message`` names the file and what it is for (a command prints it as is);
    ``reason`` is the short cause alone, for lists of problems that name the file
    themselves.
    """

    def __init__(self, path: Path, what: str, reason: str, message: str) -> None:
        super().__init__(message, path=str(path))
        self.path = Path(path)
        self.what = what
        self.reason = reason


def read_json(path: Path, what: str = "file") -> Any:
    """The parsed JSON of a file (UTF-8, or UTF-16/32 with a BOM, as :func:`json.loads` reads).

    ``what`` names the kind of file in the message ("experience file", "cost file").

    Raises:
        JsonFileError: the file is missing or unreadable, or not valid JSON.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        cause = exc.strerror or str(exc)
        raise JsonFileError(
            path, what, f"cannot read: {cause}", f"cannot read the {what} {path}: {cause}"
        ) from None
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        cause = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except UnicodeDecodeError as exc:
        cause = f"not UTF-8 text: {exc.reason} at byte {exc.start}"
    raise JsonFileError(
        path, what, f"not valid JSON ({cause})", f"the {what} {path} is not valid JSON ({cause})"
    )


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``.

    The rename is atomic on POSIX, so ``path`` holds either its old or its new
    content, never a mix; the parent folder is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as sink:
            sink.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any, *, indent: int | None = 2) -> None:
    """Write ``data`` as UTF-8 JSON with :func:`write_text_atomic`."""
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=indent))


def write_files(out: Path, files: dict[str, str], *, what: str = "reports") -> list[Path]:
    """Write each ``name: text`` under ``out`` atomically; a clear error if it cannot."""
    written = []
    try:
        for name, text in files.items():
            write_text_atomic(out / name, text)
            written.append(out / name)
    except OSError as exc:
        raise UserError(f"cannot write {what} to {out}: {exc.strerror or exc}") from None
    return written
