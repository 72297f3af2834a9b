"""Language models toolsim talks to: endpoints, the embedded model, chat models with a cache."""

from toolsim.llm.chat import CachedChat, ChatModel, ChatReply, ChatRequest, ToolCall
from toolsim.llm.client import RESPONSE_FORMATS, OpenAIChat
from toolsim.llm.endpoint import Endpoint, EndpointSource, LLMUnavailable, RequestRejected
from toolsim.llm.roles import (
    available_chat_models,
    chat_model_registry,
    create_chat_model,
    register_chat_model,
)

__all__ = [
    "RESPONSE_FORMATS",
    "CachedChat",
    "ChatModel",
    "ChatReply",
    "ChatRequest",
    "Endpoint",
    "EndpointSource",
    "LLMUnavailable",
    "OpenAIChat",
    "RequestRejected",
    "ToolCall",
    "available_chat_models",
    "chat_model_registry",
    "create_chat_model",
    "register_chat_model",
]
