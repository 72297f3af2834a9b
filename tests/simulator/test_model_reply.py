"""Reply schemas for constrained decoding, and reading a model's output as a reply."""

from __future__ import annotations

import json

import pytest

from toolsim.cache.entry import Reply
from toolsim.errors import UpstreamError
from toolsim.simulator.model_reply import (
    MAX_CONSTRAINED_DEPTH,
    MAX_ERROR,
    MAX_ITEMS,
    MAX_STRING,
    MAX_TEXT,
    parse_reply,
    reply_schema,
    template_schema,
    type_name_value,
)


@pytest.mark.parametrize(
    ("leaf", "schema"),
    [
        ("str", {"type": "string", "maxLength": MAX_STRING}),
        ("int", {"type": "integer"}),
        ("float", {"type": "number"}),
        ("bool", {"type": "boolean"}),
        ("NoneType", {"type": "null"}),
        (" String ", {"type": "string", "maxLength": MAX_STRING}),
        ("a free-text note", {}),
        (12, {}),
    ],
)
def test_scalars(leaf, schema):
    assert template_schema(leaf) == schema


def test_nested_dicts_and_lists():
    template = {
        "count": "int",
        "results": [{"id": "str", "price": "float", "_list_length": 4}],
        "meta": {"url": "str", "tags": ["list of str with length 8"]},
        "empty": [],
    }

    schema = template_schema(template)

    assert schema["type"] == "object"
    assert schema["required"] == ["count", "results", "meta", "empty"]
    assert schema["properties"]["count"] == {"type": "integer"}
    results = schema["properties"]["results"]
    assert results["type"] == "array"
    assert results["maxItems"] == MAX_ITEMS
    assert results["items"] == {
        "type": "object",
        "properties": {
            "id": {"type": "string", "maxLength": MAX_STRING},
            "price": {"type": "number"},
        },
        "required": ["id", "price"],  # _list_length is not a field
    }
    tags = schema["properties"]["meta"]["properties"]["tags"]
    assert tags == {
        "type": "array",
        "items": {"type": "string", "maxLength": MAX_STRING},
        "maxItems": MAX_ITEMS,
    }
    assert schema["properties"]["empty"] == {"type": "array", "maxItems": MAX_ITEMS}


def test_list_of_ints_with_length():
    assert template_schema(["list of int with length 3"])["items"] == {"type": "integer"}


def test_deep_templates_are_unconstrained_below_the_limit():
    template: object = "str"
    for _ in range(MAX_CONSTRAINED_DEPTH + 3):
        template = {"inner": template}

    schema = template_schema(template)
    for _ in range(MAX_CONSTRAINED_DEPTH):
        schema = schema["properties"]["inner"]

    assert schema == {}


def test_reply_schema_requires_error_and_response():
    schema = reply_schema({"city": "str"})

    assert schema["required"] == ["error", "response"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["error"] == {"type": "string", "maxLength": MAX_ERROR}
    # The documented shape, or a string (how an API answers an invalid request).
    assert schema["properties"]["response"]["anyOf"] == [
        template_schema({"city": "str"}),
        {"type": "string", "maxLength": MAX_TEXT},
    ]


@pytest.mark.parametrize("template", [None, "", "plain text"])
def test_no_template_leaves_the_response_unconstrained(template):
    assert reply_schema(template)["properties"]["response"] == {}


def test_oversize_template_leaves_the_response_unconstrained():
    template = {f"field_number_{i}": {"value": "str", "unit": "str"} for i in range(200)}

    assert reply_schema(template)["properties"]["response"] == {}


@pytest.mark.parametrize(
    "text",
    [
        '{"error": "", "response": {"a": 1}}',
        '```json\n{"error": "", "response": {"a": 1}}\n```',
        '```\n{"error": "", "response": {"a": 1}}\n```',
        '  \n{"error": "", "response": {"a": 1}}  \n',
    ],
    ids=["plain", "json-fence", "bare-fence", "whitespace"],
)
def test_parse_accepts_json_objects_and_fences(text):
    assert parse_reply(text) == Reply(error="", response={"a": 1})


def test_parse_keeps_an_error_message():
    reply = parse_reply('{"error": "city not found", "response": ""}')

    assert reply == Reply(error="city not found", response="")


def test_parse_turns_null_error_into_empty():
    assert parse_reply('{"error": null, "response": [1, 2]}') == Reply(error="", response=[1, 2])


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        (None, "empty"),
        ("   ", "empty"),
        ("Sure! The weather is sunny.", "not JSON"),
        ('{"error": "", "response": ', "not JSON"),
        ('[{"error": "", "response": 1}]', "'error' and 'response'"),
        ('"just a string"', "'error' and 'response'"),
        ('{"response": {"a": 1}}', "'error' and 'response'"),
        ('{"error": ""}', "'error' and 'response'"),
        ('{"error": 404, "response": ""}', "not a string"),
        ('{"error": {"code": 1}, "response": ""}', "not a string"),
    ],
)
def test_parse_rejects_what_is_not_a_reply(text, cause):
    with pytest.raises(UpstreamError) as caught:
        parse_reply(text)

    assert cause in caught.value.message


def test_every_string_is_bounded_so_a_looping_model_still_ends_in_valid_json():
    schema = reply_schema({"name": "str", "items": [{"note": "str"}]})

    def strings(node):
        if isinstance(node, dict):
            if node.get("type") == "string":
                yield node
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)

    found = list(strings(schema))
    assert len(found) == 4  # error, name, note and the plain-text response
    assert all(isinstance(node.get("maxLength"), int) for node in found)


@pytest.mark.parametrize(
    "text",
    [
        'Here you go: {"error": "", "response": {"a": 1}} -- hope it helps',
        "{'error': '', 'response': {'a': 1}}",  # a Python literal
        '{"error": "", "response": {"a": 1,},}',  # trailing commas
        '```json\n{"a": 1}\n```',  # the response alone
        '{"error": "", "response": {"a": 1, "b": "cut sho',  # cut by the token limit
    ],
)
def test_lenient_parsing_takes_the_first_object_repaired(text):
    assert parse_reply(text, lenient=True).response == {"a": 1}
    with pytest.raises(UpstreamError):
        parse_reply(text)  # strict by default


@pytest.mark.parametrize(
    "response",
    [
        {"title": "str"},
        {"items": [{"n": "int"}]},
        "String",
        {"tags": "list of str with length 3"},
        {"id": "str.1", "address": "str_Lisbon", "n": "int-2"},
    ],
)
def test_type_names_as_values_are_rejected_then_filled_on_the_last_attempt(response):
    text = json.dumps({"error": "", "response": response})
    with pytest.raises(UpstreamError, match="type name"):
        parse_reply(text)
    filled = parse_reply(text, last=True)
    assert type_name_value(filled.response) is None
    assert parse_reply(text, last=True) == filled  # the same text, the same values


def test_words_that_only_begin_like_a_type_name_are_values():
    for value in ("Stranger Things", "Int'l Airport", "string quartet", "Strasbourg"):
        assert type_name_value({"title": value}) is None


def test_type_fields_may_name_types_and_errors_are_not_checked():
    assert parse_reply('{"error": "", "response": {"type": "string"}}').response == {
        "type": "string"
    }
    assert parse_reply('{"error": "bad", "response": "str"}').error == "bad"


def test_an_error_with_data_is_sampled_again_but_kept_on_the_last_attempt():
    text = '{"error": "Invalid tag", "response": {"id": 1}}'
    with pytest.raises(UpstreamError, match="both an error"):
        parse_reply(text)
    assert parse_reply(text, last=True).error == "Invalid tag"
