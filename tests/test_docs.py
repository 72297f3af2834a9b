"""The README against the code: every reference it makes resolves, every setting is in it.

Links to its own sections, paths of the repository, ``toolsim ...`` commands and their
options, Python names (``toolsim.planner.planner_registry``), the layout of the
Development section, and the environment variables toolsim reads.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

import toolsim
from toolsim.cli import app
from toolsim.registry import BUILTINS
from toolsim.settings import environment_variables, legacy_environment_variables

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(toolsim.__file__).parent
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^```[\w-]*\n(.*?)^```", re.S | re.M)
#: The repository's own folders: a path starting with one of them must exist.
REPO_FOLDERS = ("toolsim", "tests", "perf", "scripts", ".ci")
#: Test-only switches (``.ci/run`` sets them; the Development section documents them).
TEST_SWITCHES = {
    "TOOLSIM_REQUIRE_LOCAL_MODEL",
    "TOOLSIM_REQUIRE_REDIS",
    "TOOLSIM_REQUIRE_CHROMIUM",
}


def code_blocks() -> list[str]:
    """The fenced blocks of the README."""
    return FENCE.findall(README)


def prose() -> str:
    """The README without its fenced blocks (whose ``#`` lines are comments, not headings)."""
    return FENCE.sub("", README)


def code_spans() -> list[str]:
    """The inline code spans of the README's prose."""
    return re.findall(r"`([^`\n]+)`", prose())


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors() -> set[str]:
    """Every anchor the README's headings make (a repeated one gets ``-1``, ``-2``...)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(), re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_every_internal_link_names_a_heading():
    links = set(re.findall(r"\]\(#([^)\s]+)\)", README))
    assert links, "the README links to its own sections"
    assert sorted(links - anchors()) == []


def repository_paths() -> set[str]:
    """Every path of the repository the README names (``perf/load.py``, ``.ci/run``...)."""
    folders = "|".join(re.escape(folder) for folder in REPO_FOLDERS)
    pattern = re.compile(rf"(?<![\w/.~-])((?:{folders})/[\w./-]*)")
    return {match.rstrip(".") for match in pattern.findall(README)}


def test_every_path_the_readme_names_exists():
    paths = repository_paths()
    assert {"perf/cache_hits.py", ".ci/run", "toolsim/registry.py"} <= paths
    assert sorted(path for path in paths if not (ROOT / path).exists()) == []


def shown_commands() -> Iterator[list[str]]:
    """Every ``toolsim ...`` command line the README shows, split into words."""
    lines = list(code_spans())
    for block in code_blocks():
        lines += block.replace("\\\n", " ").splitlines()
    for line in lines:
        line = re.sub(r"#.*$", "", line) if line.lstrip().startswith("#") else line
        for match in re.finditer(r"(?:^|[\s(;&|/])toolsim((?: +[^\s;&|)]+)*)", line):
            words = match.group(1).split()
            if words and re.fullmatch(r"[a-z][\w-]*", words[0]):
                yield words


def resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The command ``words`` names in the CLI tree, and the words after it."""
    # Duck-typed: typer vendors its own click, whose classes are not the `click` package's.
    command: Any = typer.main.get_command(app)
    context = typer.Context(command)
    rest = list(words)
    while hasattr(command, "get_command") and rest and not rest[0].startswith("-"):
        sub = command.get_command(context, rest[0])
        if sub is None:
            raise LookupError(f"toolsim {' '.join(words)}: no command {rest[0]!r}")
        command, rest = sub, rest[1:]
    return command, rest


def test_every_command_the_readme_shows_exists_with_its_options():
    shown = list(shown_commands())
    assert len(shown) > 20
    problems = []
    for words in shown:
        try:
            command, rest = resolve(words)
        except LookupError as exc:
            problems.append(str(exc))
            continue
        options = {name for param in command.params for name in param.opts + param.secondary_opts}
        for word in rest:
            flag = word.split("=", 1)[0]
            if re.fullmatch(r"--[a-z][\w-]*", flag) and flag not in options | {"--help"}:
                problems.append(f"toolsim {' '.join(words)}: {command.name} has no {flag}")
    assert problems == []


def python_names() -> set[str]:
    """Every dotted toolsim name the README gives (``toolsim.registry.BUILTINS``)."""
    names = set()
    for span in code_spans():
        names.update(re.findall(r"(?<![\w/.-])(toolsim(?:\.\w+)+(?::\w+)?)", span))
    for block in code_blocks():
        for module, imported in re.findall(r"^from (toolsim[\w.]*) import ([\w, ]+)", block, re.M):
            names.update(f"{module}:{name.strip()}" for name in imported.split(","))
    return names


def resolves(name: str) -> bool:
    """Whether ``name`` (``a.b.c`` or ``a.b:c``) is an importable module or an attribute."""
    module, _, attribute = name.partition(":")
    parts = module.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        try:
            for part in [*parts[cut:], *filter(None, [attribute])]:
                value = getattr(value, part)
        except AttributeError:
            return False
        return True
    return False


def test_every_python_name_the_readme_gives_resolves():
    # Names that are not Python objects: entry-point groups and the loggers toolsim uses.
    loggers = {
        name
        for path in PACKAGE.rglob("*.py")
        for name in re.findall(r'getLogger\("([\w.]+)"\)', path.read_text())
    }
    names = python_names()
    assert {"toolsim.registry.BUILTINS", "toolsim.runs"} <= names
    missing = [name for name in names - set(BUILTINS) - loggers if not resolves(name)]
    assert sorted(missing) == []


def layout() -> list[tuple[str, str]]:
    """The Development section's layout: (top-level entry, its description) in order."""
    section = README[README.index("## Development") :]
    block = FENCE.search(section)
    assert block is not None
    entries: list[tuple[str, str]] = []
    for line in block.group(1).splitlines():
        match = re.match(r"^( {0,2})([\w.]+/?)\s+(.*)$", line)
        if match and match.group(2) != "toolsim/":
            prefix = "toolsim/" if match.group(1) else ""
            entries.append((prefix + match.group(2), match.group(3)))
        elif entries and line.startswith(" " * 6):
            name, text = entries[-1]
            entries[-1] = (name, f"{text} {line.strip()}")
    return entries


def test_the_layout_shows_the_tree_as_it_is():
    entries = layout()
    named = {name for name, _ in entries}
    assert sorted(name for name in named if not (ROOT / name).exists()) == []
    # Every subpackage and top-level module of toolsim appears.
    present = {
        f"toolsim/{path.name}/" if path.is_dir() else f"toolsim/{path.name}"
        for path in PACKAGE.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and not path.name.startswith("__"))
    }
    assert sorted(present - named) == []
    # A module named in a package's description is a module of that package.
    wrong = [
        f"{name}{module}"
        for name, text in entries
        if name.endswith("/")
        for module in re.findall(r"\b(\w+\.py)\b", text)
        if not (ROOT / name / module).exists()
    ]
    assert wrong == []


