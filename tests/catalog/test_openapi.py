"""OpenAPI 3.x documents and MCP listings as catalogs: the real Petstore document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from toolsim.catalog import Catalog, ParamType
from toolsim.catalog.mcp import ListedServer, tool_from_mcp
from toolsim.catalog.models import HttpOperation, McpTool
from toolsim.catalog.tool_schemas import function_schema
from toolsim.errors import InvalidArguments, UserError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PETSTORE = EXAMPLES / "petstore" / "openapi.yaml"
TOOL = "Swagger Petstore - OpenAPI 3.0"


@pytest.fixture(scope="module")
def petstore() -> Catalog:
    return Catalog.from_paths([PETSTORE])


def test_every_operation_of_the_petstore_is_an_api(petstore: Catalog):
    document = yaml.safe_load(PETSTORE.read_text())
    operations = {
        op["operationId"]
        for item in document["paths"].values()
        for method, op in item.items()
        if method in ("get", "put", "post", "delete", "patch")
    }
    assert len(operations) == 19
    assert {api.name for api in petstore} == operations
    assert {api.tool_name for api in petstore} == {TOOL}
    api = petstore.resolve("OpenAPI", TOOL, "getPetById")
    assert api.function_name == "getpetbyid_for_swagger_petstore_openapi_3_0"
    assert api.description == "Find pet by ID. Returns a single pet."
    assert api.origin == HttpOperation(
        method="GET", path="/pet/{petId}", server="https://petstore3.swagger.io/api/v3"
    )


def test_parameters_keep_types_locations_enums_and_required_flags(petstore: Catalog):
    by_id = petstore.resolve("OpenAPI", TOOL, "getPetById").parameters
    assert [(p.name, p.type, p.required, p.location) for p in by_id] == [
        ("petId", ParamType.NUMBER, True, "path")
    ]
    (status,) = petstore.resolve("OpenAPI", TOOL, "findPetsByStatus").parameters
    assert (status.type, status.location, status.required) == (ParamType.ENUM, "query", False)
    assert status.enum == ("available", "pending", "sold")
    assert status.default == "available"
    delete = {p.name: p for p in petstore.resolve("OpenAPI", TOOL, "deletePet").parameters}
    assert delete["api_key"].location == "header"


def test_an_object_body_becomes_one_parameter_per_property(petstore: Catalog):
    add = petstore.resolve("OpenAPI", TOOL, "addPet")
    params = {p.name: p for p in add.parameters}
    assert set(params) == {"id", "name", "category", "photoUrls", "tags", "status"}
    assert {n for n, p in params.items() if p.required} == {"name", "photoUrls"}
    assert {p.location for p in params.values()} == {"body"}
    # The referenced Category schema is resolved and shown, without its XML details.
    assert params["category"].schema == {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
        },
    }
    assert add.origin is not None and add.origin.body == "application/json"
    # A body that is not an object of properties is one parameter named "body".
    listed = petstore.resolve("OpenAPI", TOOL, "createUsersWithListInput")
    assert [(p.name, p.type) for p in listed.parameters] == [("body", ParamType.ARRAY)]
    assert listed.origin is not None and listed.origin.whole_body == "body"


def test_the_reply_template_comes_from_the_success_response_schema(petstore: Catalog):
    api = petstore.resolve("OpenAPI", TOOL, "getPetById")
    assert api.template_response == {
        "id": "int",
        "name": "str",
        "category": {"id": "int", "name": "str"},
        "photoUrls": ["str"],
        "tags": [{"id": "int", "name": "str"}],
        "status": "str",
    }
    assert petstore.resolve("OpenAPI", TOOL, "getInventory").template_response == {"key": "int"}
    assert petstore.resolve("OpenAPI", TOOL, "deletePet").template_response is None


def test_agents_are_shown_the_documents_own_schemas(petstore: Catalog):
    schema = function_schema(petstore.resolve("OpenAPI", TOOL, "findPetsByStatus"))
    assert schema["parameters"]["properties"]["status"] == {
        "type": "string",
        "enum": ["available", "pending", "sold"],
        "default": "available",
        "description": "Status values that need to be considered for filter",
    }
    assert schema["parameters"]["required"] == []


def test_values_outside_an_enum_are_refused(petstore: Catalog):
    api = petstore.resolve("OpenAPI", TOOL, "findPetsByStatus")
    assert api.signature.validated({"status": "sold"}, api.name, api.function_name).arguments
    with pytest.raises(InvalidArguments, match="must be one of 'available', 'pending', 'sold'"):
        api.signature.validated({"status": "gone"}, api.name, api.function_name)


def test_json_and_yaml_give_the_same_catalog(petstore: Catalog, tmp_path: Path):
    as_json = tmp_path / "petstore.json"
    as_json.write_text(json.dumps(yaml.safe_load(PETSTORE.read_text())))
    again = Catalog.from_paths([as_json])
    assert sorted(a.function_name for a in again) == sorted(a.function_name for a in petstore)
    assert list(again)[0] == list(petstore)[0]


def test_a_relative_server_url_is_resolved_against_a_document_url():
    from toolsim.catalog.openapi import tool_from_openapi

    document = yaml.safe_load(PETSTORE.read_text())
    document["servers"] = [{"url": "/api/v3"}]
    tool = tool_from_openapi(document, source="http://pets.example/docs/openapi.yaml")
    assert {a.origin.server for a in tool.apis if a.origin} == {"http://pets.example/api/v3"}


def test_a_broken_document_is_an_error_naming_the_file_and_the_place(tmp_path: Path):
    document = yaml.safe_load(PETSTORE.read_text())
    document["paths"]["/pet/{petId}"]["get"]["responses"] = "nothing"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document))
    with pytest.raises(UserError, match=r"broken.yaml is not a valid OpenAPI document: at paths"):
        Catalog.from_paths([broken])
    swagger = tmp_path / "old.yaml"
    swagger.write_text("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n")
    with pytest.raises(UserError, match="Swagger 2.0 document"):
        Catalog.from_paths([swagger])
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("openapi: [unclosed\n")
    with pytest.raises(UserError, match="garbage.yaml is not valid YAML or JSON"):
        Catalog.from_paths([garbage])


def test_an_mcp_listing_becomes_a_tool_with_resolved_schemas():
    listed = ListedServer(
        source="mcp:python server.py",
        name="notes",
        instructions="A notebook.",
        tools=(
            {
                "name": "search_notes",
                "description": "Find notes.",
                "inputSchema": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
                    "required": ["query"],
                },
                "outputSchema": {
                    "$defs": {
                        "Note": {"type": "object", "properties": {"id": {"type": "integer"}}}
                    },
                    "type": "object",
                    "properties": {"notes": {"type": "array", "items": {"$ref": "#/$defs/Note"}}},
                },
            },
        ),
    )
    tool = tool_from_mcp(listed)
    (api,) = tool.apis
    assert (tool.category, tool.name, api.function_name) == (
        "MCP",
        "notes",
        "search_notes_for_notes",
    )
    assert [(p.name, p.type, p.required) for p in api.parameters] == [
        ("query", ParamType.STRING, True),
        ("limit", ParamType.NUMBER, False),
    ]
    assert api.template_response == {"notes": [{"id": "int"}]}
    assert api.origin == McpTool(server="mcp:python server.py", tool="search_notes")


def test_an_mcp_source_that_was_not_listed_is_an_error():
    with pytest.raises(UserError, match="was not listed"):
        Catalog.from_paths(["mcp:python server.py"])
