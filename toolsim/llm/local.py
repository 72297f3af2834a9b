"""The embedded model: an in-process llama.cpp server, shared by simulator, agent and judge.

Started lazily, on the first request, through the ``xllamacpp`` bindings on
a free loopback port; toolsim then talks to it exactly as to any other
OpenAI-compatible endpoint. No network and no key are needed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolsim.llm.endpoint import Endpoint, LLMUnavailable
from toolsim.llm.model_files import MODEL_NAME, ensure_gguf
from toolsim.optional import import_optional
from toolsim.settings import Settings

log = logging.getLogger("toolsim.simulator")


@dataclass(frozen=True, slots=True)
class LocalModelOptions:
    """How the local llama.cpp server is started."""

    home: Path
    threads: int = 2
    slots: int = 4
    context: int = 8192


class LocalModelServer:
    """Owns one xllamacpp server; starts it on demand and stops it on close."""

    def __init__(self, options: LocalModelOptions) -> None:
        self.options = options
        self._server: Any = None
        self._endpoint: Endpoint | None = None
        self._lock = threading.Lock()

    def start(self) -> Endpoint:
        """Start the server if needed (blocking) and return its endpoint."""
        with self._lock:
            if self._endpoint is None:
                self._endpoint = self._start()
            return self._endpoint

    def _start(self) -> Endpoint:
        # llama.cpp's OpenMP threads spin while idle by default; sharing two cores
        # with the event loop that feeds them, spinning starves it. Must be set
        # before the library loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        xllamacpp = import_optional(
            "xllamacpp",
            LLMUnavailable(
                "the local model needs the xllamacpp package: pip install 'toolsim[local]' "
                "(or give the role an OpenAI-compatible endpoint: TOOLSIM_SIMULATOR__BASE_URL, "
                "TOOLSIM_AGENT__BASE_URL or TOOLSIM_JUDGE__BASE_URL)"
            ),
        )
        try:
            gguf = ensure_gguf(self.options.home)
        except Exception as exc:
            raise LLMUnavailable(f"the local model file is not available: {exc}") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(gguf)
        params.n_ctx = self.options.context
        params.n_parallel = self.options.slots
        params.cpuparams.n_threads = self.options.threads
        params.cpuparams_batch.n_threads = self.options.threads
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port, chosen by the server
        params.verbosity = 0
        log.info("starting the local model %s (%s)", MODEL_NAME, gguf)
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:
            raise LLMUnavailable(f"the local llama.cpp server did not start: {exc}") from None
        address = str(self._server.listening_address).rstrip("/")
        # The server's main loop starts after the constructor returns, and
        # releasing it before then deadlocks: wait for a request through its queue.
        try:
            with urllib.request.urlopen(f"{address}/slots", timeout=60) as answer:
                answer.read()
        except OSError as exc:
            self._server = None
            raise LLMUnavailable(f"the local llama.cpp server does not answer: {exc}") from None
        return Endpoint(base_url=f"{address}/v1", model=MODEL_NAME)

    async def endpoint(self) -> Endpoint:
        """Start the server without blocking the event loop, and return its endpoint."""
        return await asyncio.to_thread(self.start)

    def stop(self) -> None:
        """Stop the server (it stops when the object is released)."""
        with self._lock:
            self._server = None
            self._endpoint = None


def local_model_options(settings: Settings) -> LocalModelOptions:
    """How the embedded model is started, from settings."""
    return LocalModelOptions(
        home=settings.home,
        threads=settings.local.threads,
        slots=settings.local.slots,
        context=settings.local.context,
    )


_shared: dict[LocalModelOptions, tuple[LocalModelServer, int]] = {}
_shared_lock = threading.Lock()


def acquire_local_server(options: LocalModelOptions) -> LocalModelServer:
    """The process's one server for these options, shared by every user (counted).

    The simulator, the agent and the judge of one ``toolsim run`` or ``toolsim bench``
    all use the embedded model: one llama.cpp server on two cores serves them
    better than three competing ones. Pair every call with :func:`release_local_server`.
    """
    with _shared_lock:
        server, users = _shared.get(options, (None, 0))
        if server is None:
            server = LocalModelServer(options)
        _shared[options] = (server, users + 1)
        return server


def release_local_server(server: LocalModelServer, *, stop: bool = True) -> None:
    """Drop one use of a shared server; the last user stops it (unless ``stop`` is false)."""
    with _shared_lock:
        held, users = _shared.get(server.options, (None, 0))
        if held is not server:
            if stop:
                server.stop()
            return
        if users > 1:
            _shared[server.options] = (server, users - 1)
            return
        del _shared[server.options]
    if stop:
        server.stop()