def table_variables() -> set[str]:
    """The variables in the first column of the README's tables."""
    found = set()
    for cell in re.findall(r"^\| ([^|]+) \|", README, re.M):
        found.update(re.findall(r"`(TOOLSIM_[A-Z0-9_]+)`", cell))
    return found


def test_every_setting_has_a_row_in_a_readme_table():
    assert sorted(set(environment_variables()) - table_variables()) == []


def test_every_older_setting_name_is_covered_by_the_documented_spellings():
    # The older flat names are documented as patterns, each standing for a current variable.
    patterns = {
        "TOOLSIM_SIMULATOR": "TOOLSIM_SIMULATOR__BACKEND",
        "TOOLSIM_LLM_<FIELD>": "TOOLSIM_SIMULATOR__<FIELD>",
        "TOOLSIM_AGENT_<FIELD>": "TOOLSIM_AGENT__<FIELD>",
        "TOOLSIM_JUDGE_<FIELD>": "TOOLSIM_JUDGE__<FIELD>",
    }
    older = README[README.index("**Older names still work.**") :].split("\n\n", 1)[0]
    for pattern, current in patterns.items():
        assert f"`{pattern}`" in older and f"`{current}`" in older

    # ... and the other flat names in a table of their own, old -> new.
    table = dict(
        re.findall(r"^\| `(TOOLSIM_[A-Z0-9_]+)` \| `(TOOLSIM_[A-Z0-9_]+)` \|$", README, re.M)
    )

    def spelled(name: str) -> str | None:
        if name in table:
            return table[name]
        for pattern, current in patterns.items():
            head = pattern.removesuffix("<FIELD>")
            if name == pattern:
                return current
            if pattern.endswith("<FIELD>") and name.startswith(head):
                return current.replace("<FIELD>", name.removeprefix(head))
        return None

    legacy = legacy_environment_variables()
    assert {old: spelled(old) for old in legacy} == legacy


def test_every_variable_the_readme_names_is_read_by_toolsim():
    named = set(re.findall(r"TOOLSIM_[A-Z0-9_]*[A-Z0-9]", README))
    known = set(environment_variables()) | set(legacy_environment_variables()) | TEST_SWITCHES
    # Patterns (TOOLSIM_AGENT__<FIELD>, TOOLSIM_LLM_<FIELD>) stop before the placeholder.
    prefixes = {"TOOLSIM_LLM"} | {
        name.partition("__")[0] for name in environment_variables() if "__" in name
    }
    assert sorted(named - known - prefixes) == []


def test_the_quickstart_is_two_commands_and_ci_runs_the_second():
    quickstart = README[README.index("## Quickstart") :].split("\n## ", 1)[0]
    commands = [block.strip() for block in FENCE.findall(quickstart)]
    assert len(commands) == 2 and all("\n" not in command for command in commands)
    assert commands[0].endswith("toolsim bench") and commands[1].endswith(".venv/bin/pytest")
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()
