"""Where a chat model is served, and the error for a model that cannot be reached."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from toolsim.errors import UpstreamError


class LLMUnavailable(UpstreamError):
    """The model endpoint cannot be reached or started (as opposed to answering badly)."""


class RequestRejected(UpstreamError):
    """The endpoint refused the request itself (HTTP 400): sending it again cannot help.

    Not an infrastructure failure: the endpoint works, the request (a conversation
    too long for the model's context, say) is what it refused.
    """

    infrastructure = False


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An OpenAI-compatible endpoint and the model to ask there ("": the first it lists)."""

    base_url: str
    model: str
    api_key: str = "none"


#: Something that yields an endpoint when first needed (e.g. starts the local model).
EndpointSource = Callable[[], Awaitable[Endpoint]]
