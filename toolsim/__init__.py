"""toolsim: a stable virtual tool world for benchmarking tool-using LLM agents."""

__version__ = "0.2.0"
