"""Two ways to get an action out of a model: native tool calls, or constrained JSON.

``tools``: the functions go in the request's ``tools`` and the model answers with a
tool call (OpenAI, vLLM with a tool parser). ``json``: for models without tool
calling (such as the small embedded model) the functions are listed in the
system prompt and ``response_format`` constrains the reply to
``{"thought", "function", "arguments"}``: one schema alternative per offered
function, with that function's arguments. Either way a reply becomes an
:class:`Action`, or :class:`BadOutput` says why it cannot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from toolsim.agent import prompts
from toolsim.agent.trajectory import Action, Step
from toolsim.catalog.models import ApiSpec
from toolsim.catalog.parameters import ParamNames
from toolsim.catalog.tool_schemas import function_schema
from toolsim.errors import UserError
from toolsim.runs.answer_format import FINISH, GIVE_ANSWER, GIVE_UP
from toolsim.settings import Settings, chat_backend

if TYPE_CHECKING:
    # Only a type here: importing the model client would make `toolsim --help` pay for openai.
    from toolsim.llm import ChatReply

#: The assistant message's key for reasoning items (:data:`toolsim.llm.responses.REASONING`).
REASONING = "reasoning"

#: Older observations are cut to this when the conversation outgrows the context.
SHORT_OBSERVATION = 200
#: The most recent steps are never cut.
KEEP_FULL = 2
#: Longest thought JSON mode lets the model write. Small models fall into repetition loops
#: inside a string; the schema's maxLength makes the grammar close it, where max_tokens would
#: cut the reply into invalid JSON after wasting the whole token budget.
MAX_THOUGHT = 200
#: Longest final answer JSON mode lets the model write (same reason).
MAX_ANSWER = 600


class ActionMode(StrEnum):
    """How the model states its action."""

    AUTO = "auto"
    TOOLS = "tools"
    JSON = "json"


def uses_local_model(settings: Settings) -> bool:
    """Whether the agent's model is the embedded local one."""
    return chat_backend(settings.agent) == "local"


def resolve_mode(mode: ActionMode | str, settings: Settings) -> ActionMode:
    """``auto``: JSON actions for the embedded local model, native tool calls otherwise."""
    try:
        mode = ActionMode(mode)
    except ValueError:
        choices = ", ".join(m.value for m in ActionMode)
        raise UserError(f"unknown action mode {mode!r}; available: {choices}") from None
    if mode is not ActionMode.AUTO:
        return mode
    return ActionMode.JSON if uses_local_model(settings) else ActionMode.TOOLS


class BadOutput(Exception):
    """A reply that holds no usable action."""


@dataclass(frozen=True, slots=True)
class View:
    """What the model sees when it chooses the next action."""

    query: str
    path: Sequence[Step]
    offered: Sequence[ApiSpec]
    #: Messages after the history: sibling diversity, the gate's advice.
    notes: Sequence[str] = ()
    #: How parameters are named to the model (documented, or as StableToolBench's agents saw them).
    param_names: ParamNames = ParamNames.DOCUMENTED


def build(view: View, mode: ActionMode, *, context_chars: int | None = None) -> dict[str, Any]:
    """The ``messages``, ``tools`` and ``response_format`` of a request for ``view``.

    With ``context_chars``, older observations are cut and then the oldest steps
    dropped until the request fits (a rough character budget for small contexts).
    """
    names = view.param_names
    if mode is ActionMode.JSON:
        system = prompts.json_system(view.offered, names)
        tools: list[dict[str, Any]] = []
        response_format: dict[str, Any] | None = _json_format(view.offered, names)
    else:
        system = prompts.SYSTEM
        offered = [function_schema(api, names) for api in view.offered]
        tools = [
            {"type": "function", "function": schema}
            for schema in [*offered, prompts.finish_schema()]
        ]
        response_format = None
    fixed = len(json.dumps(tools)) + len(system) + len(view.query)
    messages = _fit(view, mode, system, None if context_chars is None else context_chars - fixed)
    return {"messages": messages, "tools": tools, "response_format": response_format}


def _json_format(offered: Sequence[ApiSpec], names: ParamNames) -> dict[str, Any]:
    # One alternative per function, each with that function's own arguments: a small
    # model then cannot pair a function with arguments it does not take.
    alternatives = [
        _alternative(api.function_name, _argument_schema(api, names)) for api in offered
    ]
    finish = prompts.finish_schema()["parameters"]
    # Bounded, or a small model may ramble on until the token limit cuts its JSON.
    finish["properties"]["final_answer"]["maxLength"] = MAX_ANSWER
    alternatives.append(_alternative(FINISH, {**finish, "additionalProperties": False}))
    schema = {"anyOf": alternatives}
    return {"type": "json_schema", "json_schema": {"name": "action", "schema": schema}}


def _alternative(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "thought": {"type": "string", "maxLength": MAX_THOUGHT},
            "function": {"const": name},
            "arguments": arguments,
        },
        "required": ["thought", "function", "arguments"],
        "additionalProperties": False,
    }


def _argument_schema(api: ApiSpec, names: ParamNames) -> dict[str, Any]:
    shown = api.signature.presented(names)
    return {
        "type": "object",
        "properties": {name: {"type": p.type.json_type} for name, p in shown},
        "required": [name for name, p in shown if p.required],
        "additionalProperties": False,
    }


