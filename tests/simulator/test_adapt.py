"""Adapting a recorded reply to another call: what follows the call, what is kept."""

from __future__ import annotations

import json

from toolsim.simulator.adapt import adapt_response, minted

KEY = "k" * 64


def test_echoed_values_follow_the_new_call_in_leaves_text_and_links() -> None:
    recorded = {
        "city": "Lisbon",
        "summary": "Sunny in Lisbon today; LISBON airport open",
        "link": "https://x/weather/lisbon",
        "temperature": 19.4,
    }
    adapted, changes = adapt_response(recorded, {"city": "Lisbon"}, {"city": "new york"}, KEY)
    assert adapted == {
        "city": "new york",
        "summary": "Sunny in New york today; NEW YORK airport open",
        "link": "https://x/weather/new york",
        "temperature": 19.4,
    }
    assert changes == 3  # three leaves changed


def test_nothing_to_change_gives_the_recorded_reply_itself() -> None:
    recorded = {"city": "Oslo", "temperature": 3.5}
    adapted, changes = adapt_response(recorded, {"city": "Oslo"}, {"city": "oslo"}, KEY)
    assert adapted is recorded and changes == 0


def test_numbers_keep_their_type_and_small_ones_change_only_in_their_own_field() -> None:
    recorded = {"id": 550, "title": "Fight Club", "page": 1, "votes": 1, "url": "https://x/m/550"}
    adapted, _ = adapt_response(
        recorded, {"movie_id": 550, "page": 1}, {"movie_id": "603", "page": 2}, KEY
    )
    assert adapted["id"] == 603 and adapted["url"] == "https://x/m/603"
    assert adapted["page"] == 2 and adapted["votes"] == 1  # 1 is no echo outside "page"


def test_a_part_the_new_call_lacks_is_dropped_rather_than_kept_wrong() -> None:
    recorded = {"city": "Lisbon", "country": "PT", "temperature": 19.4}
    adapted, _ = adapt_response(recorded, {"city": "Lisbon,PT"}, {"city": "Oslo"}, KEY)
    assert adapted == {"city": "Oslo", "temperature": 19.4}
    adapted, _ = adapt_response(recorded, {"city": "Lisbon,PT"}, {"city": "Oslo,NO"}, KEY)
    assert adapted == {"city": "Oslo", "country": "NO", "temperature": 19.4}


def test_a_field_named_like_a_parameter_the_recorded_call_left_out_follows_the_call() -> None:
    recorded = {"city": "Oslo", "units": "metric", "items": [{"units": "metric"}]}
    adapted, _ = adapt_response(
        recorded, {"city": "Oslo"}, {"city": "Oslo", "units": "imperial"}, KEY
    )
    assert adapted["units"] == "imperial"
    assert adapted["items"] == [{"units": "metric"}]  # never inside lists


def test_list_items_that_changed_are_new_things_with_new_ids_everywhere() -> None:
    recorded = {
        "hotels": [
            {"id": "TN-48213", "name": "Casa Lisbon", "stars": 4},
            {"id": "TN-51977", "name": "Alfama Rooms", "stars": 3},
        ],
        "first": "https://x/hotels/TN-48213",
    }
    adapted, _ = adapt_response(recorded, {"city": "Lisbon"}, {"city": "Porto"}, KEY)
    changed, kept = adapted["hotels"]
    assert changed["name"] == "Casa Porto" and changed["id"] != "TN-48213"
    assert changed["id"].startswith("TN-") and len(changed["id"]) == len("TN-48213")
    assert adapted["first"] == f"https://x/hotels/{changed['id']}"
    assert kept == recorded["hotels"][1]  # nothing in it echoed the city: the same hotel
    again, _ = adapt_response(recorded, {"city": "Lisbon"}, {"city": "Porto"}, KEY)
    assert again == adapted  # deterministic under the call's key


def test_the_reply_keeps_its_form_json_text_python_literal_and_prose() -> None:
    recorded = {"city": "Lisbon", "ok": True, "note": None}
    as_json, _ = adapt_response(json.dumps(recorded), {"city": "Lisbon"}, {"city": "Rome"}, KEY)
    assert json.loads(as_json) == {"city": "Rome", "ok": True, "note": None}
    as_literal, _ = adapt_response(repr(recorded), {"city": "Lisbon"}, {"city": "Rome"}, KEY)
    assert as_literal == repr({"city": "Rome", "ok": True, "note": None})
    prose, _ = adapt_response("It is 19 C in Lisbon.", {"city": "Lisbon"}, {"city": "Rome"}, KEY)
    assert prose == "It is 19 C in Rome."


def test_minted_ids_keep_their_shape() -> None:
    assert len(str(minted(48213, "s"))) == 5 and isinstance(minted(48213, "s"), int)
    new = minted("tt0113277", "s")
    assert new.startswith("tt") and new[2:].isdigit() and new != "tt0113277"
    uuid = minted("3f2a9c1e-77ab-4c1d-9e2f-0a1b2c3d4e5f", "s")
    assert [len(part) for part in uuid.split("-")] == [8, 4, 4, 4, 12]
    assert minted("abc", "s") == minted("abc", "s") != minted("abc", "t")
