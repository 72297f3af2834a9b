"""Where every command prints: results on stdout, errors and progress on stderr.

Nothing is read as rich markup: messages carry text from users, files and
servers (``pip install 'toolsim[redis]'``, ``[1, 2]``), which markup would eat.
Styled output is built with :func:`styled` instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
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


#: Seconds between progress lines when the output is not a terminal.
LINE_EVERY = 30.0


class ProgressLines(Progress):
    """Progress written as log lines, for output that is not a terminal (a pipe, a file, CI).

    A live bar redrawn in place shows nothing there until the end; this writes a line
    when a task first moves, every :data:`LINE_EVERY` seconds after, and when it is done.
    """

    def __init__(self, console: Console) -> None:
        super().__init__(*_columns(), console=console, disable=True)
        self._said: dict[Any, tuple[float, bool]] = {}

    def update(self, task_id: Any, **changes: Any) -> None:  # noqa: D102
        super().update(task_id, **changes)
        self._say(task_id)

    def advance(self, task_id: Any, advance: float = 1) -> None:  # noqa: D102
        super().advance(task_id, advance)
        self._say(task_id)

    def _say(self, task_id: Any) -> None:
        task = self._tasks[task_id]
        done = task.total is not None and task.completed >= task.total
        now = time.monotonic()
        last, finished = self._said.get(task_id, (None, False))
        if finished or (last is not None and not done and now - last < LINE_EVERY):
            return
        self._said[task_id] = (now, done)
        total = "?" if task.total is None else f"{task.total:g}"
        elapsed = task.elapsed or 0.0
        self.console.print(
            f"{task.description}: {task.completed:g}/{total} ({elapsed:.0f} s)", soft_wrap=True
        )


def progress_bars() -> Progress:
    """The progress display of long commands: description, bar, done/total, elapsed time.

    On a terminal, live bars; otherwise a line now and then (:class:`ProgressLines`).
    """
    if not err_console.is_terminal:
        return ProgressLines(err_console)
    return Progress(*_columns(), console=err_console)


def _columns() -> tuple[ProgressColumn, ...]:
    # The description holds names from files and servers: never read as markup.
    return (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
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
