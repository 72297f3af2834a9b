"""Import and export of StableToolBench's reference response cache.

Layout: ``<root>/<Category>/<tool>_for_<Category>/<api>.json``; each file maps the
Python ``repr`` of an argument dict to a reply ``{"error", "response"}``. Keys are
parsed with :func:`ast.literal_eval` (never ``eval``) and re-keyed with toolsim's
normalised keys, so ``{'n': '5'}`` and ``{'n': 5}`` become one entry when the
catalog documents ``n`` as a NUMBER. Within one import the first such key wins;
an import overwrites entries already stored under the same key.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolsim.cache.backend import CacheBackend
from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.keys import cache_key
from toolsim.catalog.catalog import Catalog, api_id
from toolsim.catalog.models import ApiSpec
from toolsim.errors import BadRequest, ToolNotFound, UserError
from toolsim.files import JsonFileError, read_json, write_json_atomic

#: Entries written per ``put_many`` call.
BATCH_SIZE = 1000
#: Problem descriptions kept in a report; the counts cover all of them.
MAX_PROBLEMS = 20

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import read, stored and skipped.

    Attributes:
        files: JSON files found under the root.
        entries: Entries stored.
        skipped: Keys skipped (unparsable key or non-object reply).
        skipped_files: Files skipped (unreadable, invalid JSON, bad folder name).
        duplicates: Keys equal to an earlier key after normalisation (first one kept).
        unknown_apis: Files whose API the given catalog does not know (0 without a catalog).
        with_error: Stored entries whose reply has a non-empty error.
        invalid_arguments: Stored entries whose arguments break the API's documentation
            (a call with them is refused as invalid unless recorded: these replay as recorded).
        problems: Up to ``MAX_PROBLEMS`` examples of skipped keys, files and duplicates.
    """

    files: int = 0
    entries: int = 0
    skipped: int = 0
    skipped_files: int = 0
    duplicates: int = 0
    unknown_apis: int = 0
    with_error: int = 0
    invalid_arguments: int = 0
    problems: tuple[str, ...] = field(default=())


class _Tally:
    """Mutable counters behind an :class:`ImportReport`."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(
            (
                "files",
                "entries",
                "skipped",
                "skipped_files",
                "duplicates",
                "unknown_apis",
                "with_error",
                "invalid_arguments",
            ),
            0,
        )
        self.problems: list[str] = []

    def problem(self, counter: str, message: str) -> None:
        self.counts[counter] += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)

    def report(self) -> ImportReport:
        return ImportReport(**self.counts, problems=tuple(self.problems))


def _plain(value: Any) -> Any:
    """Return ``value`` as plain JSON data (tuples become lists); raise ValueError otherwise."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite number")
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("non-string dict key")
        return {k: _plain(v) for k, v in value.items()}
    raise ValueError(f"{type(value).__name__} is not JSON data")


def parse_key(key: str) -> dict[str, Any]:
    """Parse a reference cache key (the ``repr`` of an argument dict) safely.

    An empty key or ``"{}"`` means no arguments. Raises ValueError for anything
    that is not a dict literal of plain JSON data.
    """
    if not key.strip():
        return {}
    try:
        parsed = ast.literal_eval(key)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ValueError(f"not a Python literal ({type(exc).__name__})") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"a {type(parsed).__name__}, not a dict")
    return _plain(parsed)


def _resolve_api(bare: ApiSpec, catalog: Catalog | None, tally: _Tally) -> ApiSpec:
    """The catalog's definition of an API (for parameter types), else the bare names."""
    if catalog is None:
        return bare
    try:
        return catalog.get(api_id(bare))
    except ToolNotFound:
        tally.counts["unknown_apis"] += 1
        return bare


def _json_files(root: Path) -> list[Path]:
    return sorted(root.glob("*/*/*.json"))


def count_reference_files(root: Path) -> int:
    """Number of API files in a reference cache folder (for progress bars)."""
    return len(_json_files(Path(root)))


def _read_file(path: Path, root: Path, tally: _Tally) -> dict[str, Any] | None:
    rel = path.relative_to(root)
    if not path.resolve().is_relative_to(root.resolve()):
        tally.problem("skipped_files", f"{rel}: links outside the cache folder")
        return None
    try:
        data = read_json(path, "reference cache file")
    except JsonFileError as exc:
        tally.problem("skipped_files", f"{rel}: unreadable ({exc.reason})"[:300])
        return None
    if not isinstance(data, dict):
        tally.problem("skipped_files", f"{rel}: not a JSON object")
        return None
    return data


