"""The compose file only sets variables toolsim reads, and wires the services together."""

from pathlib import Path

import pytest
import yaml

from toolsim.settings import Settings, environment_variables

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


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