def _fit(view: View, mode: ActionMode, system: str, budget: int | None) -> list[dict[str, Any]]:
    path = list(view.path)
    cut = 0  # how many of the oldest steps are left out
    shorten = False
    while True:
        messages = _messages(view, mode, system, path[cut:], cut, shorten)
        if budget is None or len(json.dumps(messages, ensure_ascii=False)) <= budget:
            return messages
        if not shorten:
            shorten = True
        elif cut < len(path) - 1:
            cut += 1
        else:
            # Still too long: send it anyway; the model's refusal becomes a failed step.
            return messages


def _messages(
    view: View, mode: ActionMode, system: str, steps: list[Step], omitted: int, shorten: bool
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": prompts.task(view.query)},
    ]
    if omitted:
        messages.append({"role": "user", "content": f"({omitted} earlier steps left out.)"})
    for position, step in enumerate(steps):
        observation = step.observation
        if shorten and position < len(steps) - KEEP_FULL:
            observation = prompts.shorten_observation(observation, SHORT_OBSERVATION)
        if step.note:
            messages.append({"role": "user", "content": step.note})
        step_messages = _step_messages(step, mode, observation)
        if step.batch and mode is ActionMode.TOOLS and position > 0:
            # A later call of one model reply goes into that reply's assistant message, and its
            # result after the others': [assistant(c1, c2), tool(c1), tool(c2)], as the model
            # sent them. (A later call carries no note, so nothing comes between.)
            assistant, result = step_messages
            previous = next(m for m in reversed(messages) if m["role"] == "assistant")
            previous["tool_calls"] = [*previous["tool_calls"], *assistant["tool_calls"]]
            messages.append(result)
        else:
            messages += step_messages
    messages += [{"role": "user", "content": note} for note in view.notes]
    return messages


def _step_messages(step: Step, mode: ActionMode, observation: str) -> list[dict[str, Any]]:
    if mode is ActionMode.JSON:
        return [
            {"role": "assistant", "content": prompts.action_json(step)},
            {
                "role": "user",
                "content": prompts.observation_message(step.action.function, observation),
            },
        ]
    # Ids are made here, not taken from the model, so equal histories give equal requests.
    call_id = f"call_{step.depth}"
    call = {"name": step.action.function, "arguments": step.action.arguments or "{}"}
    assistant: dict[str, Any] = {
        "role": "assistant",
        "content": step.action.thought or None,
        "tool_calls": [{"id": call_id, "type": "function", "function": call}],
    }
    if step.action.reasoning:
        # The model's reasoning goes back with its tool calls (Responses API only).
        assistant[REASONING] = list(step.action.reasoning)
    return [assistant, {"role": "tool", "tool_call_id": call_id, "content": observation}]


def parse(reply: ChatReply, mode: ActionMode) -> tuple[Action, ...]:
    """The actions in a reply, in order; :class:`BadOutput` says why there is none.

    A reply may make several tool calls at once (parallel tool calls): each is an
    action, the reply's thought goes with the first, and calls after a ``Finish``
    are left out (the chain ends there).
    """
    if mode is ActionMode.JSON:
        return (_parse_json(reply),)
    if not reply.tool_calls:
        raise BadOutput("the model called no function" + _finish_note(reply))
    found = []
    for position, call in enumerate(reply.tool_calls):
        thought = reply.content or "" if position == 0 else ""
        action = _action(call.name, call.arguments, _arguments(call.arguments), thought)
        if position == 0 and reply.reasoning:
            action = replace(action, reasoning=reply.reasoning)
        found.append(action)
        if action.is_finish:
            break
    return tuple(found)


def _parse_json(reply: ChatReply) -> Action:
    text = (reply.content or "").strip()
    try:
        data = json.loads(text)
    except ValueError:
        raise BadOutput(f"the reply is not JSON{_finish_note(reply)}: {text[:120]!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("function"), str):
        raise BadOutput(f"the reply names no function: {text[:120]!r}")
    arguments = data.get("arguments", {})
    if not isinstance(arguments, dict):
        raise BadOutput("the arguments are not a JSON object")
    thought = data.get("thought")
    return _action(
        data["function"],
        json.dumps(arguments, ensure_ascii=False),
        arguments,
        thought if isinstance(thought, str) else "",
    )


def _finish_note(reply: ChatReply) -> str:
    return " (cut at the token limit)" if reply.finish_reason == "length" else ""


def _arguments(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise BadOutput(f"the arguments are not valid JSON: {text[:120]!r}") from None
    if not isinstance(value, dict):
        raise BadOutput("the arguments are not a JSON object")
    return value


def _action(function: str, text: str, arguments: dict[str, Any], thought: str) -> Action:
    function = function.strip()
    if not function:
        raise BadOutput("the function name is empty")
    if function == FINISH:
        return_type = arguments.get("return_type")
        answer = arguments.get("final_answer")
        if return_type is None and isinstance(answer, str) and answer.strip():
            # Small models often leave the obvious out; an answer means give_answer.
            arguments = {"return_type": GIVE_ANSWER, **arguments}
            text = json.dumps(arguments, ensure_ascii=False)
            return_type = GIVE_ANSWER
        if return_type not in (GIVE_ANSWER, GIVE_UP):
            raise BadOutput(f"{FINISH} needs return_type {GIVE_ANSWER} or {GIVE_UP}")
        if return_type == GIVE_ANSWER and not (isinstance(answer, str) and answer.strip()):
            raise BadOutput(f"{FINISH} with {GIVE_ANSWER} needs a non-empty final_answer")
    return Action(function=function, arguments=text, parsed=arguments, thought=thought.strip())
