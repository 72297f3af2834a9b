"""Settings per role in one nested shape, with the older flat names still accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from toolsim.settings import (
    LEGACY_NAMES,
    AgentSettings,
    JudgeSettings,
    Settings,
    SimulatorSettings,
    chat_backend,
    environment_variables,
    legacy_environment_variables,
)


def test_each_role_has_the_same_model_fields():
    shared = {"backend", "base_url", "model", "api_key", "timeout", "concurrency"}
    for role in (SimulatorSettings, AgentSettings, JudgeSettings):
        assert shared <= set(role.model_fields)


def test_nested_variables_configure_each_role(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TOOLSIM_SIMULATOR__BACKEND", "openai")
    monkeypatch.setenv("TOOLSIM_SIMULATOR__BASE_URL", "http://gpu:8000/v1")
    monkeypatch.setenv("TOOLSIM_SIMULATOR__TIMEOUT", "90")
    monkeypatch.setenv("TOOLSIM_AGENT__MODEL", "qwen")
    monkeypatch.setenv("TOOLSIM_AGENT__CONCURRENCY", "8")
    monkeypatch.setenv("TOOLSIM_JUDGE__LEARNED_MODEL", "/models/judge")

    settings = Settings()

    assert settings.simulator.backend == "openai"
    assert settings.simulator.base_url == "http://gpu:8000/v1"
    assert settings.simulator.timeout == 90
    assert (settings.agent.model, settings.agent.concurrency) == ("qwen", 8)
    assert settings.judge.learned_model == Path("/models/judge")
    assert settings.judge.backend == "auto" and settings.agent.timeout == 300


def test_the_old_flat_variables_still_work(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TOOLSIM_SIMULATOR", "schema")
    monkeypatch.setenv("TOOLSIM_LLM_BASE_URL", "http://old:8000/v1")
    monkeypatch.setenv("TOOLSIM_LLM_LENIENT_JSON", "true")
    monkeypatch.setenv("TOOLSIM_AGENT_BASE_URL", "http://agent/v1")
    monkeypatch.setenv("TOOLSIM_JUDGE_BACKEND", "learned")

    settings = Settings()

    assert settings.simulator.backend == "schema"
    assert settings.simulator.base_url == "http://old:8000/v1"
    assert settings.simulator.lenient_json is True
    assert settings.agent.base_url == "http://agent/v1"
    assert settings.judge.backend == "learned"


def test_the_nested_name_wins_over_the_old_one(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TOOLSIM_SIMULATOR", "schema")
    monkeypatch.setenv("TOOLSIM_SIMULATOR__BACKEND", "openai")
    monkeypatch.setenv("TOOLSIM_LLM_MODEL", "old")
    monkeypatch.setenv("TOOLSIM_SIMULATOR__MODEL", "new")
    monkeypatch.setenv("TOOLSIM_SIMULATOR__SEED", "7")  # mixed with an old name: both apply
    monkeypatch.setenv("TOOLSIM_LLM_MAX_TOKENS", "99")

    simulator = Settings().simulator

    assert (simulator.backend, simulator.model) == ("openai", "new")
    assert (simulator.seed, simulator.max_tokens) == (7, 99)


def test_keywords_take_either_shape_and_override_the_environment(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("TOOLSIM_SIMULATOR__BASE_URL", "http://env/v1")
    monkeypatch.setenv("TOOLSIM_SIMULATOR__MODEL", "from-env")

    flat = Settings(simulator="openai", llm_model="flat", judge_backend="learned")
    nested = Settings(simulator={"backend": "openai", "model": "nested"}, agent={"timeout": 5})

    assert (flat.simulator.backend, flat.simulator.model) == ("openai", "flat")
    assert flat.simulator.base_url == "http://env/v1"  # what the keywords leave alone
    assert flat.judge.backend == "learned"
    assert (nested.simulator.model, nested.agent.timeout) == ("nested", 5)


def test_bad_values_and_unknown_role_settings_are_errors(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ValidationError, match="concurrency"):
        Settings(agent={"concurrency": 0})
    with pytest.raises(ValidationError, match="modle"):
        Settings(agent={"modle": "typo"})
    monkeypatch.setenv("TOOLSIM_LLM_TIMEOUT", "-1")
    with pytest.raises(ValidationError, match="timeout"):
        Settings()


def test_the_request_timeout_must_exceed_the_simulators():
    assert Settings(simulator={"timeout": 400}).request_timeout == 430
    with pytest.raises(ValidationError, match="simulation budget of 400 s"):
        Settings(llm_timeout=400, request_timeout=300)


def test_every_variable_is_listed_once_with_its_legacy_spelling():
    current = environment_variables()
    legacy = legacy_environment_variables()
    assert "TOOLSIM_SIMULATOR__BASE_URL" in current and "TOOLSIM_HOME" in current
    assert "TOOLSIM_SIMULATOR" not in current and "TOOLSIM_LLM_BASE_URL" not in current
    assert legacy["TOOLSIM_LLM_BASE_URL"] == "TOOLSIM_SIMULATOR__BASE_URL"
    assert legacy["TOOLSIM_SIMULATOR"] == "TOOLSIM_SIMULATOR__BACKEND"
    assert legacy["TOOLSIM_JUDGE_LEARNED_MODEL"] == "TOOLSIM_JUDGE__LEARNED_MODEL"
    assert set(legacy.values()) <= set(current)
    assert len(legacy) == len(LEGACY_NAMES)


def test_auto_chat_backend_is_openai_with_a_base_url_else_local():
    assert chat_backend(AgentSettings()) == "local"
    assert chat_backend(AgentSettings(base_url="http://x/v1")) == "openai"
    assert chat_backend(AgentSettings(backend="local", base_url="http://x/v1")) == "local"
    assert chat_backend(JudgeSettings(backend="fake")) == "fake"
