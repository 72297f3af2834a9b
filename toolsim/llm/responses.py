"""The OpenAI Responses API (``/v1/responses``) as a wire format of the one model client.

:class:`~toolsim.llm.client.OpenAIChat` speaks Chat Completions by default and
Responses when its role says ``api = "responses"`` (``TOOLSIM_AGENT__API``,
``TOOLSIM_JUDGE__API``, ...): newer models accept ``tools`` with reasoning only
there. A :class:`~toolsim.llm.chat.ChatRequest` keeps its chat-style messages;
this module turns them into Responses input items and the response back into a
:class:`~toolsim.llm.chat.ChatReply`:

* system messages become input items of role ``system``; user and assistant text
  stay messages; an assistant's tool calls become ``function_call`` items and
  tool results ``function_call_output`` items, matched by call id;
* reasoning items a reply carried (``ChatReply.reasoning``) and that the caller put
  back on its assistant message (``"reasoning"``) are sent again before that
  message's function calls, so a reasoning model keeps its chain across tool turns
  (``store`` is off and the encrypted reasoning is asked for, so no state is kept
  at the provider);
* ``response_format`` becomes ``text.format``, ``max_tokens`` ``max_output_tokens``;
  the sampling seed has no Responses equivalent and is not sent.
"""

from __future__ import annotations

from typing import Any

from toolsim.errors import UpstreamError
from toolsim.llm.chat import ChatReply, ChatRequest, ToolCall

#: The key of an assistant message holding the reasoning items to send back (Responses only).
REASONING = "reasoning"


def chat_messages(messages: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """Messages as Chat Completions takes them: without the Responses-only reasoning items."""
    return [
        {k: v for k, v in message.items() if k != REASONING} if REASONING in message else message
        for message in messages
    ]


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A chat-completions tool as a Responses function tool."""
    function = tool.get("function", tool)
    converted = {"type": "function", "name": function["name"]}
    for field in ("description", "parameters", "strict"):
        if field in function:
            converted[field] = function[field]
    return converted


def _text_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """A chat ``response_format`` as the Responses ``text.format``."""
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema", {})
        converted = {"type": "json_schema", "name": spec.get("name", "reply")}
        converted["schema"] = spec.get("schema", {})
        if "strict" in spec:
            converted["strict"] = spec["strict"]
        return converted
    return {"type": kind} if kind else None


def input_items(messages: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """Chat-style messages as Responses input items (see the module docstring)."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        content = message.get("content")
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.get("tool_call_id", ""),
                    "output": content if isinstance(content, str) else str(content),
                }
            )
            continue
        if role == "assistant":
            items += list(message.get(REASONING) or ())
            if content:
                items.append({"role": "assistant", "content": content})
            for call in message.get("tool_calls") or ():
                function = call.get("function", {})
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call.get("id", ""),
                        "name": function.get("name", ""),
                        "arguments": function.get("arguments") or "{}",
                    }
                )
            continue
        items.append({"role": role or "user", "content": content or ""})
    return items


def responses_arguments(
    request: ChatRequest, model: str, text_format: dict[str, Any] | None
) -> dict[str, Any]:
    """The ``responses.create`` arguments of a request (``text_format`` already weakened)."""
    arguments: dict[str, Any] = {
        "model": model,
        "input": input_items(request.messages),
        "temperature": request.temperature,
        "max_output_tokens": request.max_tokens,
        "store": False,
        "include": ["reasoning.encrypted_content"],
    }
    if request.tools:
        arguments["tools"] = [_tool(tool) for tool in request.tools]
    converted = _text_format(text_format)
    if converted is not None:
        arguments["text"] = {"format": converted}
    return arguments


def responses_reply(response: Any) -> ChatReply:
    """A Responses API response as a :class:`ChatReply` (reasoning items kept)."""
    output = getattr(response, "output", None)
    if output is None:
        raise UpstreamError("the model endpoint returned no usable response")
    texts: list[str] = []
    calls: list[ToolCall] = []
    reasoning: list[dict[str, Any]] = []
    for item in output:
        kind = getattr(item, "type", None)
        if kind == "message":
            for part in getattr(item, "content", None) or ():
                if getattr(part, "type", None) == "output_text":
                    texts.append(part.text)
        elif kind == "function_call":
            calls.append(ToolCall(name=item.name, arguments=item.arguments or "", id=item.call_id))
        elif kind == "reasoning":
            reasoning.append(item.model_dump(exclude_none=True))
    usage = getattr(response, "usage", None)
    incomplete = getattr(response, "incomplete_details", None)
    if getattr(response, "status", None) == "incomplete" and incomplete is not None:
        finish = "length" if incomplete.reason == "max_output_tokens" else incomplete.reason
    else:
        finish = "tool_calls" if calls else "stop"
    return ChatReply(
        content="".join(texts) if texts else None,
        tool_calls=tuple(calls),
        prompt_tokens=usage.input_tokens if usage else 0,
        completion_tokens=usage.output_tokens if usage else 0,
        finish_reason=finish,
        reasoning=tuple(reasoning),
    )
