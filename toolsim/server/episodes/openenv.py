"""The OpenEnv front: toolsim episodes as an OpenEnv tool environment.

OpenEnv clients (``openenv``'s ``GenericEnvClient`` and ``MCPToolClient``, and
harnesses built on them) talk to an environment server over a WebSocket at
``/ws``; each connection is one environment session:

* ``{"type": "reset", "data": {...}}`` opens an episode (the data are the body of
  ``POST /v1/episodes``: ``seed``, ``group`` and ``query_id``, ``query`` and
  ``tools``, ``budget``, ...), ending the connection's previous one;
* ``{"type": "step", "data": action}`` takes an MCP-style action:
  ``{"type": "list_tools"}``, or ``{"type": "call_tool", "tool_name", "arguments"}``.
  Calling ``Finish`` (``return_type`` ``give_answer`` with ``final_answer``, or
  ``give_up_and_restart``) verifies the episode: its reward, ``done: true``;
* ``{"type": "state"}`` gives ``episode_id``, ``step_count`` and the budget;
* ``{"type": "close"}``, or the connection closing, closes the episode.

Replies are ``{"type": "observation" | "state" | "error", "data": ...}``, an
observation's data ``{"observation", "reward", "done"}``, as OpenEnv's own server
sends them. ``GET /schema`` describes the actions, as OpenEnv servers do.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from toolsim.errors import BadRequest, ToolsimError
from toolsim.runs.answer_format import FINISH, GIVE_ANSWER, GIVE_UP, finish_schema
from toolsim.server.episodes.manager import Episodes, episodes_of
from toolsim.server.episodes.models import OpenEpisode

log = logging.getLogger("toolsim.server")

PATH = "/ws"

#: The action schema ``GET /schema`` gives: OpenEnv's MCP tool-calling action.
ACTION_SCHEMA: dict[str, Any] = {
    "title": "CallToolAction",
    "type": "object",
    "description": "Call one tool of the episode; call Finish to end it and get the reward.",
    "properties": {
        "type": {"type": "string", "enum": ["call_tool", "list_tools"], "default": "call_tool"},
        "tool_name": {"type": "string", "description": "A tool listed by list_tools."},
        "arguments": {"type": "object", "description": "The tool's arguments."},
    },
    "required": ["tool_name"],
}
OBSERVATION_SCHEMA: dict[str, Any] = {
    "title": "CallToolObservation",
    "type": "object",
    "properties": {
        "tool_name": {"type": "string"},
        "result": {"description": "The tool's reply: {error, response}; Finish: the verdict."},
        "error": {"type": ["object", "null"]},
        "tools": {"type": "array", "description": "After reset and list_tools."},
    },
}
STATE_SCHEMA: dict[str, Any] = {
    "title": "EpisodeState",
    "type": "object",
    "properties": {
        "episode_id": {"type": ["string", "null"]},
        "step_count": {"type": "integer"},
        "budget": {"type": "object"},
    },
}


def mcp_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI tool schemas as MCP tool descriptions, Finish last."""
    functions = [tool["function"] for tool in tools] + [finish_schema()]
    return [
        {
            "name": function["name"],
            "description": function["description"],
            "input_schema": function["parameters"],
        }
        for function in functions
    ]


def _observation(
    observation: dict[str, Any], reward: float | None = None, done: bool = False
) -> dict[str, Any]:
    data = {"observation": observation, "reward": reward, "done": done}
    return {"type": "observation", "data": data}


def _error(message: str, code: str = "EXECUTION_ERROR", **details: Any) -> dict[str, Any]:
    return {"type": "error", "data": {"message": message, "code": code, **details}}


