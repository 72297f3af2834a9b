"""Entity extraction, on made-up replies and on real reference replies in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolsim.fidelity.recorded import read_recorded
from toolsim.world.extract import extract, is_id_field, type_from_api


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("id", True),
        ("_id", True),
        ("uuid", True),
        ("hotel_id", True),
        ("movieId", True),
        ("channelID", True),
        ("Phone-Id", True),
        ("symbol", True),
        ("slug", True),
        ("paid", False),
        ("valid", False),
        ("android", False),
        ("name", False),
        ("idea", False),
    ],
)
def test_identifier_field_names(name: str, expected: bool) -> None:
    assert is_id_field(name) is expected


def test_types_from_api_names() -> None:
    assert type_from_api("getRecipeDetails") == "recipe"
    assert type_from_api("Hotel Details") == "hotel"
    assert type_from_api("Search Movies") == "movie"
    assert type_from_api("Company Profile") == "company"


def test_nested_lists_ids_of_both_kinds_and_the_subject_of_a_call() -> None:
    reply = {
        "city": "Lisbon",
        "page": 1,
        "hotels": [
            {"id": "h1", "name": "Casa", "stars": 4, "rooms": [{"room_id": 7, "beds": 2}]},
            {"id": 12, "name": "Mar", "owner_id": "u9", "flag": True},
        ],
    }
    found = {entity.id: entity for entity in extract(reply, {"city": "Lisbon"}, "Search Hotels")}
    assert set(found) == {"h1", "12", "7"}
    assert found["h1"].type == "hotel" and found["h1"].path == "response.hotels[0]"
    # Items inherit the search's context, not its paging fields.
    assert found["h1"].facts == {"name": "Casa", "stars": 4, "city": "Lisbon"}
    assert found["12"].raw_id == 12 and found["12"].refs == [("owner_id", "u9")]
    assert found["7"].type == "room" and found["7"].facts == {"beds": 2}
    # A details reply without its own id is the entity its argument names.
    [subject] = extract({"name": "Casa", "stars": 4}, {"hotel_id": "h1"}, "Hotel Details")
    assert (subject.id, subject.id_field, subject.facts) == (
        "h1",
        "hotel_id",
        {"name": "Casa", "stars": 4},
    )


def test_no_entity_without_an_identifier() -> None:
    assert extract([{"name": "pinterest.com", "score": 0.1}], {"q": "x"}, "popular") == []
    assert extract("plain text about hotel 42", {"hotel_id": "42"}, "Hotel Details") == []
    assert extract({"code": 200, "message": "ok"}, {}, "ping") == []  # a numeric code is no key
    assert (
        extract({"title": "str"}, {"a": 1, "b_id": 2, "c_id": 3}, "x") == []
    )  # two ids: no subject


def test_json_text_cut_short_is_read_up_to_its_last_complete_value() -> None:
    text = '{"results": [{"id": "a", "title": "One"}, {"id": "b", "title": "Tw'
    first, second = extract(text, {}, "search")
    assert (first.id, first.facts) == ("a", {"title": "One"})
    assert (second.id, second.facts) == ("b", {})  # the cut title is not a fact


def _by_function(paths: list[Path]) -> dict[str, list]:
    by_function: dict[str, list] = {}
    for call in read_recorded(paths).calls.values():
        by_function.setdefault(call.function, []).append(call)
    return by_function


@pytest.fixture
def reference_calls(shared_data: Path) -> dict[str, list]:
    """Recorded calls of the reference's converted DFS answers and one judge-label file."""
    return _by_function(
        [
            shared_data
            / "stabletoolbench"
            / "data_example"
            / "model_predictions_converted"
            / "virtual_chatgpt_dfs",
            shared_data / "judge-labels" / "baseline-archer_cot" / "G1_category.json",
        ]
    )


def _entities(call) -> list:
    return extract(call.reply.response, call.arguments, call.function.rpartition("_for_")[0])


def test_real_replies_nested_lists_with_string_ids(reference_calls: dict[str, list]) -> None:
    [call] = [
        c
        for c in reference_calls["list_artist_concerts_for_theclique"]
        if c.arguments == {"id_artist": "28003"}
    ]
    found = {entity.id: entity for entity in _entities(call)}
    assert found["28003"].id_field == "artist_id"  # the top-level object
    concerts = [entity for entity in found.values() if entity.type == "concert"]
    assert len(concerts) >= 3
    assert all(entity.path.startswith("response.concerts[") for entity in concerts)
    assert all(isinstance(entity.raw_id, str) and "venue" in entity.facts for entity in concerts)


def test_real_replies_with_references_between_entities(reference_calls: dict[str, list]) -> None:
    calls = reference_calls["get_channel_clips_for_kick_com_api_kick_api"]
    clips = [entity for call in calls for entity in _entities(call) if entity.type == "clip"]
    assert clips
    assert all(("broadcaster_id", "106415781") in clip.refs for clip in clips)
    # A reference is a fact of its holder too: a clip's broadcaster must agree everywhere.
    assert all(str(clip.facts["broadcaster_id"]) == "106415781" for clip in clips)


def test_real_replies_with_numeric_ids(reference_calls: dict[str, list]) -> None:
    calls = reference_calls["get_quote_by_year_for_movie_and_tv_shows_quotes"]
    entities = [entity for call in calls for entity in _entities(call)]
    numeric = [entity for entity in entities if isinstance(entity.raw_id, int)]
    assert numeric and all(entity.id == str(entity.raw_id) for entity in numeric)
    assert all(entity.path.startswith("response[") for entity in numeric)  # a top-level list


def test_real_replies_without_any_identifier(reference_calls: dict[str, list]) -> None:
    calls = reference_calls["popularsitesforquery_for_keyword_analysis"]
    assert calls and all(isinstance(call.reply.response, list | str) for call in calls)
    assert all(_entities(call) == [] for call in calls)
    texts = reference_calls["querykeywords_for_keyword_analysis"]
    assert all(_entities(call) == [] for call in texts)


@pytest.mark.slow
def test_every_real_reply_is_scanned_without_error(shared_data: Path) -> None:
    every = _by_function([shared_data / "judge-labels", shared_data / "stabletoolbench"])
    total = sum(len(calls) for calls in every.values())
    entities = sum(len(_entities(call)) for calls in every.values() for call in calls)
    assert total > 2000 and entities > 1000
