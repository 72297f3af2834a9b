"""Reading what is still readable out of a damaged diskcache folder (``toolsim cache repair``).

Two passes over a copy of the SQLite file:

1. through SQLite, row by row (its B-tree and write-ahead log respected): what a
   damaged page hides is skipped, the rest read exactly as stored;
2. when SQLite could not read everything (a file cut short leaves the tree's
   inner pages missing, so no row can be reached), straight from the file's
   pages: every table leaf page of the main file and of the write-ahead log is
   decoded (SQLite's documented file format: cells, varints, overflow chains)
   and the rows that look like stored entries are kept, the newest of each key.

Only entries (replies) are salvaged; the world's records are rebuilt from them,
and call counters start again from zero.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolsim.cache.backend import entry_of
from toolsim.cache.entry import CacheEntry

#: The diskcache file inside a cache folder.
DATABASE = "cache.db"
#: diskcache's ``Cache`` table: the columns read here, by position in its records.
_COLUMNS = 12
_KEY, _STORE_TIME, _MODE, _FILENAME, _VALUE = 1, 3, 9, 10, 11
#: diskcache's storage modes of a value: inside the row, or in a file beside it.
_MODE_RAW, _MODE_BINARY = 1, 2
_ENTRY = "e:"
_WINDOW = 256
_TABLE_LEAF = 0x0D
_WAL_HEADER, _FRAME_HEADER = 32, 24


@dataclass
class Salvaged:
    """The entries read out of a damaged cache, and how much could not be read."""

    #: key -> (entry, when it was stored): the newest version of each key.
    entries: dict[str, tuple[CacheEntry, float]] = field(default_factory=dict)
    #: Stored entries found but unreadable (a value cut short or not an entry).
    unreadable: int = 0
    #: Rows SQLite could not reach (a damaged page on the way), before the page scan.
    unreachable: int = 0
    #: Whether the pages were scanned too (SQLite alone could not read everything).
    scanned: bool = False

    def add(self, row: tuple[Any, ...], folder: Path) -> None:
        """Keep one row of the ``Cache`` table (key, store time, mode, file name, value)
        if it is a readable entry (the newest of each key wins)."""
        key, store_time, mode, filename, value = row
        if not isinstance(key, str) or not key.startswith(_ENTRY):
            return
        key = key[len(_ENTRY) :]
        stored = store_time if isinstance(store_time, int | float) else 0.0
        if key in self.entries and self.entries[key][1] >= stored:
            return
        try:
            if mode == _MODE_BINARY and isinstance(filename, str):
                value = (folder / filename).read_bytes()
            self.entries[key] = (entry_of(value), float(stored))
        except (OSError, ValueError, TypeError):
            self.unreadable += 1

    def ordered(self) -> list[tuple[str, CacheEntry]]:
        """The salvaged entries, oldest first (the order they were stored in)."""
        return [(key, entry) for key, (entry, _) in sorted(self.entries.items(), key=_when)]


def _when(item: tuple[str, tuple[CacheEntry, float]]) -> float:
    return item[1][1]


def salvage(folder: Path) -> Salvaged:
    """Every readable entry of the diskcache folder ``folder`` (best effort; never raises
    for damage). ``folder`` should be a copy: SQLite may write its log back into it."""
    found = Salvaged()
    complete = _through_sqlite(folder, found)
    if not complete:
        found.scanned = True
        for row in _scanned_rows(folder / DATABASE):
            found.add(row, folder)
    return found


def salvage_copy(folder: Path) -> Salvaged:
    """:func:`salvage` of a copy of ``folder`` (made beside it, removed after): the
    damaged folder itself is left exactly as it was."""
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}.") as work:
        copy = Path(work) / folder.name
        shutil.copytree(folder, copy)
        return salvage(copy)


def _through_sqlite(folder: Path, found: Salvaged) -> bool:
    """Read rows by rowid; whether every row was reached."""
    query = "SELECT key, store_time, mode, filename, value FROM Cache WHERE rowid BETWEEN ? AND ?"
    try:
        connection = sqlite3.connect(folder / DATABASE)
    except sqlite3.Error:
        return False
    with contextlib.closing(connection):
        try:
            (last,) = connection.execute("SELECT max(rowid) FROM Cache").fetchone()
        except sqlite3.Error:
            return False
        complete = True
        for start in range(1, (last or 0) + 1, _WINDOW):
            try:
                rows = connection.execute(query, (start, start + _WINDOW - 1)).fetchall()
            except sqlite3.Error:
                rows = []
                for rowid in range(start, start + _WINDOW):
                    try:
                        rows.extend(connection.execute(query, (rowid, rowid)).fetchall())
                    except sqlite3.Error:
                        found.unreachable += 1
                        complete = False
            for row in rows:
                found.add(row, folder)
        return complete


def _scanned_rows(database: Path) -> Iterator[tuple[Any, Any, Any, Any, Any]]:
    """(key, store_time, mode, filename, value) of every ``Cache`` row on a readable leaf
    page of the main file, then of its write-ahead log (later frames are newer)."""
    try:
        data = database.read_bytes()
    except OSError:
        return
    if len(data) < 100 or not data.startswith(b"SQLite format 3\x00"):
        return
    size = struct.unpack(">H", data[16:18])[0]
    page_size = 65536 if size == 1 else size
    usable = page_size - data[20]
    pages = {
        n + 1: data[n * page_size : (n + 1) * page_size] for n in range(len(data) // page_size)
    }
    yield from _leaf_rows(pages, usable)
    try:
        log = (database.parent / f"{database.name}-wal").read_bytes()
    except OSError:
        return
    frames: dict[int, bytes] = {}
    for offset in range(
        _WAL_HEADER, len(log) - _FRAME_HEADER - page_size + 1, _FRAME_HEADER + page_size
    ):
        number = struct.unpack(">I", log[offset : offset + 4])[0]
        frames[number] = log[offset + _FRAME_HEADER : offset + _FRAME_HEADER + page_size]
    yield from _leaf_rows({**pages, **frames}, usable, only=set(frames))


def _leaf_rows(
    pages: dict[int, bytes], usable: int, only: set[int] | None = None
) -> Iterator[tuple[Any, Any, Any, Any, Any]]:
    for number in sorted(only if only is not None else pages):
        page = pages[number]
        start = 100 if number == 1 else 0
        if len(page) <= start + 8 or page[start] != _TABLE_LEAF:
            continue
        cells = struct.unpack(">H", page[start + 3 : start + 5])[0]
        for index in range(cells):
            pointer = start + 8 + 2 * index
            with contextlib.suppress(IndexError, ValueError, struct.error, UnicodeDecodeError):
                offset = struct.unpack(">H", page[pointer : pointer + 2])[0]
                payload = _payload(pages, page, offset, usable)
                values = _record(payload)
                if len(values) == _COLUMNS:
                    yield (
                        values[_KEY],
                        values[_STORE_TIME],
                        values[_MODE],
                        values[_FILENAME],
                        values[_VALUE],
                    )


def _payload(pages: dict[int, bytes], page: bytes, offset: int, usable: int) -> bytes:
    """A table leaf cell's payload, with its overflow chain followed."""
    length, offset = _varint(page, offset)
    _rowid, offset = _varint(page, offset)
    most = usable - 35
    if length <= most:
        return page[offset : offset + length]
    least = (usable - 12) * 32 // 255 - 23
    local = least + (length - least) % (usable - 4)
    local = local if local <= most else least
    parts = [page[offset : offset + local]]
    following = struct.unpack(">I", page[offset + local : offset + local + 4])[0]
    remaining = length - local
    seen: set[int] = set()
    while remaining > 0:
        if following in seen or following not in pages:
            raise ValueError("overflow chain broken")
        seen.add(following)
        overflow = pages[following]
        chunk = overflow[4 : 4 + min(remaining, usable - 4)]
        parts.append(chunk)
        remaining -= len(chunk)
        following = struct.unpack(">I", overflow[:4])[0]
    return b"".join(parts)