def import_reference(
    backend: CacheBackend,
    root: Path,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
    observe: Callable[[list[tuple[str, CacheEntry]]], object] | None = None,
) -> ImportReport:
    """Import a reference response cache folder into ``backend``.

    Args:
        backend: Where entries are stored (in batches of ``BATCH_SIZE``).
        root: The ``tool_response_cache`` folder.
        catalog: When given and it knows an API, arguments are normalised with the
            API's parameter types; otherwise they are only key-sorted.
        progress: Called after each file with the number of keys in it.
        observe: Called with each batch just before it is stored (the world indexes
            imported replies through it).

    Returns:
        Counts of what was stored and skipped, with examples of problems.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"reference cache folder {str(root)!r} does not exist")
    tally = _Tally()
    seen: set[str] = set()
    pending: list[tuple[str, CacheEntry]] = []
    for path in _json_files(root):
        tally.counts["files"] += 1
        rel = path.relative_to(root)
        category, tool_dir = path.parent.parent.name, path.parent.name
        suffix = f"_for_{category}"
        if not tool_dir.endswith(suffix) or len(tool_dir) == len(suffix):
            tally.problem("skipped_files", f"{rel}: tool folder does not end with {suffix!r}")
            data = None
        else:
            data = _read_file(path, root, tally)
        if data is None:
            if progress is not None:
                progress(0)
            continue
        bare = ApiSpec(category=category, tool_name=tool_dir[: -len(suffix)], name=path.stem)
        api = _resolve_api(bare, catalog, tally)
        pending.extend(_file_entries(api, data, rel, seen, tally))
        if len(pending) >= BATCH_SIZE:
            _store(backend, pending, observe)
            pending = []
        if progress is not None:
            progress(len(data))
    if pending:
        _store(backend, pending, observe)
    return tally.report()


def _store(
    backend: CacheBackend,
    batch: list[tuple[str, CacheEntry]],
    observe: Callable[[list[tuple[str, CacheEntry]]], object] | None,
) -> None:
    if observe is not None:
        observe(batch)
    backend.put_many(batch)


def _file_entries(
    api: ApiSpec, data: dict[str, Any], rel: Path, seen: set[str], tally: _Tally
) -> Iterable[tuple[str, CacheEntry]]:
    for raw_key, value in data.items():
        shown = raw_key if len(raw_key) <= 80 else raw_key[:77] + "..."
        if not isinstance(value, dict):
            tally.problem("skipped", f"{rel}: key {shown!r}: reply is not an object")
            continue
        try:
            bound = api.signature.bind(parse_key(raw_key))
            normalized = bound.arguments
            key = cache_key(api, normalized)
        except (ValueError, TypeError, BadRequest) as exc:  # e.g. nested too deep
            tally.problem("skipped", f"{rel}: key {shown!r}: {exc}")
            continue
        if key in seen:
            tally.problem("duplicates", f"{rel}: key {shown!r} repeats an earlier key; kept first")
            continue
        seen.add(key)
        reply = Reply(error=str(value.get("error") or ""), response=value.get("response", ""))
        tally.counts["entries"] += 1
        tally.counts["with_error"] += bool(reply.error)
        tally.counts["invalid_arguments"] += bool(bound.problems)
        yield (
            key,
            CacheEntry.of(api, normalized, reply, Source.IMPORTED, origin_key=raw_key),
        )


def _safe_component(name: str, what: str) -> str:
    if not name or name in (".", "..") or any(c in name for c in "/\\\x00"):
        raise UserError(f"cannot export an entry whose {what} is {name!r}: not a safe file name")
    return name


def export_reference(backend: CacheBackend, root: Path, progress: Progress | None = None) -> int:
    """Write every stored entry to ``root`` in the reference cache layout.

    Each entry's key is its original reference key when it was imported, else the
    ``repr`` of its arguments (so an imported empty key comes back as ``"{}"``).
    Every file is written once, atomically. Names are checked before anything is
    written.

    Args:
        backend: The store to export.
        root: Destination folder (created if needed); existing files are replaced.
        progress: Called after each file with the number of entries in it.

    Returns:
        The number of entries written.

    Raises:
        UserError: An entry's category, tool or API name is not a safe path component.
    """
    groups: dict[tuple[str, str, str], list[CacheEntry]] = {}
    for _, entry in backend.items():
        ref = (
            _safe_component(entry.category, "category"),
            _safe_component(entry.tool, "tool"),
            _safe_component(entry.api, "API"),
        )
        groups.setdefault(ref, []).append(entry)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    top = root.resolve()
    written = 0
    for (category, tool, api), entries in sorted(groups.items()):
        folder = root / category / f"{tool}_for_{category}"
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.resolve().is_relative_to(top):
            raise UserError(f"export folder {str(folder)!r} links outside {str(root)!r}")
        content: dict[str, dict[str, Any]] = {}
        for entry in sorted(entries, key=lambda e: e.created_at):
            key = entry.origin_key or repr(entry.arguments)
            content.setdefault(key, entry.reply.model_dump())
        write_json_atomic(folder / f"{api}.json", content, indent=None)
        written += len(content)
        if progress is not None:
            progress(len(content))
    return written
