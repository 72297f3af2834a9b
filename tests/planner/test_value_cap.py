"""BTP's value and cap formulas on a hand-made experience store with known answers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from toolsim.errors import UserError
from toolsim.planner.experience import Experience, ExperienceStore
from toolsim.planner.value import Use, estimate

E1 = math.exp(-1.0)  # the weight of a past query orthogonal to the new one (cos 0)


class AxisEmbedder:
    """Texts named after an axis embed onto it: "x" -> (1, 0), "y" -> (0, 1), "xy" -> diagonal."""

    name = "axes"
    dim = 2

    def embed(self, texts):
        table = {"x": [1.0, 0.0], "y": [0.0, 1.0], "xy": [math.sqrt(0.5), math.sqrt(0.5)]}
        return np.asarray([table[text] for text in texts], dtype=np.float32)


def store() -> ExperienceStore:
    made = ExperienceStore(embedder="axes", dim=2)
    made.add_query("past/x", "x", [1.0, 0.0])
    made.add_query("past/y", "y", [0.0, 1.0])
    # helpful_api: called 3 times helpfully by the x query, 1 time unhelpfully by the y query.
    made.add_use("helpful_api", "past/x", 3, True)
    made.add_use("helpful_api", "past/y", 1, False)
    # flaky: called 5 times unhelpfully by x and 1 time helpfully by y.
    made.add_use("flaky", "past/x", 5, False)
    made.add_use("flaky", "past/y", 1, True)
    # useless: one unhelpful use by x.
    made.add_use("useless", "past/x", 4, False)
    return made


def test_values_and_caps_for_a_query_like_x() -> None:
    past = Experience(store(), AxisEmbedder())
    got = past.estimates("x", ["helpful_api", "flaky", "useless", "unseen"])
    # helpful_api: weights 1 (x, helpful, 3 calls) and e^-1 (y, unhelpful, 1 call).
    assert got["helpful_api"].value == pytest.approx((1 + 0.1) / (1 + E1 + 1))
    assert got["helpful_api"].cap == round((3 + E1 * 1) / (1 + E1))  # = 2
    assert got["helpful_api"].cap == 2
    # flaky: the x use was unhelpful, so its 5 calls count once: cap round((1 + e^-1)/(1 + e^-1)).
    assert got["flaky"].value == pytest.approx((E1 + 0.1) / (1 + E1 + 1))
    assert got["flaky"].value > 0.15
    assert got["flaky"].cap == 1
    # useless: (0 + 0.1) / (1 + 1) = 0.05, below the threshold: cap 0.
    assert got["useless"].value == pytest.approx(0.05)
    assert got["useless"].cap == 0
    # unseen: value 0.1, cap 1.
    assert (got["unseen"].value, got["unseen"].cap, got["unseen"].uses) == (0.1, 1, 0)


def test_weights_follow_the_cosine() -> None:
    past = Experience(store(), AxisEmbedder())
    weights = past.weights("xy")
    expected = math.exp(math.sqrt(0.5) - 1)
    assert weights == pytest.approx({"past/x": expected, "past/y": expected})
    assert past.weights("y") == pytest.approx({"past/x": E1, "past/y": 1.0})


def test_estimate_edge_cases() -> None:
    # Around the threshold: (w + 0.1) / (w + 1) < 0.15 exactly when w < 0.05 / 0.85.
    above = estimate([Use(0.06, 2, True)])
    assert above.value == pytest.approx(0.16 / 1.06)
    assert above.cap == 2
    below = estimate([Use(0.058, 2, True)])
    assert below.value < 0.15 and below.cap == 0
    # Python's round: 1.5 -> 2 and 2.5 -> 2.
    assert estimate([Use(1, 1, True), Use(1, 2, True)]).cap == 2
    assert estimate([Use(1, 2, True), Use(1, 3, True)]).cap == 2
    # Unhelpful uses count once in the cap even when called many times.
    assert estimate([Use(1, 3, True), Use(1, 5, False)]).cap == 2  # (3 + 1) / 2, not (3 + 5) / 2
    # Diminishing marginals: 2 of 2 uses made >= 1 call, 1 of 2 made >= 2 and >= 3.
    mixed = estimate([Use(1, 3, True), Use(1, 1, True)])
    assert mixed.marginals == pytest.approx([mixed.value, mixed.value / 2, mixed.value / 2])


def test_store_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "exp.json"
    store().save(path)
    loaded = ExperienceStore.load(path)
    assert loaded.texts == store().texts
    assert loaded.apis == store().apis
    assert np.allclose(loaded.vectors["past/y"], [0.0, 1.0])

    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UserError, match=r"bad.json is not valid JSON"):
        ExperienceStore.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"kind": "something else"}')
    with pytest.raises(UserError, match=r"other.json is malformed: not a toolsim experience"):
        ExperienceStore.load(tmp_path / "other.json")
    with pytest.raises(UserError, match="cannot read the experience file"):
        ExperienceStore.load(tmp_path / "missing.json")


def test_stores_of_different_embedders_do_not_mix() -> None:
    hashed = ExperienceStore(embedder="hashed", dim=2)
    with pytest.raises(UserError, match="embedded by hashed .* this store by axes"):
        store().merge(hashed, "hashed.json")


def test_merge_replaces_queries_with_the_same_key() -> None:
    merged = store()
    newer = ExperienceStore(embedder="axes", dim=2)
    newer.add_query("past/x", "x", [1.0, 0.0])
    newer.add_use("other", "past/x", 1, True)
    merged.merge(newer)
    assert [use.query for use in merged.apis["helpful_api"]] == ["past/y"]
    assert "useless" not in merged.apis  # its only use came from the replaced query
    assert merged.apis["other"][0].calls == 1


def test_an_unavailable_embedder_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "exp.json"
    store().save(path)  # embedded by "axes", which is not registered
    with pytest.raises(UserError, match="unknown embedder 'axes'; available: .*hashed"):
        Experience.from_file(path)
