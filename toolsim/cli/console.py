"""Where every command prints: results on stdout, errors and progress on stderr.

Nothing is read as rich markup: messages carry text from users, files and
servers (``pip install 'toolsim[redis]'``, ``[1, 2]``), which markup would eat.
Styled output is built with :func:`styled` instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

#: Columns of results written to a pipe or file: rich would assume 80 and cut table
#: cells to "…"; a log should keep every cell whole (``COLUMNS`` still decides).
PIPED_WIDTH = 200


def _results_console() -> Console:
    terminal = Console(markup=False)
    if terminal.is_terminal or "COLUMNS" in os.environ:
        return terminal
    return Console(markup=False, width=PIPED_WIDTH)


#: Results (tables, summaries): what a user may pipe or redirect.
console = _results_console()
#: Errors, warnings and progress bars.
err_console = Console(stderr=True, markup=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Literal text with some parts styled: ``styled(("error:", "red"), " message")``."""
    return Text.assemble(*parts)


def progress_bars() -> Progress:
    """The progress display of long commands: description, bar, done/total, elapsed time."""
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    )


def counter(progress: Progress, description: str) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback drawing one bar on ``progress``.

    The bar appears on the first call, so an error raised before any work prints alone.
    """
    task: Any = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            progress.start()  # a no-op when the display is already live
            task = progress.add_task(description, total=None)
        progress.update(task, completed=done, total=total)

    return update


def print_skipped(skipped: Sequence[str]) -> None:
    """The damaged files a report left out (``--skip-bad-files``), one line each."""
    for name in skipped:
        err_console.print(styled(("skipped:", "yellow"), f" {name}"), soft_wrap=True)
