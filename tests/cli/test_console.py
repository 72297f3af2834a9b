"""Results written to a pipe or file keep whole table cells."""

from __future__ import annotations

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
