"""The exception tree shared by every component, each error with its HTTP status.

One handler in the server maps these to the single native error shape; the CLI
prints them without a traceback::

    ToolsimError                 500 internal_error
    ├── UserError                400 user_error          bad configuration or command-line input
    │   ├── JsonFileError        toolsim.files           a JSON file missing or not valid JSON
    │   ├── DamagedFile          toolsim.files           an input file that is not what it should be
    │   ├── EmbedderUnavailable  toolsim.planner         an embedder's package is missing
    │   └── DownloadError        toolsim.data            a download failed or was damaged
    ├── BadRequest               400 bad_request
    ├── PayloadTooLarge          413 payload_too_large
    ├── UnsupportedMediaType     415 unsupported_media_type  a body not declared as JSON
    ├── ToolNotFound             404 tool_not_found
    ├── InvalidArguments         422 invalid_arguments
    ├── CacheMiss                404 cache_miss          replay mode, no recorded reply
    ├── EpisodeNotFound          404 episode_not_found   never opened, closed, or expired
    ├── EpisodeLimit             429 episode_limit       too many open episodes, calls or cost
    ├── NotAvailable             501 not_available       not set up here (no judge, episodes off)
    ├── UpstreamError            502 upstream_error      a simulator, relay or model failed
    │   ├── LLMUnavailable       toolsim.llm             the endpoint cannot be reached
    │   ├── RequestRejected      toolsim.llm             the endpoint refused the request
    │   ├── NoVerdict            502 no_verdict          a judge gave no usable verdict
    │   └── NoExemplar           toolsim.simulator       no recorded reply of the API to adapt
    └── InjectedFault            500 injected_fault      a fault profile's (also 429, 503, 504)

An **infrastructure failure** is the world failing the agent, not the agent failing:
a simulator, relay, model or store that did not answer (an :class:`UpstreamError`,
except a request the model endpoint rejected as such). :func:`is_infrastructure` is
the one test: the server marks such tool replies, the agent ends the query with
status ``infrastructure`` instead of showing the failure as an API reply, and the
pass rate leaves it unscored.

Going over a budget is not an error: the server knows no budgets, and an agent's
budget gate (:mod:`toolsim.budget.gate`) turns a call that does not fit into a
:class:`~toolsim.budget.Rejection` the model sees as an error observation, and
the run goes on.
"""

from __future__ import annotations

from typing import Any, ClassVar

from toolsim.redact import scrub

#: The header marking an error reply as an infrastructure failure, and its value.
FAILURE_HEADER = "x-toolsim-failure"
INFRASTRUCTURE = "infrastructure"


class ToolsimError(Exception):
    """Base class of every error toolsim reports to a user or client."""

    status_code = 500
    code = "internal_error"
    #: Whether this error is an infrastructure failure (see the module docstring).
    infrastructure: ClassVar[bool] = False

    def __init__(self, message: str, **details: Any) -> None:
        # Whatever a message quotes (a URL, a client library's error), no credential in it.
        message = scrub(message)
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The native error shape: ``{"error": {"type", "message", "details"}}``."""
        return {"error": {"type": self.code, "message": self.message, "details": self.details}}

    def headers(self) -> dict[str, str]:
        """HTTP headers the error is answered with (``Retry-After``, ...): by default only
        :data:`FAILURE_HEADER` on an infrastructure failure, so that toolsim's agent can tell
        it from the API's own error (reference clients ignore it)."""
        return {FAILURE_HEADER: INFRASTRUCTURE} if self.infrastructure else {}


class UserError(ToolsimError):
    """Bad configuration or command-line input."""

    status_code = 400
    code = "user_error"


class BadRequest(ToolsimError):
    """A request that cannot be understood (malformed JSON, wrong shape, hostile names)."""

    status_code = 400
    code = "bad_request"


class PayloadTooLarge(ToolsimError):
    """A request body over the configured limit."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ToolsimError):
    """A request body that does not say it is JSON (``Content-Type: application/json``)."""

    status_code = 415
    code = "unsupported_media_type"


class ToolNotFound(ToolsimError):
    """An unknown category, tool, API or function name."""

    status_code = 404
    code = "tool_not_found"


class InvalidArguments(ToolsimError):
    """Arguments that do not match the API's documentation."""

    status_code = 422
    code = "invalid_arguments"


class CacheMiss(ToolsimError):
    """A call with no recorded reply while the server is in ``replay`` mode."""

    status_code = 404
    code = "cache_miss"


class UpstreamError(ToolsimError):
    """A simulator, upstream API, model or store that failed to produce a valid reply."""

    status_code = 502
    code = "upstream_error"
    infrastructure = True


def is_infrastructure(error: BaseException) -> bool:
    """Whether ``error`` is an infrastructure failure (the one definition toolsim uses)."""
    return isinstance(error, ToolsimError) and error.infrastructure


#: The source (``X-Toolsim-Source``) of a reply that a fault profile injected.
FAULT_SOURCE = "fault"


class EpisodeNotFound(ToolsimError):
    """An episode id that names no open episode (never opened, closed, or expired)."""

    status_code = 404
    code = "episode_not_found"


class EpisodeLimit(ToolsimError):
    """A limit reached: episodes open at once, or one episode's calls or budget."""

    status_code = 429
    code = "episode_limit"


class NotAvailable(ToolsimError):
    """Something this server was not set up for: no judge, episodes off, no sessions."""

    status_code = 501
    code = "not_available"


class InjectedFault(ToolsimError):
    """A failure a fault profile injected on purpose (see :mod:`toolsim.server.faults`).

    It looks like what a real API answers: its status (429, 500, 503, 504), a
    realistic body, and ``Retry-After`` for a rate limit.
    """

    status_code = 500
    code = "injected_fault"

    def __init__(
        self,
        status: int,
        kind: str,
        body: dict[str, Any],
        function: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        text = str(body.get("message") or kind)
        super().__init__(f"HTTP {status}: {text}", fault=kind, body=body, function=function)
        self.status_code = status
        self.kind = kind
        self.body = body
        self._headers = {**(headers or {}), "x-toolsim-source": FAULT_SOURCE}

    def headers(self) -> dict[str, str]:
        """``Retry-After`` for a rate limit, and the provenance header ``fault``."""
        return dict(self._headers)


class NoVerdict(UpstreamError):
    """A judge that gave no usable verdict (a failed request, an unreadable reply).

    Scoring counts such a round as unscored; any other exception from a judge is a
    bug and propagates.
    """

    code = "no_verdict"
