"""The learned judge's folder: one owner of its three files, read and written here only.

* ``model.txt``: the LightGBM model (text format; its feature names carry the vocabulary);
* ``known.tsv``: the reference majority label of every training answer (``known.py``'s format);
* ``card.json``: how it was trained and its measured agreement.

One such folder ships with toolsim; ``toolsim judge train`` writes others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from toolsim.errors import UserError
from toolsim.files import write_files

MODEL_FILE = "model.txt"
KNOWN_FILE = "known.tsv"
CARD_FILE = "card.json"


@dataclass(frozen=True, slots=True)
class JudgeFiles:
    """The texts of a learned judge's three files."""

    model: str
    known: str
    card: str


def shipped_files() -> JudgeFiles:
    """The learned judge that ships with toolsim."""
    folder = resources.files("toolsim.evaluator.judging.learned").joinpath("model")
    return JudgeFiles(*(folder.joinpath(name).read_text("utf-8") for name in _NAMES))


_NAMES = (MODEL_FILE, KNOWN_FILE, CARD_FILE)


def read_files(folder: Path) -> JudgeFiles:
    """A learned judge's files from a folder ``toolsim judge train`` wrote.

    Raises:
        UserError: a file is missing or unreadable.
    """
    texts = []
    for name in _NAMES:
        path = Path(folder) / name
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"learned judge {folder}: cannot read {name}: {exc}") from None
    return JudgeFiles(*texts)


def write_judge_files(out: Path, files: JudgeFiles) -> list[Path]:
    """Write a learned judge's three files into the folder ``out``, atomically each.

    Raises:
        UserError: a file cannot be written.
    """
    texts = {MODEL_FILE: files.model, KNOWN_FILE: files.known, CARD_FILE: files.card}
    return write_files(out, texts, what="the judge")


def model_hash(text: str) -> str:
    """The sha256 of a model file's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
