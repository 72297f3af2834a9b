"""Results written to a pipe or file keep whole table cells."""

from __future__ import annotations

import io

import pytest
from rich.table import Table

from toolsim.cli.console import PIPED_WIDTH, _results_console


def _table_text(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> str:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    console = _results_console()
    table = Table(*(f"a long column heading {i}" for i in range(6)))
    table.add_row(*(f"value {i}" for i in range(6)))
    with console.capture() as captured:
        console.print(table)
    return captured.get()


def test_a_piped_table_is_not_cut_to_80_columns(monkeypatch):
    text = _table_text(monkeypatch, None)  # pytest's stdout is not a terminal
    assert "…" not in text
    assert "a long column heading 5" in text
    assert max(len(line) for line in text.splitlines()) <= PIPED_WIDTH


def test_columns_still_decides_the_width(monkeypatch):
    text = _table_text(monkeypatch, "60")
    assert max(len(line) for line in text.splitlines()) <= 60
    assert "…" in text or "a long column heading 5" not in text


def test_progress_to_a_pipe_is_log_lines(monkeypatch):
    # A live bar redrawn in place shows nothing in a pipe until the end (13 minutes once).
    from rich.console import Console

    from toolsim.cli import console as module

    clock = iter(range(0, 10_000, 7))  # seconds: each update 7 s after the one before
    monkeypatch.setattr(module.time, "monotonic", lambda: float(next(clock)))
    piped = Console(file=io.StringIO(), width=120)
    assert not piped.is_terminal
    progress = module.ProgressLines(piped)
    task = progress.add_task("judging", total=20)
    for _ in range(20):
        progress.advance(task)
    lines = piped.file.getvalue().splitlines()
    assert lines[0].startswith("judging: 1/20") and lines[-1].startswith("judging: 20/20")
    assert 4 <= len(lines) <= 8  # one now and then (every 30 s), not one per step


def test_progress_bars_are_lines_when_stderr_is_not_a_terminal():
    from toolsim.cli.console import ProgressLines, progress_bars

    assert isinstance(progress_bars(), ProgressLines)  # pytest captures stderr


def test_help_shows_no_python_types():
    # typer shows "<bool>" for a flag that takes no value and "<list[str]>" for repeatable text.
    import typer
    from typer.testing import CliRunner

    from toolsim.cli import app

    def commands(group, path=()):
        for name, command in getattr(group, "commands", {}).items():
            yield from commands(command, (*path, name))
        if not hasattr(group, "commands"):
            yield path

    runner = CliRunner()
    for path in commands(typer.main.get_command(app)):
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).output
        assert "<bool>" not in shown and "list[" not in shown and "<str>" not in shown, path
