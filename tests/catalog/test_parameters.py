"""The parameter model: StableToolBench's names for parameters, either spelling, duplicates."""

import pytest

from toolsim.catalog import Parameter, ParamNames, ParamType, Signature, stb_parameter_name
from toolsim.errors import InvalidArguments


@pytest.mark.parametrize(
    ("documented", "stb"),
    [
        ("ID", "is_id"),
        ("brandName", "brandname"),
        ("NUMBER", "number"),
        ("Phone-Id", "phone_id"),
        ("from", "is_from"),
        ("2fa code", "get_2fa_code"),
        ("array[]", "array"),
        ("q", "q"),
    ],
)
def test_stb_names_follow_the_reference_client(documented, stb):
    assert stb_parameter_name(documented) == stb


SIGNATURE = Signature(
    (
        Parameter("ID", ParamType.NUMBER, required=True),
        Parameter("id", ParamType.STRING),  # also 'is_id' for StableToolBench: a collision
        Parameter("brandName", ParamType.STRING, required=True),
        Parameter("when", ParamType.DATE),
    )
)


def test_either_spelling_binds_to_the_documented_name_and_type():
    bound = SIGNATURE.bind({"brandname": 5, "ID": "7"})

    assert bound.arguments == {"ID": 7, "brandName": "5"}
    assert bound.problems == ()
    assert bound.renamed == (("brandname", "brandName"),)
    assert SIGNATURE.lookup("brandname") is SIGNATURE.lookup("brandName")


def test_a_collision_is_listed_and_refused_but_documented_names_still_work():
    assert SIGNATURE.collisions == {"is_id": ("ID", "id")}
    with pytest.raises(InvalidArguments, match="'is_id' is ambiguous") as caught:
        SIGNATURE.validated({"is_id": 7, "brandName": "x"}, "Get", "get_for_t")
    assert caught.value.details["function"] == "get_for_t"
    assert SIGNATURE.bind({"ID": 7, "id": "a", "brandName": "x"}).problems == ()


def test_unknown_names_pass_through_and_problems_use_documented_names():
    bound = SIGNATURE.bind({"extra": [1], "brandName": "x", "when": "soon"})

    assert bound.arguments == {"brandName": "x", "extra": [1], "when": "soon"}
    assert bound.problems == (
        "parameter 'when' must be a date YYYY-MM-DD, got 'soon'",
        "missing required parameter 'ID', or 'is_id' (STRING)",
    )


def test_a_name_documented_twice_is_one_parameter_required_if_either_is():
    signature = Signature(
        (Parameter("id", ParamType.STRING), Parameter("id", ParamType.STRING, required=True))
    )

    assert [p.name for p in signature.parameters] == ["id"]
    assert signature.required[0].required
    assert signature.collisions == {}
    assert signature.canonical({"is_id": "x"}) == {"id": "x"}


def test_stb_presentation_mirrors_the_reference_client():
    assert [name for name, _ in SIGNATURE.presented(ParamNames.STB)] == [
        "is_id",
        "brandname",
        "when",
    ]
    # The later of two same-named parameters replaces the earlier, as in the reference.
    assert SIGNATURE.presented("stb")[0][1].name == "id"
    optional_only = Signature((Parameter("Page", ParamType.NUMBER),))
    assert optional_only.presented("stb") == []
    assert [name for name, _ in optional_only.presented("documented")] == ["Page"]
