"""Unpacking a downloaded archive safely, once."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from toolsim.errors import UserError

#: Written inside a folder once an archive is fully unpacked there.
DONE = ".unpacked"


def unzip(
    archive: Path, dest: Path, *, stamp: str, progress: Callable[[int], None] | None = None
) -> Path:
    """Unpack ``archive`` into ``dest`` unless it already was (same ``stamp``); return ``dest``.

    Every member must stay inside ``dest`` (no absolute paths, no ``..``, no links): an
    archive that tries otherwise is refused. An interrupted unpacking starts over.
    """
    marker = dest / DONE
    if marker.exists() and marker.read_text().strip() == stamp:
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            for member in members:
                path = PurePosixPath(member.filename)
                if path.is_absolute() or ".." in path.parts or member.external_attr >> 28 == 0xA:
                    raise UserError(f"{archive}: unsafe member {member.filename!r}; not unpacked")
            for member in members:
                zipped.extract(member, dest)
                if progress is not None:
                    progress(1)
    except zipfile.BadZipFile as exc:
        raise UserError(f"{archive} is not a valid zip archive: {exc}") from None
    marker.write_text(stamp + "\n")
    return dest


def find_folder(root: Path, name: str, *, depth: int = 4) -> Path | None:
    """The shallowest folder called ``name`` under ``root`` (at most ``depth`` levels down)."""
    level = [root]
    for _ in range(depth + 1):
        for folder in sorted(level):
            if folder.name == name and folder.is_dir():
                return folder
        level = [child for folder in level for child in folder.iterdir() if child.is_dir()]
    return None
