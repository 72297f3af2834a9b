"""What a run records about who answered its tool calls (``describe_simulator``)."""

from __future__ import annotations

from pathlib import Path

from toolsim.settings import Settings
from toolsim.simulator.factories import auto_simulator, describe_simulator


def test_the_offline_default_names_the_embedded_model_and_the_exemplars(tmp_path: Path) -> None:
    described = describe_simulator(Settings(home=tmp_path))
    assert described["backend"] == "auto"
    assert described["embedded"] is True
    assert "exemplars" in described
    assert len(described["prompt_hash"]) >= 8


def test_a_remote_model_is_named_without_its_credentials(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        simulator={"backend": "openai", "base_url": "http://user:s3cret@gpu-box:8000/v1"},
    )
    described = describe_simulator(settings)
    assert "s3cret" not in str(described)
    assert "gpu-box" in described["endpoint"]
    assert "exemplars" not in described  # only the auto chain adapts recorded replies


def test_a_simulator_without_a_model_is_named_alone(tmp_path: Path) -> None:
    assert describe_simulator(Settings(home=tmp_path, simulator={"backend": "schema"})) == {
        "backend": "schema"
    }


def test_a_remote_model_answers_misses_itself_in_the_auto_chain(tmp_path: Path) -> None:
    """As StableToolBench's server does: recorded replies are its examples, not its answers."""
    remote = Settings(home=tmp_path, simulator={"base_url": "http://gpu-box:8000/v1"})
    offline = Settings(home=tmp_path)
    assert auto_simulator(settings=remote).exemplar is None
    assert auto_simulator(settings=offline).exemplar is not None
    remote_described = describe_simulator(remote)
    assert "exemplars" not in remote_described and remote_described["backend"] == "auto"
