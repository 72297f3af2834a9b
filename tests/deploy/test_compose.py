"""The compose file only sets variables toolsim reads, wires the services together, and is
safe by default: published ports on this machine only, a token required, Redis durable."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolsim.settings import Settings, environment_variables

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-123"

# Compose's variable forms used in the file: ${NAME}, ${NAME:-default}, ${NAME:?error}.
_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


class Unset(Exception):
    """A required variable (``${NAME:?message}``) is not set: compose refuses to start."""


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` with compose's variable forms replaced as ``docker compose`` does."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(found: re.Match[str]) -> str:
        name, kind, text = found.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise Unset(f"{name}: {text}")
        return text if kind == "-" else ""

    return _VARIABLE.sub(replace, value)


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def compose(raw: dict) -> dict:
    """The compose file as started with the required token set, nothing else."""
    return interpolate(raw, {"TOOLSIM_SERVER__AUTH_TOKEN": TOKEN})


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return env


def test_every_toolsim_variable_is_a_setting(compose: dict):
    known = set(environment_variables())  # current names only: no legacy spelling here
    set_anywhere = {
        key
        for service in compose["services"].values()
        for key in _environment(service)
        if key.startswith("TOOLSIM_")
    }
    assert set_anywhere, "the compose file configures toolsim through TOOLSIM_* variables"
    assert set_anywhere <= known, f"unknown settings: {sorted(set_anywhere - known)}"


def test_values_pass_the_settings_validation(compose: dict, monkeypatch: pytest.MonkeyPatch):
    for key, value in _environment(compose["services"]["toolsim"]).items():
        monkeypatch.setenv(key, str(value))
    settings = Settings()
    assert settings.cache.url and settings.cache.url.startswith("redis://redis:")
    assert settings.simulator.base_url == "http://vllm:8000/v1"
    assert settings.simulator.concurrency == 16


def test_the_server_waits_for_its_cache_and_model(compose: dict):
    toolsim = compose["services"]["toolsim"]
    assert set(toolsim["depends_on"]) == {"redis", "vllm"}
    assert toolsim["build"] == "."
    port = Settings().server.port
    assert any(str(mapping).endswith(f":{port}") for mapping in toolsim["ports"])


def test_it_does_not_start_without_a_token(raw: dict):
    for service in ("toolsim", "vllm"):
        with pytest.raises(Unset, match="TOOLSIM_SERVER__AUTH_TOKEN"):
            interpolate(raw["services"][service], {})


def test_toolsim_and_vllm_both_require_the_token(compose: dict, monkeypatch: pytest.MonkeyPatch):
    for key, value in _environment(compose["services"]["toolsim"]).items():
        monkeypatch.setenv(key, str(value))
    settings = Settings()
    assert settings.server.auth_token == TOKEN  # every toolsim request but /healthz needs it
    command = compose["services"]["vllm"]["command"]
    assert command[command.index("--api-key") + 1] == TOKEN
    assert settings.simulator.api_key == TOKEN  # and toolsim sends it to vLLM


def test_published_ports_listen_on_this_machine_unless_told(raw: dict):
    for env, host in [
        ({}, "127.0.0.1"),
        ({"TOOLSIM_BIND": "0.0.0.0", "VLLM_BIND": "0.0.0.0"}, "0.0.0.0"),
    ]:
        services = interpolate(raw, {"TOOLSIM_SERVER__AUTH_TOKEN": TOKEN, **env})["services"]
        published = [port for service in services.values() for port in service.get("ports", [])]
        assert published and all(str(port).startswith(f"{host}:") for port in published)
    assert "ports" not in raw["services"]["redis"]  # only toolsim reaches Redis


def test_redis_keeps_every_acknowledged_reply(compose: dict):
    command = " ".join(compose["services"]["redis"]["command"])
    assert "--appendonly yes" in command  # snapshots alone lose what came after the last one
    assert "--maxmemory-policy noeviction" in command  # an evicted reply would be re-simulated
