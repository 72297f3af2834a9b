"""The chat model each role is configured to use, from a registry of chat-model backends.

Built-ins: ``openai`` (any OpenAI-compatible endpoint: vLLM, OpenAI, llama.cpp)
and ``local`` (the embedded model, shared with the simulator in one process).
Test fakes and plug-ins are registered the same way (:func:`register_chat_model`,
or the entry-point group ``toolsim.chat_models``); a factory is called with
``role=``, ``settings=`` and ``config=`` (the role's :class:`~toolsim.settings.RoleSettings`).
"""

from __future__ import annotations

from collections.abc import Callable

from toolsim.errors import UserError
from toolsim.llm.chat import CachedChat, ChatModel
from toolsim.llm.client import LocalChat, OpenAIChat
from toolsim.llm.endpoint import Endpoint
from toolsim.redact import redacted
from toolsim.registry import Registry
from toolsim.settings import RoleSettings, Settings, chat_backend, role_variable

ChatModelFactory = Callable[..., ChatModel]

#: Chat-model backends by name (entry-point group ``toolsim.chat_models``).
chat_model_registry: Registry[ChatModelFactory] = Registry(
    "chat model backend", "toolsim.chat_models"
)

#: Register a factory under a name (decorator): called with ``role``, ``settings``, ``config``.
register_chat_model = chat_model_registry.register


def available_chat_models() -> list[str]:
    """Names of every registered chat-model backend."""
    return chat_model_registry.names()


def role_settings(role: str, settings: Settings) -> RoleSettings:
    """The nested settings of ``role`` (``agent``, ``judge`` or ``simulator``)."""
    return getattr(settings, role)


def create_chat_model(role: str, settings: Settings, *, cached: bool = True) -> ChatModel:
    """The chat model a role is configured to use, cached under ``home/llm-cache`` by default.

    ``auto`` means ``openai`` when the role has a base URL, else the embedded ``local`` model.
    """
    config = role_settings(role, settings)
    backend = chat_backend(config)
    if backend not in chat_model_registry:
        raise chat_model_registry.unknown(backend, what=f"{role} model backend", extra=["auto"])
    model = chat_model_registry.create(backend, role=role, settings=settings, config=config)
    if not cached:
        return model
    return CachedChat(model, settings.home / "llm-cache")


def openai_chat(*, role: str, settings: Settings, config: RoleSettings) -> ChatModel:
    """The role's model at its OpenAI-compatible endpoint."""
    if not config.base_url:
        raise UserError(f"the openai {role} model needs {role_variable(role, 'base_url')}")
    if not config.model:
        raise UserError(
            f"set {role_variable(role, 'model')} to the model's name at {redacted(config.base_url)}"
        )
    return OpenAIChat(
        Endpoint(base_url=config.base_url, model=config.model, api_key=config.api_key),
        timeout=config.timeout,
        concurrency=config.concurrency,
        retry=settings.retry,
        api=config.api,
    )


def local_chat(*, role: str, settings: Settings, config: RoleSettings) -> ChatModel:
    """The embedded model, shared by every role in the process."""
    return LocalChat(settings, timeout=config.timeout)
