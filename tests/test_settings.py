"""Settings in nested groups, with the older flat names still read, each with a warning."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest
from pydantic import ValidationError

import toolsim.settings
from toolsim.settings import (
    LEGACY_NAMES,
    LEGACY_REMOVED_IN,
    AgentSettings,
    JudgeSettings,
    Settings,
    SimulatorSettings,
    chat_backend,
    environment_variables,
    legacy_environment_variables,
)


@pytest.fixture(autouse=True)
def _warn_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: no legacy name warned about yet."""
    monkeypatch.setattr(toolsim.settings, "_warned", set())


def _warned(record: pytest.WarningsRecorder) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, FutureWarning)]


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


def test_every_group_reads_its_nested_variables(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TOOLSIM_SERVER__PORT", "9001")
    monkeypatch.setenv("TOOLSIM_SERVER__MEMORY_ENTRIES", "0")
    monkeypatch.setenv("TOOLSIM_CACHE__URL", "memory://")
    monkeypatch.setenv("TOOLSIM_CACHE__MODE", "replay")
    monkeypatch.setenv("TOOLSIM_UPSTREAM__TIMEOUT", "7")
    monkeypatch.setenv("TOOLSIM_RETRY__RETRIES", "1")
    monkeypatch.setenv("TOOLSIM_LOCAL__THREADS", "3")
    monkeypatch.setenv("TOOLSIM_SIMULATOR__EXAMPLES", "2")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no legacy name used: no warning
        settings = Settings()

    assert (settings.server.port, settings.server.memory_entries) == (9001, 0)
    assert (settings.cache.url, settings.cache.mode.value) == ("memory://", "replay")
    assert (settings.upstream.timeout, settings.retry.retries) == (7, 1)
    assert (settings.local.threads, settings.simulator.examples) == (3, 2)


def test_the_old_flat_variables_still_work_and_warn_once(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TOOLSIM_SIMULATOR", "schema")
    monkeypatch.setenv("TOOLSIM_LLM_BASE_URL", "http://old:8000/v1")
    monkeypatch.setenv("TOOLSIM_LLM_LENIENT_JSON", "true")
    monkeypatch.setenv("TOOLSIM_AGENT_BASE_URL", "http://agent/v1")
    monkeypatch.setenv("TOOLSIM_JUDGE_BACKEND", "learned")
    monkeypatch.setenv("TOOLSIM_CACHE_URL", "memory://")
    monkeypatch.setenv("TOOLSIM_PORT", "9002")
    monkeypatch.setenv("TOOLSIM_MODEL_RETRIES", "2")

    with pytest.warns(FutureWarning) as record:
        settings = Settings()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Settings()  # once per process: no second warning

    said = _warned(record)
    assert len(said) == 8
    cache_url = (
        f"TOOLSIM_CACHE_URL is deprecated and will be removed in toolsim {LEGACY_REMOVED_IN}; "
        "use TOOLSIM_CACHE__URL"
    )
    assert cache_url in said
    assert any(m.startswith("TOOLSIM_PORT ") and m.endswith("TOOLSIM_SERVER__PORT") for m in said)
    assert (settings.cache.url, settings.server.port, settings.retry.retries) == (
        "memory://",
        9002,
        2,
    )
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

    with pytest.warns(FutureWarning):
        simulator = Settings().simulator

    assert (simulator.backend, simulator.model) == ("openai", "new")
    assert (simulator.seed, simulator.max_tokens) == (7, 99)


def test_keywords_take_either_shape_and_override_the_environment(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("TOOLSIM_SIMULATOR__BASE_URL", "http://env/v1")
    monkeypatch.setenv("TOOLSIM_SIMULATOR__MODEL", "from-env")

    with pytest.warns(FutureWarning) as record:
        flat = Settings(simulator="openai", llm_model="flat", judge_backend="learned")
    nested = Settings(simulator={"backend": "openai", "model": "nested"}, agent={"timeout": 5})

    assert any(
        m.startswith("llm_model is deprecated") and m.endswith("simulator.model")
        for m in _warned(record)
    )
    assert (flat.simulator.backend, flat.simulator.model) == ("openai", "flat")
    assert flat.simulator.base_url == "http://env/v1"  # what the keywords leave alone
    assert flat.judge.backend == "learned"
    assert (nested.simulator.model, nested.agent.timeout) == ("nested", 5)


def test_bad_values_and_unknown_role_settings_are_errors(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ValidationError, match="concurrency"):
        Settings(agent={"concurrency": 0})
    with pytest.raises(ValidationError, match="modle"):
        Settings(agent={"modle": "typo"})
    monkeypatch.setenv("TOOLSIM_SIMULATOR__TIMEOUT", "-1")
    with pytest.raises(ValidationError, match="timeout"):
        Settings()


def test_the_request_timeout_must_exceed_the_simulators():
    assert Settings().request_time_limit() == 300
    assert Settings(simulator={"timeout": 400}).request_time_limit() == 430
    with pytest.raises(ValidationError, match="simulation budget of 400 s"):
        Settings(simulator={"timeout": 400}, server={"request_timeout": 300})
    relayed = Settings(simulator={"timeout": 400}, upstream={"url": "http://relay", "timeout": 50})
    assert relayed.request_time_limit() == 480


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


def test_only_the_cli_and_the_app_factory_build_settings_from_the_environment():
    package = Path(toolsim.settings.__file__).parent
    allowed = {package / "server" / "app.py"}
    found = []
    for path in sorted(package.rglob("*.py")):
        if package / "cli" in path.parents or path in allowed or path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = getattr(node, "func", None)
            if isinstance(node, ast.Call) and getattr(called, "id", None) == "Settings":
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    assert found == []
