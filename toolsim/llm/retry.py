"""The one retry policy of every model call: transient failures re-send the same request.

A rate limit (429), a server error (5xx), a connection error or a timeout says
nothing about the request, so the request is sent again *unchanged* (same
temperature, same seed): a transient fault never changes what a model is asked,
and so never changes a trajectory or a verdict. Waits grow exponentially with
jitter, honour the server's ``Retry-After``, and stop after ``retries`` re-sends
or when the next wait would pass the caller's deadline. Invalid *output* is not
handled here: only the caller knows whether to sample again.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from toolsim.settings import RetrySettings

T = TypeVar("T")


@dataclass(slots=True)
class RetryCount:
    """What retrying one request cost: re-sends and seconds waited."""

    retries: int = 0
    waited: float = 0.0


def transient(exc: BaseException) -> bool:
    """Whether a failed model request is worth sending again unchanged."""
    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked to wait (``Retry-After``: seconds or a date), if it did."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


class _Wait:
    """Exponential backoff with jitter, or the server's ``Retry-After``, capped."""

    def __init__(self, policy: RetrySettings) -> None:
        self.policy = policy
        self.backoff = wait_exponential_jitter(
            initial=policy.base, max=policy.max, jitter=policy.base
        )

    def __call__(self, state: RetryCallState) -> float:
        asked = retry_after(state.outcome.exception() if state.outcome else None)
        if asked is not None:
            return min(asked, self.policy.max)
        return min(self.backoff(state), self.policy.max)


async def send_with_retries(
    send: Callable[[], Awaitable[T]],
    policy: RetrySettings,
    count: RetryCount,
    *,
    deadline: float | None = None,
) -> T:
    """``await send()``, re-sent on transient failures as ``policy`` says; ``count`` is updated.

    ``deadline`` (a :func:`time.monotonic` time) stops retrying when the next
    wait would end past it. The last failure is raised as it was.
    """
    stop: stop_base = stop_after_attempt(policy.retries + 1)
    if deadline is not None:
        stop = stop | stop_before_delay(max(deadline - time.monotonic(), 0.0))

    def counted(state: RetryCallState) -> None:
        count.retries += 1
        count.waited += state.upcoming_sleep

    retrying = AsyncRetrying(
        retry=retry_if_exception(transient),
        wait=_Wait(policy),
        stop=stop,
        before_sleep=counted,
        reraise=True,
    )
    return await retrying(send)
