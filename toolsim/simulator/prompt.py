"""Prompts for LLM simulators: template files users can override.

The prompt is two ``string.Template`` files, ``system.txt`` and ``user.txt``.
A folder given by ``TOOLSIM_SIMULATOR__PROMPT_DIR`` replaces either file, so a fine-tuned
simulator with its own format (such as MirrorAPI) is plugged in by
configuration. The hash of the two templates is stored with every simulated
entry, so replies from different prompts can be told apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import orjson

from toolsim.cache.entry import CacheEntry
from toolsim.catalog.models import ApiSpec
from toolsim.errors import UserError
from toolsim.simulator.base import KnownEntity

TEMPLATE_FILES = ("system.txt", "user.txt")

#: Placeholders ``user.txt`` may use.
PLACEHOLDERS = (
    "tool_name",
    "tool_description",
    "api_name",
    "method",
    "api_description",
    "parameters",
    "template",
    "examples",
    "arguments",
    "function_name",
    "category",
    "known",
    "known_json",
    "arguments_py",
    "template_py",
    "parameters_json",
    "parameters_py",
    "api_doc_json",
    "api_doc_py",
)


@dataclass(frozen=True, slots=True)
class PromptTemplates:
    """The system and user templates, and their combined hash."""

    system: Template
    user: Template
    hash: str

    @classmethod
    def load(cls, folder: Path | None = None) -> PromptTemplates:
        """Load the built-in templates, each replaced by a file of the same name in ``folder``."""
        texts = []
        for name in TEMPLATE_FILES:
            override = folder / name if folder is not None else None
            if folder is not None and not folder.is_dir():
                raise UserError(f"prompt folder {folder} does not exist")
            if override is not None and override.is_file():
                texts.append(override.read_text(encoding="utf-8"))
            else:
                texts.append(
                    (resources.files("toolsim.simulator") / "prompts" / name).read_text(
                        encoding="utf-8"
                    )
                )
        digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
        return cls(Template(texts[0]), Template(texts[1]), digest)

    def render(
        self,
        api: ApiSpec,
        arguments: dict[str, Any],
        examples: tuple[CacheEntry, ...],
        known: tuple[KnownEntity, ...] = (),
    ) -> list[dict[str, str]]:
        """The chat messages asking the model to answer one call.

        ``known`` are the world's entities the arguments name; ``$known`` shows them
        (empty when there are none). The ``*_py`` placeholders render the same data as
        Python literals (``repr``), the ``*_json`` ones as JSON, for fine-tuned
        simulators trained on either (MirrorAPI-style prompt files).
        """
        documentation = _documentation(api)
        known_data = [_known_data(entity) for entity in known]
        values = {
            "tool_name": api.tool_name,
            "tool_description": api.tool_description or "(none given)",
            "api_name": api.name,
            "method": api.method,
            "api_description": api.description or "(none given)",
            "parameters": _parameters(api),
            "template": _json(api.template_response) if api.template_response else "(unknown)",
            "examples": _examples(examples),
            "arguments": _json(arguments),
            "function_name": api.function_name,
            "category": api.category,
            "known": _known(known_data),
            "known_json": _json(known_data),
            "arguments_py": repr(arguments),
            "template_py": repr(api.template_response),
            "parameters_json": _json(documentation["parameters"]),
            "parameters_py": repr(documentation["parameters"]),
            "api_doc_json": _json(documentation),
            "api_doc_py": repr(documentation),
        }
        try:
            return [
                {"role": "system", "content": self.system.substitute(values)},
                {"role": "user", "content": self.user.substitute(values)},
            ]
        except (KeyError, ValueError) as exc:
            raise UserError(
                f"prompt template uses an unknown placeholder {exc}; "
                f"known: {', '.join(PLACEHOLDERS)}"
            ) from None


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _documentation(api: ApiSpec) -> dict[str, Any]:
    """The API's documentation as plain data (ToolBench's field names)."""
    return {
        "tool_name": api.tool_name,
        "api_name": api.name,
        "api_description": api.description,
        "method": api.method,
        "parameters": [
            {
                "name": param.name,
                "type": param.raw_type or param.type.value,
                "description": param.description,
                "required": param.required,
                "default": param.default,
            }
            for param in api.parameters
        ],
        "template_response": api.template_response,
    }


def _known_data(entity: KnownEntity) -> dict[str, Any]:
    return {"type": entity.type, entity.id_field: entity.id, "facts": entity.facts}


def _known(known: list[dict[str, Any]]) -> str:
    if not known:
        return ""
    lines = ["Known facts about what this request names (the reply must agree with them):"]
    lines += [f"- {_json(entity)}" for entity in known]
    return "\n".join(lines) + "\n"


def _parameters(api: ApiSpec) -> str:
    if not api.parameters:
        return "(none)"
    lines = []
    for param in api.parameters:
        need = "required" if param.required else "optional"
        line = f"- {param.name} ({param.raw_type or param.type.value}, {need})"
        if param.description:
            line += f": {param.description.strip()}"
        if param.default not in (None, ""):
            line += f" [example: {param.default}]"
        lines.append(line)
    return "\n".join(lines)


def _examples(examples: tuple[CacheEntry, ...]) -> str:
    if not examples:
        return ""
    lines = ["Recorded replies of this API to other requests:"]
    for entry in examples:
        reply = {"error": entry.reply.error, "response": entry.reply.response}
        lines.append(f"- arguments {_json(entry.arguments)} -> {_json(reply)}")
    return "\n".join(lines) + "\n"
