"""The CLI package's shape: who may import whom, what ``--help`` loads, the command tree."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

import toolsim
from toolsim.cli import app

PACKAGE = Path(toolsim.__file__).parent
CLI = PACKAGE / "cli"
#: What ``toolsim --help`` must not load: the model client and the model stack.
HEAVY = {"openai", "xllamacpp", "lightgbm", "networkx", "numpy"}


def imported_modules(path: Path) -> Iterator[str]:
    """Every module a file imports, at any depth (``from a import b`` yields a and a.b)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_the_library_never_imports_the_cli() -> None:
    shell = {PACKAGE / "__main__.py"}  # `python -m toolsim` is the command itself
    offenders = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if CLI not in path.parents and path not in shell
        for module in imported_modules(path)
        if module == "toolsim.cli" or module.startswith("toolsim.cli.")
    ]
    assert offenders == []


def test_command_modules_never_import_the_assembled_app() -> None:
    commands = [path for path in CLI.glob("*.py") if path.name not in {"main.py", "__init__.py"}]
    assert {"common.py", "run.py", "planner.py"} <= {path.name for path in commands}
    offenders = [
        f"{path.name} imports {module}"
        for path in commands
        for module in imported_modules(path)
        if module in {"toolsim.cli.main", "toolsim.cli.app", "toolsim.cli.main.app"}
    ]
    assert offenders == []


def test_help_loads_neither_openai_nor_the_model_stack() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "toolsim", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage: toolsim" in done.stdout
    loaded = {
        match.group(1).split(".")[0]
        for match in re.finditer(r"^import time:.*\|\s*(\S+)$", done.stderr, re.MULTILINE)
    }
    assert "typer" in loaded  # the output really is the import log
    assert loaded & HEAVY == set()


def test_the_console_script_and_python_m_run_the_same_app() -> None:
    (script,) = entry_points(group="console_scripts", name="toolsim")
    assert script.load() is app
    done = subprocess.run(
        [sys.executable, "-m", "toolsim", "planner", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "build-experience" in done.stdout


def _tree(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, bool]]:
    if hasattr(command, "commands"):  # a group
        for name, sub in command.commands.items():
            yield from _tree(sub, (*path, name))
    else:
        yield " ".join(path), command.hidden


def test_every_command_keeps_its_name_and_planning_is_one_group() -> None:
    tree = dict(_tree(typer.main.get_command(app)))
    assert tree == {
        "serve": False,
        "run": False,
        "bench": False,
        "plan": True,  # the old spelling of `planner plan`, not listed
        "cache import": False,
        "cache export": False,
        "cache stats": False,
        "model pull": False,
        "planner plan": False,
        "planner build-experience": False,
        "eval pass-rate": False,
        "eval win-rate": False,
        "eval agreement": False,
        "eval fidelity": False,
        "judge train": False,
        "world show": False,
        "world export": False,
        "world rebuild": False,
        "world check": False,
    }


def test_the_old_plan_spelling_still_works_and_says_where_it_went_and_when_it_goes() -> None:
    runner = CliRunner()
    options = ["--queries", "example", "--query-id", "1", "--budget", "12", "--json"]
    new = runner.invoke(app, ["planner", "plan", *options])
    old = runner.invoke(app, ["plan", *options])
    assert new.exit_code == old.exit_code == 0, old.output
    assert json.loads(old.stdout) == json.loads(new.stdout)
    assert old.stderr.strip() == (
        "warning: 'toolsim plan' is deprecated and will be removed in toolsim 0.4.0; "
        "use 'toolsim planner plan'"
    )
    assert new.stderr == ""
    assert " plan " not in runner.invoke(app, ["--help"]).stdout


def test_the_world_and_the_schema_simulator_load_no_model_client() -> None:
    # The LLM simulator's names are lazy in toolsim.simulator: `toolsim world ...` and the
    # schema simulator must not pay for importing the OpenAI client.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, toolsim.world, toolsim.simulator.template_filler; "
            "print('openai' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
