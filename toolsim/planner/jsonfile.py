"""Reading the planner's JSON input files with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from toolsim.errors import UserError


def read_json(path: Path, what: str) -> Any:
    """The parsed file; a missing, unreadable or invalid file is a :class:`UserError`.

    ``what`` names the kind of file in the message ("experience file", "labels file").
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read the {what} {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"the {what} {path} is not valid JSON: {exc}") from None
