"""The LLM judge's prompts: toolsim's own, or a folder of prompt files the user points at.

toolsim's prompts (``judging/prompts/*.txt``) are its own wording of StableToolBench's
evaluation protocol: the judge first sees the query and the final answer; an
"Unsure" is asked again with every tool call and reply. A folder given with
``--judge-prompts`` (``TOOLSIM_JUDGE__PROMPTS``) is read in one of two layouts:

* **toolsim's**: any of the six ``<name>.txt`` files of :data:`PROMPTS` (``$query``,
  ``$answer``, ... placeholders); the files it lacks keep toolsim's text;
* **a StableToolBench evaluator folder** (its ``template.txt``, e.g.
  ``toolbench/tooleval/evaluators/tooleval_gpt-3.5-turbo_default`` of a checkout):
  the ``check_answer_status`` and ``parse_answer_status`` texts are used exactly, as the
  one user message, with ``{query}`` and ``{answer}`` filled in as StableToolBench does
  (the final answer; then the answer's JSON with its ``answer_details``), and the
  reply's ``answer_status`` read. Comparisons keep toolsim's prompts.

The prompts' hash names them in every report, so figures measured with one set of
prompts never pass for another's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from toolsim.errors import UserError

PROMPTS = (
    "pass_system",
    "pass_user",
    "trajectory_system",
    "trajectory_user",
    "compare_system",
    "compare_user",
)
#: The placeholders each of toolsim's templates may use.
PLACEHOLDERS = {
    "pass_system": (),
    "pass_user": ("query", "answer"),
    "trajectory_system": (),
    "trajectory_user": ("query", "count", "steps", "answer"),
    "compare_system": (),
    "compare_user": ("query", "count_a", "calls_a", "answer_a", "count_b", "calls_b", "answer_b"),
}
TOOLSIM = "toolsim"
STABLETOOLBENCH = "stabletoolbench"
#: StableToolBench's evaluator file, and the two of its functions a pass-rate verdict uses.
STB_TEMPLATE = "template.txt"
STB_FIRST, STB_SECOND = "check_answer_status", "parse_answer_status"
_FUNCTION = re.compile(
    r"<function>\s*<name>(.*?)</name>\s*<description>(.*?)</description>\s*</function>", re.DOTALL
)


@dataclass(frozen=True, slots=True)
class JudgePrompts:
    """The texts a judge sends, their layout, and where they came from."""

    texts: dict[str, str]
    #: :data:`TOOLSIM` (system + user ``$`` templates) or :data:`STABLETOOLBENCH`.
    style: str
    source: str

    @property
    def hash(self) -> str:
        """The first 12 hex digits of the sha256 over every prompt (names and texts, in
        order; a StableToolBench set is marked as such)."""
        digest = hashlib.sha256()
        if self.style != TOOLSIM:
            digest.update(f"style\0{self.style}\0".encode())
        for name in sorted(self.texts, key=_order):
            digest.update(f"{name}\0{self.texts[name]}\0".encode())
        return digest.hexdigest()[:12]


def _order(name: str) -> tuple[int, str]:
    return (PROMPTS.index(name), "") if name in PROMPTS else (len(PROMPTS), name)


def builtin_texts() -> dict[str, str]:
    """toolsim's own prompts, by name."""
    folder = resources.files("toolsim.evaluator.judging").joinpath("prompts")
    return {name: folder.joinpath(f"{name}.txt").read_text("utf-8") for name in PROMPTS}


def load_prompts(folder: Path | None = None) -> JudgePrompts:
    """toolsim's prompts, or those of ``folder`` (either layout of the module docstring).

    Raises:
        UserError: the folder is missing, holds no prompt file or an unknown one, or a
            template uses a placeholder it may not.
    """
    texts = builtin_texts()
    if folder is None:
        return JudgePrompts(texts, TOOLSIM, "toolsim")
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"judge prompts {folder}: no such folder")
    if (folder / STB_TEMPLATE).is_file():
        return _stabletoolbench(folder, texts)
    found = sorted(path for path in folder.glob("*.txt"))
    unknown = [path.name for path in found if path.stem not in PROMPTS]
    if unknown or not found:
        known = ", ".join(f"{name}.txt" for name in PROMPTS)
        what = f"unknown prompt files {', '.join(unknown)}" if unknown else "no prompt file"
        raise UserError(
            f"judge prompts {folder}: {what}; expected any of {known}, or a StableToolBench "
            f"evaluator folder with {STB_TEMPLATE}"
        )
    for path in found:
        text = _read(path)
        _check_template(path, text, PLACEHOLDERS[path.stem])
        texts[path.stem] = text
    return JudgePrompts(texts, TOOLSIM, str(folder))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"judge prompts: cannot read {path}: {exc}") from None


def _check_template(path: Path, text: str, allowed: tuple[str, ...]) -> None:
    try:
        Template(text).substitute({name: "" for name in allowed})
    except (KeyError, ValueError) as exc:
        allowed_text = ", ".join(f"${name}" for name in allowed) or "none"
        raise UserError(
            f"judge prompts: {path} uses a placeholder it may not ({exc}); allowed: "
            f"{allowed_text} (write $$ for a dollar sign)"
        ) from None


def _stabletoolbench(folder: Path, texts: dict[str, str]) -> JudgePrompts:
    path = folder / STB_TEMPLATE
    functions = {name.strip(): body for name, body in _FUNCTION.findall(_read(path))}
    missing = [name for name in (STB_FIRST, STB_SECOND) if name not in functions]
    if missing:
        raise UserError(
            f"judge prompts: {path} has no {' or '.join(missing)} function (is it a "
            "StableToolBench evaluator's template?)"
        )
    for name in (STB_FIRST, STB_SECOND):
        if "{query}" not in functions[name] or "{answer}" not in functions[name]:
            raise UserError(f"judge prompts: {path}: {name} lacks {{query}} or {{answer}}")
    chosen = {name: functions[name] for name in (STB_FIRST, STB_SECOND)}
    kept = {name: texts[name] for name in ("compare_system", "compare_user")}
    return JudgePrompts({**chosen, **kept}, STABLETOOLBENCH, str(folder))


def fill(text: str, **values: str) -> str:
    """A StableToolBench text with its ``{name}`` placeholders filled (no other brace is
    touched, unlike ``str.format``)."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
