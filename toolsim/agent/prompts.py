"""The agent's prompts (written for toolsim): kept short, since small models have little context."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from toolsim.agent.trajectory import Step
from toolsim.catalog.models import ApiSpec
from toolsim.catalog.parameters import ParamNames
from toolsim.catalog.tool_schemas import function_schema
from toolsim.runs.answer_format import (
    FINISH,
    FINISH_DESCRIPTION,
    GIVE_ANSWER,
    GIVE_UP,
    finish_schema,
)

#: Longest function description shown in the JSON-mode system prompt.
MAX_COMPACT_DESCRIPTION = 160

SYSTEM = (
    "You solve the user's task by calling functions, one call per step; after each call you "
    "see its result. Before each call, think in at most three short sentences. When you know "
    f'enough, call {FINISH} with return_type "{GIVE_ANSWER}" and a final_answer that fully '
    "answers the user: only the final answer is shown to them. If the functions cannot help "
    f'from here, call {FINISH} with return_type "{GIVE_UP}". Call only the functions offered.'
)

JSON_REPLY = (
    'Reply with one JSON object: {"thought": "...", "function": "<a function name>", '
    '"arguments": {...}}.'
)

#: The hash of the prompt texts above (recorded with a run: they change between versions).
PROMPT_HASH = hashlib.sha256(
    "\x00".join((SYSTEM, JSON_REPLY, FINISH_DESCRIPTION)).encode()
).hexdigest()[:16]


def reference_functions(
    apis: Sequence[ApiSpec], names: ParamNames = ParamNames.DOCUMENTED
) -> list[dict[str, Any]]:
    """The offered functions as the reference answer files list them (with ``optional``)."""
    functions = []
    for api in apis:
        schema = function_schema(api, names)
        shown = api.signature.presented(names)
        schema["parameters"]["optional"] = [name for name, p in shown if not p.required]
        functions.append(schema)
    finish = finish_schema()
    finish["parameters"]["optional"] = ["final_answer"]
    return [*functions, finish]


def compact_function(api: ApiSpec, names: ParamNames = ParamNames.DOCUMENTED) -> str:
    """One line per function: name, arguments (``*`` = required), a cut description."""
    arguments = ", ".join(
        f"{name}{'*' if p.required else ''}: {p.type.json_type}"
        for name, p in api.signature.presented(names)
    )
    description = " ".join((api.description or api.name).split())
    if len(description) > MAX_COMPACT_DESCRIPTION:
        description = description[: MAX_COMPACT_DESCRIPTION - 3] + "..."
    return f"- {api.function_name}({arguments}): {description}"


def json_system(apis: Sequence[ApiSpec], names: ParamNames = ParamNames.DOCUMENTED) -> str:
    """The system prompt of JSON-action mode: the rules, the functions, the reply shape."""
    lines = [SYSTEM, "", "Functions (* = required argument):"]
    lines += [compact_function(api, names) for api in apis]
    lines.append(f"- {FINISH}(return_type*: string, final_answer: string): {FINISH_DESCRIPTION}")
    lines += ["", JSON_REPLY]
    return "\n".join(lines)


def task(query: str) -> str:
    """The user's message."""
    return f"Task: {query.strip()}\nBegin!"


def observation_message(function: str, observation: str) -> str:
    """How a result is shown in JSON-action mode (a user message)."""
    return f"Result of {function}: {observation}"


def diversity_note(siblings: Sequence[Step]) -> str:
    """Told to a node's next child: what its siblings already tried, and to differ."""
    tried = []
    for sibling in siblings:
        action = sibling.action
        outcome = "gave up" if sibling.gave_up else _short(sibling.observation, 160)
        tried.append(f"- {action.function}({_short(action.arguments, 160)}) -> {outcome}")
    return (
        "From this point these actions were already tried and did not lead to an answer:\n"
        + "\n".join(tried)
        + "\nChoose a different action from all of them."
    )


def advice_note(advice: str) -> str:
    """A gate's advice, as shown to the model."""
    return f"Note: {advice}"


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def action_json(step: Step) -> str:
    """A past action as JSON-action mode writes it (the assistant's own words back)."""
    try:
        arguments: Any = json.loads(step.action.arguments or "{}")
    except ValueError:
        arguments = step.action.arguments
    return json.dumps(
        {"thought": step.action.thought, "function": step.action.function, "arguments": arguments},
        ensure_ascii=False,
    )


def shorten_observation(text: str, limit: int) -> str:
    """An older observation cut down to make room in the context."""
    return text if len(text) <= limit else text[:limit] + "...(cut)"
