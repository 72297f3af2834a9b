"""Bad input to any command is one red line and exit 1, never a traceback."""

from __future__ import annotations

import ast
from pathlib import Path

from typer.testing import CliRunner

import toolsim
from toolsim.cli import app

runner = CliRunner()


def test_invalid_settings_name_each_variable_on_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOOLSIM_SERVER__PORT", "eighty")
    monkeypatch.setenv("TOOLSIM_CACHE__MODE", "sometimes")

    result = runner.invoke(app, ["cache", "stats", "--home", str(tmp_path)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: invalid settings: ")
    assert "cache.mode (TOOLSIM_CACHE__MODE): Input should be 'record'" in result.stderr
    assert "server.port (TOOLSIM_SERVER__PORT): Input should be a valid integer" in result.stderr
    assert "eighty" not in result.stderr  # values stay out: some settings are secrets


def test_a_path_the_system_refuses_is_one_line(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    out = not_a_folder / "run"

    result = runner.invoke(
        app, ["run", "--queries", "example", "--out", str(out), "--home", str(tmp_path)]
    )

    assert result.exit_code == 1
    assert result.stderr == f"error: Not a directory: {out}\n"


def test_the_missing_import_folder_is_a_user_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["cache", "import", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.stderr == f"error: no such folder: {tmp_path / 'nope'}\n"


def test_nothing_raises_the_unclassified_base_error() -> None:
    """``ToolsimError`` itself is a 500 on the server: input errors need a 4xx class."""
    package = Path(toolsim.__file__).parent
    bare = [
        f"{path.relative_to(package.parent)}:{node.lineno}"
        for path in sorted(package.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and isinstance(node.exc.func, ast.Name)
        and node.exc.func.id == "ToolsimError"
    ]
    assert bare == []