class Connection:
    """One OpenEnv session: the episode a WebSocket connection holds."""

    def __init__(self, episodes: Episodes) -> None:
        self.episodes = episodes
        self.episode_id: str | None = None
        self.steps = 0
        self.done = False

    async def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        """The reply to one message (an error reply for anything that fails)."""
        kind = message.get("type")
        data = message.get("data") or {}
        try:
            if kind == "reset":
                return await self.reset(data)
            if kind == "step":
                return await self.step(data)
            if kind == "state":
                return {"type": "state", "data": await self.state()}
        except ValidationError as exc:
            problems = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
            return _error("invalid message", "VALIDATION_ERROR", errors=problems)
        except ToolsimError as exc:
            return _error(exc.message, exc.code.upper())
        return _error(f"unknown message type: {kind!r}", "UNKNOWN_TYPE")

    async def reset(self, data: dict[str, Any]) -> dict[str, Any]:
        """Open a new episode (closing this connection's previous one)."""
        request = OpenEpisode.model_validate(data)
        await self.close()
        opened = await self.episodes.open(request)
        self.episode_id, self.steps, self.done = opened["episode_id"], 0, False
        task = {
            "episode_id": self.episode_id,
            "query": opened["query"],
            "budget": opened["budget"],
            "plan": opened["plan"],
        }
        # The task again under metadata: OpenEnv's MCPToolClient keeps only the tools and
        # the metadata of an observation that lists tools.
        return _observation({**task, "tools": mcp_tools(opened["tools"]), "metadata": task})

    async def step(self, action: dict[str, Any]) -> dict[str, Any]:
        """Take one action: list the tools, call one, or Finish."""
        if self.episode_id is None:
            raise BadRequest("reset first: no episode is open on this connection")
        kind = action.get("type", "call_tool")
        if kind == "list_tools":
            state, _log = await self.episodes.state(self.episode_id)
            return _observation({"tools": mcp_tools(self.episodes.tools(state))})
        if kind != "call_tool":
            raise BadRequest(f"unknown action type {kind!r}: use call_tool or list_tools")
        name = action.get("tool_name")
        arguments = action.get("arguments") or {}
        if not isinstance(name, str) or not isinstance(arguments, dict):
            raise BadRequest("call_tool needs a tool_name and an object of arguments")
        self.steps += 1
        if name == FINISH:
            return await self._finish(arguments)
        try:
            result = await self.episodes.call(self.episode_id, name, arguments)
        except ToolsimError as exc:
            # A tool-level failure the agent can act on (a bad name, invalid arguments,
            # over budget): an error observation, as OpenEnv's MCP environments give one.
            error = {"error_type": "execution_error", "message": exc.message}
            return _observation({"tool_name": name, "result": None, "error": error})
        reply = {"error": result.reply.error, "response": result.reply.response}
        return _observation({"tool_name": name, "result": reply, "error": None})

    async def _finish(self, arguments: dict[str, Any]) -> dict[str, Any]:
        assert self.episode_id is not None
        return_type = arguments.get("return_type", GIVE_ANSWER)
        if return_type not in (GIVE_ANSWER, GIVE_UP):
            raise BadRequest(f"{FINISH} needs return_type {GIVE_ANSWER} or {GIVE_UP}")
        answer = arguments.get("final_answer") or ""
        verdict = await self.episodes.verify(
            self.episode_id, str(answer), give_up=return_type == GIVE_UP
        )
        self.done = True
        reward = verdict.get("reward")
        return _observation(
            {"tool_name": FINISH, "result": verdict, "error": None},
            reward=reward if isinstance(reward, int | float) else 0.0,
            done=True,
        )

    async def state(self) -> dict[str, Any]:
        """OpenEnv's state: the episode id and steps taken, with the budget."""
        if self.episode_id is None:
            return {"episode_id": None, "step_count": 0}
        state, _log = await self.episodes.state(self.episode_id)
        return {
            "episode_id": self.episode_id,
            "step_count": self.steps,
            "budget": state.budget_view(),
            "done": self.done,
        }

    async def close(self) -> None:
        """Close the connection's episode, if it still exists."""
        if self.episode_id is not None:
            episode_id, self.episode_id = self.episode_id, None
            try:
                await self.episodes.close(episode_id)
            except ToolsimError:
                pass  # expired or closed elsewhere: nothing left to close


def mount_openenv(app: FastAPI, episodes: Episodes | None) -> None:
    """Serve the OpenEnv front (``/ws``, ``GET /schema``, ``GET /health``) on ``app``."""

    @app.get("/schema", tags=["openenv"], summary="OpenEnv: action, observation, state schemas")
    async def schema() -> dict[str, Any]:
        """The JSON schemas of the OpenEnv front's actions, observations and state."""
        episodes_of(episodes)
        return {"action": ACTION_SCHEMA, "observation": OBSERVATION_SCHEMA, "state": STATE_SCHEMA}

    @app.get("/health", tags=["openenv"], summary="OpenEnv: health")
    async def health() -> dict[str, str]:
        """OpenEnv's health check (toolsim's own is ``/healthz``)."""
        return {"status": "healthy"}

    @app.websocket(PATH)
    async def openenv(websocket: WebSocket) -> None:
        await websocket.accept()
        if episodes is None:
            message = _error("episodes are off on this server", "SESSION_ERROR")
            await websocket.send_text(orjson.dumps(message).decode())
            await websocket.close()
            return
        connection = Connection(episodes)
        try:
            while True:
                raw = await websocket.receive_text()
                try:
                    message = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    reply = _error(f"Invalid JSON: {exc}", "INVALID_JSON")
                else:
                    if isinstance(message, dict) and message.get("type") == "close":
                        break
                    if not isinstance(message, dict):
                        reply = _error("a message is a JSON object", "VALIDATION_ERROR")
                    else:
                        reply = await connection.handle(message)
                await websocket.send_text(
                    orjson.dumps(reply, option=orjson.OPT_NON_STR_KEYS).decode()
                )
            await websocket.close()
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("OpenEnv connection failed")
        finally:
            await connection.close()
