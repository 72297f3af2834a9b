"""Before a run: is every model endpoint it will use reachable, and does it serve the model?

A run that starts against a model that cannot be reached would fail every query
(each after its retries) and only then say why. The preflight asks each remote
endpoint's ``/v1/models`` once, up front, and stops with one error naming the
role and the endpoint. The embedded model and plug-in backends are not checked
(they start on first use, or are the plug-in's business).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import openai

from toolsim.llm.client import DISCOVERY_TIMEOUT, quoted
from toolsim.llm.endpoint import LLMUnavailable
from toolsim.redact import redacted
from toolsim.settings import Settings, chat_backend


async def check_role(role: str, settings: Settings) -> str | None:
    """Check one role's endpoint; a note when its model is not listed, None when all is well.

    Raises:
        LLMUnavailable: the endpoint cannot be reached or refuses the key.
    """
    config = getattr(settings, role)
    if chat_backend(config) != "openai" or not config.base_url:
        return None
    where = redacted(config.base_url)
    client = openai.AsyncOpenAI(
        base_url=config.base_url,
        api_key=config.api_key,
        timeout=DISCOVERY_TIMEOUT,
        max_retries=0,
    )
    try:
        listing = await client.models.list()
    except openai.APIStatusError as exc:
        if exc.status_code in (401, 403):
            raise LLMUnavailable(
                f"the {role} model endpoint {where} refused the key: {quoted(exc)}"
            ) from None
        return f"the {role} model endpoint {where} answered HTTP {exc.status_code} for /models"
    except openai.APIError as exc:
        raise LLMUnavailable(
            f"the {role} model endpoint {where} cannot be reached: {quoted(exc)}"
        ) from None
    finally:
        await client.close()
    served = [model.id for model in listing.data]
    if config.model and served and config.model not in served:
        return (
            f"the {role} model endpoint {where} does not list {config.model!r} (it lists: "
            f"{', '.join(served[:5])})"
        )
    return None


async def preflight(settings: Settings, roles: Sequence[str]) -> list[str]:
    """Check every role's endpoint at once; return the notes (see :func:`check_role`).

    Raises:
        LLMUnavailable: the first endpoint that cannot be reached.
    """
    notes = await asyncio.gather(*(check_role(role, settings) for role in dict.fromkeys(roles)))
    return [note for note in notes if note]
