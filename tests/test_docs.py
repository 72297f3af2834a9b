"""The README and the docs site against the code: every reference they make resolves.

Over the README and every page under ``docs/``: paths of the repository, ``toolsim ...``
commands and their options, Python names (``toolsim.planner.planner_registry``) and the
environment variables toolsim reads; the README's links; the layout drawn in
``docs/development.md``; the Quickstart; and the generated references, which must match
what ``scripts/gen_docs.py`` renders from the code now. Links between pages, and the
navigation, are ``mkdocs build --strict``'s to check (``.ci/run``).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import typer

import toolsim
from toolsim.cli import app
from toolsim.registry import BUILTINS
from toolsim.settings import environment_variables, legacy_environment_variables

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(toolsim.__file__).parent
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```", re.S | re.M)
#: The repository's own folders: a path starting with one of them must exist.
REPO_FOLDERS = ("toolsim", "tests", "perf", "scripts", "docs", ".ci")
#: Test-only switches (``.ci/run`` sets them; docs/development.md documents them).
TEST_SWITCHES = {
    "TOOLSIM_REQUIRE_LOCAL_MODEL",
    "TOOLSIM_REQUIRE_REDIS",
    "TOOLSIM_REQUIRE_CHROMIUM",
}


@dataclass(frozen=True)
class Doc:
    """One Markdown file: its path from the repository root, and its text."""

    name: str
    text: str

    def code_blocks(self) -> list[str]:
        """The fenced blocks but ``text`` ones (output and pictures, not commands or code)."""
        return [body for language, body in FENCE.findall(self.text) if language != "text"]

    def prose(self) -> str:
        """The text without its fenced blocks (whose ``#`` lines are comments, not headings)."""
        return FENCE.sub("", self.text)

    def code_spans(self) -> list[str]:
        """The inline code spans of the prose."""
        return re.findall(r"`([^`\n]+)`", self.prose())


@cache
def docs() -> tuple[Doc, ...]:
    """The README and every page of the docs site."""
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return tuple(Doc(str(path.relative_to(ROOT)), path.read_text()) for path in paths)


def doc(name: str) -> Doc:
    """One of :func:`docs` by its path."""
    return next(page for page in docs() if page.name == name)


def test_the_docs_are_the_readme_and_a_site():
    names = {page.name for page in docs()}
    assert {"README.md", "docs/index.md", "docs/reference/cli.md"} <= names
    assert len(doc("README.md").text.splitlines()) <= 200


# --- links -----------------------------------------------------------------------------------


def github_slug(heading: str) -> str:
    """GitHub's anchor of a heading (where the README's links are read)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Doc) -> set[str]:
    """Every anchor a page's headings make (a repeated one gets ``-1``, ``-2``...)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", page.prose(), re.M):
        base = github_slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_every_readme_link_reaches_a_file_and_heading():
    readme = doc("README.md")
    links = re.findall(r"\]\(([^)\s]+)\)", readme.text)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert len(local) > 10, "the README links into the docs"
    problems = []
    for link in local:
        path, _, anchor = link.partition("#")
        target = ROOT / path if path else ROOT / "README.md"
        if not target.exists():
            problems.append(f"{link}: no such file")
        elif anchor and anchor not in anchors(Doc(path or "README.md", target.read_text())):
            problems.append(f"{link}: no such heading")
    assert problems == []


# --- paths, commands, Python names, variables ------------------------------------------------


def repository_paths(page: Doc) -> set[str]:
    """Every path of the repository a page names (``perf/load.py``, ``.ci/run``...)."""
    folders = "|".join(re.escape(folder) for folder in REPO_FOLDERS)
    pattern = re.compile(rf"(?<![\w/.~-])((?:{folders})/[\w./-]*)")
    return {match.rstrip(".") for match in pattern.findall(page.text)}


def test_every_path_the_docs_name_exists():
    named = {(page.name, path) for page in docs() for path in repository_paths(page)}
    assert {"perf/cache_hits.py", ".ci/run", "toolsim/registry.py"} <= {path for _, path in named}
    missing = [f"{name}: {path}" for name, path in sorted(named) if not (ROOT / path).exists()]
    assert missing == []


def shown_commands(page: Doc) -> Iterator[list[str]]:
    """Every ``toolsim ...`` command line a page shows, split into words."""
    lines = list(page.code_spans())
    for block in page.code_blocks():
        lines += block.replace("\\\n", " ").splitlines()
    for line in lines:
        line = re.sub(r"#.*$", "", line) if line.lstrip().startswith("#") else line
        for match in re.finditer(r"(?:^|[\s(;&|/])toolsim((?: +[^\s;&|)]+)*)", line):
            words = match.group(1).split()
            if words and re.fullmatch(r"[a-z][\w-]*", words[0]):
                yield words


@cache
def command_tree() -> Any:
    """The ``toolsim`` command tree, built once."""
    # Duck-typed: typer vendors its own click, whose classes are not the `click` package's.
    return typer.main.get_command(app)


def resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The command ``words`` names in the CLI tree, and the words after it."""
    command: Any = command_tree()
    context = typer.Context(command)
    rest = list(words)
    while hasattr(command, "get_command") and rest and not rest[0].startswith("-"):
        sub = command.get_command(context, rest[0])
        if sub is None:
            raise LookupError(f"toolsim {' '.join(words)}: no command {rest[0]!r}")
        command, rest = sub, rest[1:]
    return command, rest


def command_problems(words: list[str]) -> list[str]:
    """What is wrong with one shown command line: an unknown command or option."""
    try:
        command, rest = resolve(words)
    except LookupError as exc:
        return [str(exc)]
    options = {name for param in command.params for name in param.opts + param.secondary_opts}
    return [
        f"toolsim {' '.join(words)}: {command.name} has no {flag}"
        for flag in (word.split("=", 1)[0] for word in rest)
        if re.fullmatch(r"--[a-z][\w-]*", flag) and flag not in options | {"--help"}
    ]


def test_every_command_the_docs_show_exists_with_its_options():
    shown = [(page.name, words) for page in docs() for words in shown_commands(page)]
    assert len(shown) > 50
    problems = [
        f"{name}: {problem}" for name, words in shown for problem in command_problems(words)
    ]
    assert problems == []


def python_names(page: Doc) -> set[str]:
    """Every dotted toolsim name a page gives (``toolsim.registry.BUILTINS``)."""
    names = set()
    for span in page.code_spans():
        names.update(re.findall(r"(?<![\w/.-])(toolsim(?:\.\w+)+(?::\w+)?)", span))
    for block in page.code_blocks():
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


def test_every_python_name_the_docs_give_resolves():
    # Names that are not Python objects: entry-point groups and the loggers toolsim uses.
    loggers = {
        name
        for path in PACKAGE.rglob("*.py")
        for name in re.findall(r'getLogger\("([\w.]+)"\)', path.read_text())
    }
    given = {(page.name, name) for page in docs() for name in python_names(page)}
    assert {"toolsim.registry.BUILTINS", "toolsim.runs"} <= {name for _, name in given}
    missing = [
        f"{page}: {name}"
        for page, name in sorted(given)
        if name not in set(BUILTINS) | loggers and not resolves(name)
    ]
    assert missing == []


def compose_variables() -> set[str]:
    """The TOOLSIM_* variables compose.yaml itself reads (``${NAME:-default}``), not toolsim."""
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    return set(re.findall(r"\$\{(TOOLSIM_[A-Z0-9_]+)(?::-[^}]*)?\}", text))


def test_every_variable_the_docs_name_is_read_by_toolsim():
    known = (
        set(environment_variables())
        | set(legacy_environment_variables())
        | TEST_SWITCHES
        | compose_variables()
    )
    # Patterns (TOOLSIM_AGENT__<FIELD>, TOOLSIM_FAULTS__*, TOOLSIM_LLM_<FIELD>) stop before the
    # placeholder: a group's prefix, or the older names' TOOLSIM_LLM.
    prefixes = {name.split("__")[0] for name in known if "__" in name} | {"TOOLSIM_LLM"}
    unknown = [
        f"{page.name}: {name}"
        for page in docs()
        for name in sorted(set(re.findall(r"TOOLSIM_[A-Z0-9_]*[A-Z0-9]", page.text)))
        if name not in known | prefixes
    ]
    assert unknown == []


# --- the layout, the settings, the Quickstart ------------------------------------------------


def layout() -> list[tuple[str, str]]:
    """The layout drawn in docs/development.md: (top-level entry, its description) in order."""
    text = doc("docs/development.md").text
    block = FENCE.search(text[text.index("## The layout") :])
    assert block is not None
    entries: list[tuple[str, str]] = []
    for line in block.group(2).splitlines():
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


@cache
def gen_docs() -> ModuleType:
    """``scripts/gen_docs.py``, loaded as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_references_match_the_code():
    stale = gen_docs().stale_pages()
    assert stale == [], f"{stale} out of date with the code: run `python scripts/gen_docs.py`"


def test_the_settings_reference_has_every_setting_and_older_name():
    page = doc("docs/reference/settings.md").text
    named = set(re.findall(r"^\| `(TOOLSIM_[A-Z0-9_]+)` \|", page, re.M))
    assert set(environment_variables()) | set(legacy_environment_variables()) <= named


def test_every_older_setting_name_is_covered_by_the_documented_spellings():
    # The configuration page describes the older names of the model roles as patterns, each
    # standing for a current variable.
    patterns = {
        "TOOLSIM_SIMULATOR": "TOOLSIM_SIMULATOR__BACKEND",
        "TOOLSIM_LLM_<FIELD>": "TOOLSIM_SIMULATOR__<FIELD>",
        "TOOLSIM_AGENT_<FIELD>": "TOOLSIM_AGENT__<FIELD>",
        "TOOLSIM_JUDGE_<FIELD>": "TOOLSIM_JUDGE__<FIELD>",
    }
    text = doc("docs/configuration.md").text
    older = text[text.index("## Older names still work") :].split("\n## ", 1)[0]
    for pattern, current in patterns.items():
        assert f"`{pattern}`" in older and f"`{current}`" in older

    def spelled(name: str) -> str | None:
        for pattern, current in patterns.items():
            head = pattern.removesuffix("<FIELD>")
            if name == pattern:
                return current
            if pattern.endswith("<FIELD>") and name.startswith(head):
                return current.replace("<FIELD>", name.removeprefix(head))
        return None

    # ... and the other flat names one by one, in the generated reference's table.
    reference = doc("docs/reference/settings.md").text
    table = dict(
        re.findall(r"^\| `(TOOLSIM_[A-Z0-9_]+)` \| `(TOOLSIM_[A-Z0-9_]+)` \|$", reference, re.M)
    )
    legacy = legacy_environment_variables()
    assert {old: spelled(old) or table.get(old) for old in legacy} == legacy


def quickstart() -> list[str]:
    """The README's Quickstart commands."""
    text = doc("README.md").text
    section = text[text.index("## Quickstart") :].split("\n## ", 1)[0]
    return [body.strip() for _, body in FENCE.findall(section)]


def test_the_quickstart_is_two_commands_and_ci_runs_the_second():
    commands = quickstart()
    assert len(commands) == 2 and all("\n" not in command for command in commands)
    assert commands[0].endswith("toolsim bench") and commands[1].endswith(".venv/bin/pytest")
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_the_docs_show_the_quickstart_as_the_readme_does():
    started, development = doc("docs/getting-started.md"), doc("docs/development.md")
    first, second = quickstart()
    assert first in started.code_blocks()[0] and second in started.code_blocks()[1]
    assert second in development.text
