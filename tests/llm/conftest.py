"""Model-client fixtures: the fault-injecting model stub."""

from model_stub import refused_url, stub  # noqa: F401  (fixtures for this folder)
