"""What a run records about who answered its tool calls (``describe_simulator``)."""

from __future__ import annotations

from pathlib import Path

from toolsim.settings import Settings
from toolsim.simulator.factories import describe_simulator


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
