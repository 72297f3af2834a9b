"""Prompt templates: what a rendered prompt carries, and user overrides."""

from __future__ import annotations

import pytest

from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.catalog.models import ApiSpec, Parameter, ParamType
from toolsim.errors import UserError
from toolsim.settings import Settings
from toolsim.simulator import create_simulator
from toolsim.simulator.prompt import PLACEHOLDERS, PromptTemplates

API = ApiSpec(
    category="Travel",
    tool_name="TripNest Hotels",
    name="Search Hotels",
    description="Finds hotels with free rooms in a city for given dates.",
    method="POST",
    parameters=(
        Parameter("city", ParamType.STRING, "City to search in.", required=True, raw_type="STRING"),
        Parameter("guests", ParamType.NUMBER, "Number of guests.", default=2, raw_type="NUMBER"),
        Parameter("pets", ParamType.BOOLEAN, "", raw_type="BOOLEAN"),
    ),
    template_response={"hotels": [{"name": "str", "price": "float"}]},
    tool_description="Fictional hotel booking service with rooms worldwide.",
)


def _user(templates: PromptTemplates, arguments=None, examples=()) -> str:
    messages = templates.render(API, arguments or {"city": "Lisbon", "guests": 3}, examples)
    assert [m["role"] for m in messages] == ["system", "user"]
    return messages[1]["content"]


def test_rendering_carries_the_whole_call():
    text = _user(PromptTemplates.load())

    assert "TripNest Hotels" in text
    assert "Fictional hotel booking service with rooms worldwide." in text
    assert "Search Hotels (POST)" in text
    assert "Finds hotels with free rooms in a city for given dates." in text
    assert "- city (STRING, required): City to search in." in text
    assert "- guests (NUMBER, optional): Number of guests. [example: 2]" in text
    assert "- pets (BOOLEAN, optional)" in text
    assert '{"hotels":[{"name":"str","price":"float"}]}' in text
    assert '{"city":"Lisbon","guests":3}' in text


def test_missing_descriptions_and_template_are_said_so():
    bare = ApiSpec(category="Data", tool_name="Bare", name="ping")

    text = PromptTemplates.load().render(bare, {}, ())[1]["content"]

    assert "(none given)" in text
    assert "(none)" in text  # no parameters
    assert "(unknown)" in text  # no template


def test_examples_are_rendered_in_order():
    examples = tuple(
        CacheEntry(
            category="Travel",
            tool="tripnest_hotels",
            api="search_hotels",
            arguments={"city": city},
            reply=Reply(response={"hotels": [{"name": f"Hotel {city}", "price": 90.0}]}),
            source=Source.SIMULATED,
        )
        for city in ("Porto", "Faro")
    )

    text = _user(PromptTemplates.load(), examples=examples)

    assert text.index('{"city":"Porto"}') < text.index("Hotel Porto") < text.index("Hotel Faro")
    assert "Recorded replies" not in _user(PromptTemplates.load())


def test_override_replaces_the_user_template_and_the_hash(tmp_path):
    (tmp_path / "user.txt").write_text("CALL $function_name WITH $arguments", encoding="utf-8")
    builtin = PromptTemplates.load()

    custom = PromptTemplates.load(tmp_path)
    messages = custom.render(API, {"city": "Lisbon"}, ())

    assert messages[1]["content"] == 'CALL search_hotels_for_tripnest_hotels WITH {"city":"Lisbon"}'
    assert messages[0] == builtin.render(API, {"city": "Lisbon"}, ())[0]  # system kept
    assert custom.hash != builtin.hash
    assert PromptTemplates.load(tmp_path).hash == custom.hash  # stable


def test_empty_override_folder_keeps_the_builtin_prompt(tmp_path):
    assert PromptTemplates.load(tmp_path).hash == PromptTemplates.load().hash


def test_unknown_placeholder_lists_the_known_ones(tmp_path):
    (tmp_path / "user.txt").write_text("Answer $api_nmae now", encoding="utf-8")

    with pytest.raises(UserError) as caught:
        PromptTemplates.load(tmp_path).render(API, {}, ())

    assert "api_nmae" in caught.value.message
    assert all(name in caught.value.message for name in PLACEHOLDERS)


def test_missing_prompt_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        PromptTemplates.load(tmp_path / "nowhere")


async def test_settings_prompt_dir_reaches_the_simulator(tmp_path):
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "system.txt").write_text("You are $tool_name.", encoding="utf-8")
    settings = Settings(
        home=tmp_path, simulator={"base_url": "http://127.0.0.1:9/v1", "prompt_dir": folder}
    )

    simulator = create_simulator("openai", settings=settings)
    try:
        assert simulator.prompts.hash == PromptTemplates.load(folder).hash
        assert simulator.prompts.hash != PromptTemplates.load().hash
    finally:
        await simulator.aclose()


def test_known_entities_are_shown_only_when_there_are_some():
    from toolsim.simulator.base import KnownEntity

    plain = _user(PromptTemplates.load())
    assert "Known facts" not in plain
    hotel = KnownEntity("hotel", "id", "h1", {"name": "Casa", "stars": 4}, argument="hotel_id")
    messages = PromptTemplates.load().render(API, {"hotel_id": "h1"}, (), (hotel,))
    text = messages[1]["content"]
    assert "Known facts" in text
    assert '{"type":"hotel","id":"h1","facts":{"name":"Casa","stars":4}}' in text


def test_python_literal_and_json_placeholders_for_fine_tuned_simulators(tmp_path):
    (tmp_path / "user.txt").write_text(
        "$arguments_py | $template_py | $parameters_json | $api_doc_py | $known_json"
    )
    text = _user(PromptTemplates.load(tmp_path), {"city": "Lisbon", "pets": True})
    arguments, template, parameters, documentation, known = text.split(" | ")
    assert arguments == "{'city': 'Lisbon', 'pets': True}"
    assert template == "{'hotels': [{'name': 'str', 'price': 'float'}]}"
    assert '"name":"guests","type":"NUMBER"' in parameters and '"required":false' in parameters
    assert documentation.startswith("{'tool_name': 'TripNest Hotels', 'api_name': 'Search Hotels'")
    assert known == "[]"
    assert set(PLACEHOLDERS) >= {"arguments_py", "template_py", "api_doc_json", "known"}