def _record(payload: bytes) -> list[Any]:
    """The values of one SQLite record (header of serial types, then the values)."""
    header, offset = _varint(payload, 0)
    types = []
    while offset < header:
        kind, offset = _varint(payload, offset)
        types.append(kind)
    values: list[Any] = []
    position = header
    for kind in types:
        value, position = _value(payload, position, kind)
        values.append(value)
    if position > len(payload):
        raise ValueError("record cut short")
    return values


_INT_SIZES = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8}


def _value(payload: bytes, position: int, kind: int) -> tuple[Any, int]:
    if kind == 0:
        return None, position
    if kind in _INT_SIZES:
        size = _INT_SIZES[kind]
        raw = payload[position : position + size]
        return int.from_bytes(raw, "big", signed=True), position + size
    if kind == 7:
        return struct.unpack(">d", payload[position : position + 8])[0], position + 8
    if kind in (8, 9):
        return kind - 8, position
    if kind >= 12:
        size = (kind - 12) // 2
        raw = payload[position : position + size]
        return (raw if kind % 2 == 0 else raw.decode()), position + size
    raise ValueError(f"serial type {kind}")


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value = 0
    for index in range(9):
        byte = data[offset + index]
        if index == 8:
            return (value << 8) | byte, offset + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, offset + index + 1
    raise ValueError("varint")  # pragma: no cover - the loop always returns
