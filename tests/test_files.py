"""``toolsim.files``: the one JSON file reader and the atomic writer."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from toolsim.errors import UserError
from toolsim.files import (
    DamagedFile,
    JsonFileError,
    read_json,
    shown,
    utf8_name,
    write_json_atomic,
)


def test_what_the_writer_writes_the_reader_reads(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "data.json"
    write_json_atomic(path, {"name": "Zoë", "values": [1, 2.5, None]})
    assert read_json(path) == {"name": "Zoë", "values": [1, 2.5, None]}
    assert [p.name for p in path.parent.iterdir()] == ["data.json"]  # no temporary left


def test_a_byte_order_mark_is_read_as_json_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert read_json(path) == {"a": 1}


def test_a_missing_file_is_a_user_error_naming_it_and_its_kind(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(UserError) as info:
        read_json(path, "cost file")
    error = info.value
    assert isinstance(error, JsonFileError) and error.path == path
    assert error.message == f"cannot read the cost file {path}: No such file or directory"
    assert error.reason == "cannot read: No such file or directory"


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b'{"a": ', "Expecting value at line 1 column 7"),
        (b'{"a": "\xff"}', "not UTF-8 text"),
    ],
)
def test_invalid_json_says_where(tmp_path: Path, content: bytes, cause: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(JsonFileError) as info:
        read_json(path, "labels file")
    assert info.value.message.startswith(f"the labels file {path} is not valid JSON (")
    assert info.value.reason.startswith("not valid JSON (") and cause in info.value.reason


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_get_the_mode_the_umask_gives(tmp_path: Path, umask: int, mode: int) -> None:
    # In a fresh process: the umask is read once, when toolsim.files is imported.
    path = tmp_path / "report.json"
    script = (
        f"import os; os.umask({umask}); from toolsim.files import write_json_atomic; "
        f"write_json_atomic({str(path)!r}, {{'a': 1}})"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    assert stat.S_IMODE(path.stat().st_mode) == mode  # was 0600 whatever the umask


def test_a_name_that_is_not_utf8_is_shown_escaped() -> None:
    name = Path(os.fsdecode(b"G1_\xff.json"))
    assert not utf8_name(name) and utf8_name(Path("G1_é.json"))
    assert shown(name) == "G1_\\udcff.json"
    assert "G1_\\udcff.json" in DamagedFile(name, "damaged").message
