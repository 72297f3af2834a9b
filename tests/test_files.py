"""``toolsim.files``: the one JSON file reader and the atomic writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolsim.errors import UserError
from toolsim.files import JsonFileError, read_json, write_json_atomic


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
