"""The one MCP client of toolsim: lists a server's tools (for the catalog) and calls them.

A server is named as in ``--tools``: ``mcp:<http(s) URL>`` (streamable HTTP) or
``mcp:<command and arguments>`` (stdio, started as a child process that
inherits this process's environment, so a server finds its own credentials
there). Listing happens at the edge, once, before the catalog is built
(:func:`list_servers`); calls go through one long-lived session per server
(:class:`McpSession`), because a server may keep state between calls as the
real one does. Headers given for HTTP servers (credentials) are sent, never
stored or logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from toolsim.catalog.mcp import PREFIX, ListedServer, is_mcp_source
from toolsim.errors import UpstreamError, UserError

#: Seconds one listing or call may take unless told otherwise.
DEFAULT_TIMEOUT = 30.0


@contextlib.asynccontextmanager
async def _connected(
    source: str, headers: Mapping[str, str], timeout: float
) -> AsyncIterator[Client]:
    """An SDK client connected to the server a ``mcp:`` source names."""
    target = source[len(PREFIX) :].strip()
    if not target:
        raise UserError(f"{source!r} names no MCP server (mcp:<URL> or mcp:<command>)")
    if target.startswith(("http://", "https://")):
        async with (
            httpx2.AsyncClient(headers=dict(headers), timeout=httpx2.Timeout(timeout)) as http,
            Client(
                streamable_http_client(target, http_client=http), read_timeout_seconds=timeout
            ) as client,
        ):
            yield client
        return
    try:
        command, *args = shlex.split(target)
    except ValueError as exc:
        raise UserError(f"cannot read the MCP server command {target!r}: {exc}") from None
    if command in ("python", "python3"):
        command = sys.executable  # the interpreter toolsim runs on, with its packages
    parameters = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    async with Client(parameters, read_timeout_seconds=timeout) as client:
        yield client


async def list_server(
    source: str, *, headers: Mapping[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> ListedServer:
    """What the MCP server named by ``source`` says about itself and its tools."""
    try:
        async with _connected(source, headers or {}, timeout) as client:
            tools: list[dict[str, Any]] = []
            cursor: str | None = None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools += [
                    tool.model_dump(mode="json", by_alias=True, exclude_none=True)
                    for tool in page.tools
                ]
                cursor = page.next_cursor
                if not cursor:
                    break
            info = client.server_info
            name = info.name if info is not None and info.name else source
            return ListedServer(source, name, client.instructions or "", tuple(tools))
    except UserError:
        raise
    except Exception as exc:
        raise UserError(
            f"cannot list the tools of the MCP server {_shown(source)}: {_reason(exc)}"
        ) from None


def list_servers(
    sources: Sequence[object], *, headers: Mapping[str, str] | None = None, timeout: float
) -> dict[str, ListedServer]:
    """List every ``mcp:`` source among ``sources`` (called at the edge, from sync code).

    Runs on a thread of its own, so it works whether or not the caller's thread
    already runs an event loop.
    """
    wanted = [str(source) for source in sources if is_mcp_source(source)]
    if not wanted:
        return {}

    async def all_of_them() -> dict[str, ListedServer]:
        listed = [await list_server(s, headers=headers, timeout=timeout) for s in wanted]
        return {item.source: item for item in listed}

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, all_of_them()).result()


def reply_of(result: Any) -> tuple[str, Any]:
    """``(error, response)`` of a ``tools/call`` result: structured content if any, else the
    text (parsed when it is JSON); a tool error's text is the error."""
    texts = [block.text for block in result.content if getattr(block, "type", "") == "text"]
    text = "\n".join(texts)
    if result.is_error:
        return text or "the tool reported an error", ""
    if result.structured_content is not None:
        return "", result.structured_content
    if len(result.content) == len(texts):
        with contextlib.suppress(ValueError):
            return "", json.loads(text)
        return "", text
    return "", [block.model_dump(mode="json", by_alias=True) for block in result.content]


class McpSession:
    """One long-lived session with one MCP server, owned by a task of its own.

    The SDK's client must be entered and left in the same task, so a worker task
    holds it and serves calls from a queue; it starts on the first call and ends
    on :meth:`aclose`. A session that breaks is started again on the next call.
    """

    def __init__(self, source: str, *, headers: Mapping[str, str], timeout: float) -> None:
        self.source = source
        self._headers = dict(headers)
        self._timeout = timeout
        self._queue: asyncio.Queue[tuple[str, dict[str, Any], asyncio.Future[Any]]] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """The ``tools/call`` result of ``tool``; :class:`UpstreamError` if none was had."""
        if self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._serve(self._queue))
        assert self._queue is not None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((tool, arguments, answer))
        try:
            return await asyncio.wait_for(asyncio.shield(answer), self._timeout)
        except TimeoutError:
            raise UpstreamError(f"the MCP server timed out on {tool}") from None

    async def _serve(
        self, queue: asyncio.Queue[tuple[str, dict[str, Any], asyncio.Future[Any]]]
    ) -> None:
        pending: asyncio.Future[Any] | None = None
        try:
            async with _connected(self.source, self._headers, self._timeout) as client:
                while True:
                    tool, arguments, pending = await queue.get()
                    try:
                        result = await client.call_tool(tool, arguments)
                    except Exception as exc:
                        if not pending.done():
                            pending.set_exception(
                                UpstreamError(f"the MCP server failed on {tool}: {_reason(exc)}")
                            )
                    else:
                        if not pending.done():
                            pending.set_result(result)
                    pending = None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failure = UpstreamError(
                f"the MCP session with {_shown(self.source)} broke: {_reason(exc)}"
            )
            for waiting in [pending, *_drain(queue)]:
                if waiting is not None and not waiting.done():
                    waiting.set_exception(failure)

    async def aclose(self) -> None:
        """End the session (and a stdio server's process)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(BaseException):
                await self._worker
            self._worker = None


def _drain(queue: asyncio.Queue[tuple[str, dict[str, Any], asyncio.Future[Any]]]) -> list[Any]:
    waiting = []
    while not queue.empty():
        waiting.append(queue.get_nowait()[2])
    return waiting


def _shown(source: str) -> str:
    """A source as it may be shown: a URL without what could be credentials, a command's name."""
    target = source[len(PREFIX) :].strip()
    if target.startswith(("http://", "https://")):
        url = httpx2.URL(target)
        return f"{url.scheme}://{url.host}{':' + str(url.port) if url.port else ''}{url.path}"
    return target.split()[0] if target else source


def _reason(exc: BaseException) -> str:
    """An exception's message, looking inside the task groups the SDK raises."""
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _reason(exc.exceptions[0])
    return f"{type(exc).__name__}: {exc}"[:300]
