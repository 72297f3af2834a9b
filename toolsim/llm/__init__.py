"""Language models toolsim talks to: endpoints, the embedded model, chat models with a cache."""

from toolsim.llm.chat import (
    CachedChat,
    ChatModel,
    ChatReply,
    ChatRequest,
    OpenAIChat,
    ToolCall,
    available_chat_models,
    create_chat_model,
    register_chat_model,
)
from toolsim.llm.endpoint import Endpoint, EndpointSource, LLMUnavailable, RequestRejected
from toolsim.llm.retry import RetryPolicy

__all__ = [
    "CachedChat",
    "ChatModel",
    "ChatReply",
    "ChatRequest",
    "Endpoint",
    "EndpointSource",
    "LLMUnavailable",
    "OpenAIChat",
    "RequestRejected",
    "RetryPolicy",
    "ToolCall",
    "available_chat_models",
    "create_chat_model",
    "register_chat_model",
]
