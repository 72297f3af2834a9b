"""What every command shares: options declared once, settings from flags, the error shell.

An option used by more than one command is an ``Annotated`` alias here, so its
name and help read the same everywhere. :func:`settings_from_flags` is the one
way a command turns its flags into :class:`~toolsim.settings.Settings`.
:class:`ShellGroup` is the root command group: every command runs inside
:func:`user_errors`, so a :class:`~toolsim.errors.ToolsimError` (or a file the
system refuses) is one red line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from toolsim.cache.modes import CacheMode
from toolsim.catalog.parameters import ParamNames
from toolsim.cli.console import err_console, styled
from toolsim.errors import ToolsimError, UserError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from toolsim.settings import Settings

# Where state lives and which tools are loaded (server, cache, world, evaluator...).
HomeOption = Annotated[
    Path | None, typer.Option("--home", help="State folder (default $TOOLSIM_HOME).")
]
ToolsOption = Annotated[
    list[str] | None,
    typer.Option("--tools", help="Tool folder, query file or 'example' (repeatable)."),
]
CacheUrlOption = Annotated[
    str | None, typer.Option("--cache-url", help="Cache backend URL (default diskcache in home).")
]
CacheModeOption = Annotated[
    CacheMode | None,
    typer.Option("--cache-mode", help="Cache mode (default $TOOLSIM_CACHE__MODE, else record)."),
]
SimulatorOption = Annotated[
    str | None,
    typer.Option(
        "--simulator", help="Simulator for cache misses (default $TOOLSIM_SIMULATOR__BACKEND)."
    ),
]

# Running agents over queries (toolsim run, toolsim bench).
QueryIdsOption = Annotated[
    list[str] | None,
    typer.Option("--query-ids", help="Only these ids (88 or G1_instruction:88; commas ok)."),
]
ServerOption = Annotated[
    str | None,
    typer.Option("--server", help="A StableToolBench-compatible server; default in-process."),
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        "--concurrency", min=1, help="Queries at once (default TOOLSIM_AGENT__CONCURRENCY)."
    ),
]
WidthOption = Annotated[int, typer.Option("--width", min=1, help="DFSDT children per node.")]
QueryTimeoutOption = Annotated[
    float, typer.Option("--query-timeout", min=0, help="Seconds one query may take (0: no limit).")
]
ExperienceOption = Annotated[
    Path | None,
    typer.Option(
        "--experience", help="The planner's experience file (toolsim planner build-experience)."
    ),
]
CostsOption = Annotated[
    str | None,
    typer.Option("--costs", help="Costs per call: a JSON file, seed:N or seed:N:LOW-HIGH."),
]
ParamNamesOption = Annotated[
    ParamNames,
    typer.Option(
        "--param-names",
        help="Parameter names shown to the model: as documented, or 'stb' as StableToolBench's "
        "agents saw them (ID -> is_id), so trajectories compare with published ones.",
    ),
]


def settings_from_flags(flags: Mapping[str, Any]) -> Settings:
    """Settings from the environment, overridden by the flags that were given (not None).

    ``flags`` maps a setting's path (``home``, ``cache.url``, ``simulator.backend``)
    to a flag's value; a flag sets one field of its group, the group's other fields
    keep their variables. A value that does not validate, from a flag or a
    ``TOOLSIM_*`` variable, is a :class:`UserError` naming the setting and its variable.
    """
    from pydantic import ValidationError

    from toolsim.settings import Settings

    values: dict[str, Any] = {}
    for path, value in flags.items():
        if value is None:
            continue
        group, _, field = path.partition(".")
        if field:
            values.setdefault(group, {})[field] = value
        else:
            values[group] = value
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise UserError(_settings_problem(exc)) from None


def _settings_problem(exc: ValidationError) -> str:
    """One line per invalid setting; values are left out, as some are secrets."""
    from toolsim.settings import Settings

    prefix = Settings.model_config.get("env_prefix") or ""
    delimiter = Settings.model_config.get("env_nested_delimiter") or "__"
    problems = []
    for error in exc.errors():
        path = [str(part) for part in error["loc"]]
        where = f"{'.'.join(path)} ({prefix}{delimiter.join(path).upper()}): " if path else ""
        problems.append(where + error["msg"])
    return "invalid settings: " + "; ".join(problems)


def split_list(values: list[str] | None) -> list[str]:
    """Repeated options whose values may also be comma-separated, as one flat list."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@contextmanager
def user_errors() -> Iterator[None]:
    """Print toolsim errors and refused files as one red line and exit 1, without a traceback."""
    try:
        yield
    except ToolsimError as exc:
        _fail(exc.message)
    except OSError as exc:
        # A path the user gave that cannot be read or written (missing, read-only, ...).
        where = f": {exc.filename}" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}")


def _fail(message: str) -> None:
    # One line however long, so a hint can be copied whole.
    err_console.print(styled(("error:", "red"), f" {message}"), soft_wrap=True)
    raise typer.Exit(1) from None


class ShellGroup(TyperGroup):
    """The root command group: every command below it runs inside :func:`user_errors`."""

    # ``Any``: the base class declares typer's vendored click Context, not a public name.
    def invoke(self, ctx: Any) -> Any:  # noqa: D102
        with user_errors():
            return super().invoke(ctx)
