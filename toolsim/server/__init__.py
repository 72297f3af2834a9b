"""The FastAPI server agents point their tool base URL at."""

from toolsim.server.app import create_app
from toolsim.server.service import CallResult, ToolService

__all__ = ["CallResult", "ToolService", "create_app"]
