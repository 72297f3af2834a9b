"""Where every command prints: results on stdout, errors and progress on stderr."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

#: Results (tables, summaries): what a user may pipe or redirect.
console = Console()
#: Errors, warnings and progress bars.
err_console = Console(stderr=True)


def progress_bars() -> Progress:
    """The progress display of long commands: description, bar, done/total, elapsed time."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    )
