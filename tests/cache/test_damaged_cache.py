"""A damaged diskcache file: refused at start naming the file; repair and export salvage it.

Three kinds of damage, as a disk or a careless copy leaves them: the file cut to
0 bytes, 8 KiB overwritten in the middle, the file cut in half.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolsim.cache.disk import DiskBackend
from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.salvage import salvage_copy
from toolsim.cli import app
from toolsim.errors import ToolsimError
from toolsim.files import DamagedFile

runner = CliRunner()
ENTRIES = 600


def _entry(n: int) -> CacheEntry:
    # Every tenth reply spans several pages (an overflow chain), as long replies do.
    text = ("long reply " * 900) if n % 10 == 0 else f"reply {n}"
    return CacheEntry(
        category="Weather",
        tool="sky",
        api="now",
        arguments={"n": n},
        reply=Reply(response={"n": n, "text": text}),
        source=Source.SIMULATED,
    )


def _key(n: int) -> str:
    return f"{n:064x}"


def _unchanged(key: str, entry: CacheEntry) -> bool:
    """Whether a salvaged entry is the one stored under ``key`` (its creation time aside)."""
    return entry.model_dump(exclude={"created_at"}) == _entry(int(key, 16)).model_dump(
        exclude={"created_at"}
    )


def _zero(data: bytes) -> bytes:
    return b""


def _overwritten(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + b"Z" * 8192 + data[middle + 8192 :]


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "zero": _zero,
    "overwritten": _overwritten,
    "cut": _cut,
}


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("healthy") / "cache"
    backend = DiskBackend(folder)
    backend.put_many((_key(n), _entry(n)) for n in range(ENTRIES))
    backend.close()
    return folder


@pytest.fixture(params=list(DAMAGE))
def damaged(request: pytest.FixtureRequest, healthy: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    shutil.copytree(healthy, folder)
    database = folder / "cache.db"
    database.write_bytes(DAMAGE[request.param](database.read_bytes()))
    return folder


def _cli(*args: str):
    return runner.invoke(app, list(args))


def test_a_damaged_cache_is_refused_at_start_naming_the_file(damaged: Path) -> None:
    with pytest.raises(DamagedFile) as refused:
        DiskBackend(damaged)
    assert refused.value.path == damaged / "cache.db"
    assert "toolsim cache repair" in refused.value.message
    for command in (["cache", "stats"], ["serve", "--port", "9"]):
        result = _cli(*command, "--cache-url", f"disk://{damaged}")
        assert result.exit_code == 1
        assert f"error: {damaged / 'cache.db'}" in result.output
        assert "listening" not in result.output and "Traceback" not in result.output


def test_repair_salvages_the_readable_entries_unchanged(damaged: Path) -> None:
    before = (damaged / "cache.db").read_bytes()
    result = _cli("cache", "repair", "--cache-url", f"disk://{damaged}")
    assert result.exit_code == 0, result.output
    [kept] = damaged.parent.glob("cache.damaged-*")
    assert (kept / "cache.db").read_bytes() == before  # the damaged file, untouched
    assert f"kept at {kept}" in result.output
    repaired = DiskBackend(damaged)  # opens: no damage left
    try:
        stored = dict(repaired.items())
        assert len(repaired) == len(stored)
        assert all(_unchanged(key, entry) for key, entry in stored.items())
        if before:
            assert len(stored) >= ENTRIES // 3  # most of what was readable came back
        for key in stored:  # listed under its API as any stored entry
            assert key in repaired.keys_for(("Weather", "sky", "now"))
    finally:
        repaired.close()
    again = _cli("cache", "repair", "--cache-url", f"disk://{damaged}")
    assert again.exit_code == 0 and "no damage found" in again.output


def test_export_reads_what_it_can_of_a_damaged_cache(damaged: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = _cli("cache", "export", str(out), "--cache-url", f"disk://{damaged}")
    assert result.exit_code == 0, result.output
    assert "damaged:" in result.output and "salvaged" in result.output
    exported = sum(len(json.loads(path.read_text())) for path in out.rglob("*.json"))
    assert f"exported {exported} entries" in result.output
    assert exported <= ENTRIES and (exported > 0) == ((damaged / "cache.db").stat().st_size > 0)


def test_damage_found_while_serving_names_the_file(healthy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    shutil.copytree(healthy, folder)
    backend = DiskBackend(folder)
    try:
        database = folder / "cache.db"
        database.write_bytes(_overwritten(database.read_bytes()))
        failures = []
        for n in range(ENTRIES):
            try:
                backend.get(_key(n))
            except ToolsimError as exc:
                failures.append(exc.message)
        assert failures, "no read met the damage"
        assert all(str(database) in message and "cache repair" in message for message in failures)
    finally:
        backend.close()


def _write_and_die(folder: Path) -> None:
    backend = DiskBackend(folder)
    backend.put_many((_key(n), _entry(n)) for n in range(100, 160))
    os._exit(0)  # killed: no close, so SQLite never copies its log back into the file


def test_entries_only_in_the_write_ahead_log_are_salvaged(tmp_path: Path) -> None:
    # A worker killed before SQLite copied its log into the file: the newest entries are
    # only in cache.db-wal. Then the file is cut: the log's pages still hold them.
    folder = tmp_path / "cache"
    backend = DiskBackend(folder)
    backend.put_many((_key(n), _entry(n)) for n in range(100))
    backend.close()
    writer = multiprocessing.get_context("fork").Process(target=_write_and_die, args=(folder,))
    writer.start()
    writer.join(60)
    assert writer.exitcode == 0 and (folder / "cache.db-wal").stat().st_size > 0
    database = folder / "cache.db"
    database.write_bytes(_cut(database.read_bytes()))

    salvaged = dict(salvage_copy(folder).ordered())
    assert [n for n in range(100, 160) if _key(n) in salvaged] == list(range(100, 160))
    assert all(_unchanged(key, entry) for key, entry in salvaged.items())
