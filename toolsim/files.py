"""Reading JSON and YAML files with one contract, and writing files so no reader sees half
of one."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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


def shown(path: Path | str) -> str:
    """``path`` as text that can always be printed or written: bytes of a name that is not
    UTF-8 (kept by Python as lone surrogates) are shown escaped, as ``\\udcff``."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def utf8_name(path: Path) -> bool:
    """Whether ``path``'s name is UTF-8 text (a name that is not cannot be reported as is)."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: The flag that turns damaged input files from an error into a listed skip.
SKIP_FLAG = "--skip-bad-files"


class DamagedFile(UserError):
    """An input file that cannot be read as what it should be (an answer file, a record).

    A damaged file must never quietly change a number: a command stops, naming
    it, unless the user asked to skip such files (:class:`DamagedFiles`).
    """

    def __init__(self, path: Path, reason: str, *, remedy: str = "") -> None:
        remedy = remedy or (
            f"repair or remove it, or pass {SKIP_FLAG} to leave damaged files out and list "
            "them in the report"
        )
        super().__init__(f"{shown(path)}: {reason} ({remedy})", path=shown(path))
        self.path = Path(path)
        self.reason = reason


@dataclass
class DamagedFiles:
    """What a reader does on meeting a damaged input file: stop (the default) or skip it.

    Readers call :meth:`found` for every damaged file; with ``skip`` the file is
    left out and listed in :attr:`skipped` (``"path: reason"``), which reports
    then show, so a number that left something out says so.
    """

    skip: bool = False
    skipped: list[str] = field(default_factory=list)

    def found(self, path: Path, reason: str) -> None:
        """A damaged file: raise :class:`DamagedFile`, or list it when skipping."""
        if not self.skip:
            raise DamagedFile(path, reason)
        self.skipped.append(f"{shown(path)}: {reason}")

    def unusable(self, error: UserError) -> None:
        """An input that cannot be used at all (a missing path, one with no answers):
        ``error`` is raised again, or, when skipping, its message (naming the input) listed."""
        if not self.skip:
            raise error
        self.skipped.append(error.message)


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


def parse_yaml(text: str, where: str, what: str = "file") -> Any:
    """The parsed YAML (or JSON) ``text`` read from ``where``; a :class:`UserError` naming
    ``where`` and the line if it is not YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserError(f"the {what} {where} is not valid YAML or JSON ({problem}{at})") from None


def read_yaml(path: Path, what: str = "file") -> Any:
    """The parsed YAML (or JSON) of a UTF-8 file; a :class:`UserError` naming the file if it is
    missing, unreadable, not text or not YAML. ``what`` names the kind of file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"the {what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    return parse_yaml(text, str(path), what)


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (``/proc``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (at import, before any thread)
    os.umask(mask)
    return mask


#: The mode a new file gets, as ``open()`` would give it (0o666 less the umask).
FILE_MODE = 0o666 & ~_umask()


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``.

    The rename is atomic on POSIX, so ``path`` holds either its old or its new
    content, never a mix; the parent folder is created if needed. The file gets the
    mode any new file would (``0o666`` less the umask), not the temporary file's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, FILE_MODE)
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
