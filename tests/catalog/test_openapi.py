"""OpenAPI 3.x documents and MCP listings as catalogs: the real Petstore document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import free_port, serving

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
        method="GET",
        path="/pet/{petId}",
        server="https://petstore3.swagger.io/api/v3",
        security=api.origin.security,  # see test_each_operation_keeps_its_security_requirement
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


# Documents read from a URL: the real path (``--tools https?://...``), against a local server.


@pytest.fixture(scope="module")
def document_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real HTTP server of documents: the Petstore, and things that are not OpenAPI."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    secret = tmp_path_factory.mktemp("local") / "secret.json"
    secret.write_text(json.dumps({"type": "object", "properties": {"password": {}}}))
    snooping = yaml.safe_load(PETSTORE.read_text())
    pet = snooping["components"]["schemas"]["Pet"]
    pet["properties"]["category"] = {"$ref": secret.as_uri()}
    pages = {
        "/docs/openapi.yaml": PlainTextResponse(PETSTORE.read_text()),
        "/docs/snooping.json": JSONResponse(snooping),
        "/index.html": HTMLResponse("<html><body><h1>Welcome</h1></body></html>"),
        "/queries.json": JSONResponse([{"query": "not a spec"}]),
        "/broken.yaml": PlainTextResponse("openapi: [unclosed\n"),
    }

    async def page(request: Any) -> Response:
        return pages.get(request.url.path) or PlainTextResponse("no such page", status_code=404)

    app = Starlette(routes=[Route("/{path:path}", page)])
    with serving(app) as base:
        yield base


def test_a_document_url_loads_and_serves_like_the_file(document_server: str, petstore: Catalog):
    from toolsim.server import create_app
    from toolsim.settings import Settings

    url = f"{document_server}/docs/openapi.yaml"
    app = create_app(
        Settings(tools=[url], simulator={"backend": "schema"}, cache={"url": "memory://"})
    )
    catalog = app.state.service.catalog
    assert sorted(a.function_name for a in catalog) == sorted(a.function_name for a in petstore)
    assert catalog.resolve("OpenAPI", TOOL, "getPetById").parameters == (
        petstore.resolve("OpenAPI", TOOL, "getPetById").parameters
    )
    # The document's absolute server URL stays; a relative one would be read against the URL.
    assert {a.origin.server for a in catalog if a.origin} == {"https://petstore3.swagger.io/api/v3"}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/index.html", r"/index.html is not an OpenAPI document \(plain text or a scalar"),
        ("/queries.json", r"/queries.json is not an OpenAPI document \(a list, not an object\)"),
        ("/broken.yaml", r"OpenAPI document http://127.0.0.1:\d+/broken.yaml is not valid YAML"),
        ("/gone.yaml", r"cannot fetch the OpenAPI document http://\S+/gone.yaml: HTTP 404"),
    ],
)
def test_a_url_that_holds_no_openapi_document_is_a_clear_error(
    document_server: str, path: str, message: str
):
    with pytest.raises(UserError, match=message):
        Catalog.from_paths([document_server + path])


def test_an_unreachable_url_is_a_clear_error_without_its_credentials():
    port = free_port()  # nothing listens there
    url = f"http://user:pa55@127.0.0.1:{port}/openapi.json?token=t0ken"
    with pytest.raises(UserError) as caught:
        Catalog.from_paths([url])
    message = str(caught.value)
    assert message.startswith(
        f"cannot fetch the OpenAPI document http://127.0.0.1:{port}/openapi.json: ConnectError"
    )
    assert "pa55" not in message and "t0ken" not in message


def test_the_tools_flag_reports_an_unreachable_url(tmp_path: Path):
    from typer.testing import CliRunner

    from toolsim.cli import app

    url = f"http://127.0.0.1:{free_port()}/openapi.yaml"
    result = CliRunner().invoke(app, ["serve", "--tools", url, "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert f"cannot fetch the OpenAPI document {url}" in result.output
    assert "Traceback" not in result.output


def test_a_document_from_a_url_cannot_make_toolsim_read_a_local_file(document_server: str):
    with pytest.raises(UserError, match=r"refers to file:///.*secret.json, which toolsim does not"):
        Catalog.from_paths([f"{document_server}/docs/snooping.json"])


def test_a_document_file_may_refer_to_other_files(tmp_path: Path):
    (tmp_path / "schemas.yaml").write_text(
        "Pet: {type: object, properties: {name: {type: string}}}\n"
    )
    document = yaml.safe_load(PETSTORE.read_text())
    ok = document["paths"]["/pet/{petId}"]["get"]["responses"]["200"]["content"]
    ok["application/json"]["schema"] = {"$ref": "schemas.yaml#/Pet"}
    (tmp_path / "split.yaml").write_text(yaml.safe_dump(document))
    catalog = Catalog.from_paths([tmp_path / "split.yaml"])
    assert catalog.resolve("OpenAPI", TOOL, "getPetById").template_response == {"name": "str"}


def test_a_missing_or_binary_document_file_is_an_error_naming_it(tmp_path: Path):
    with pytest.raises(UserError, match=r"cannot read the OpenAPI document .*absent.yaml"):
        Catalog.from_paths([tmp_path / "absent.yaml"])
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00openapi")
    with pytest.raises(UserError, match=r"OpenAPI document .*binary.yaml is not UTF-8 text"):
        Catalog.from_paths([binary])


def test_an_mcp_schema_never_makes_toolsim_read_another_document(tmp_path: Path):
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"type": "object", "properties": {"password": {}}}))
    listed = ListedServer(
        source="mcp:python server.py",
        name="notes",
        tools=(
            {
                "name": "peek",
                "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}},
                "outputSchema": {"$ref": secret.as_uri()},
            },
        ),
    )
    (api,) = tool_from_mcp(listed).apis
    assert "password" not in json.dumps(api.template_response)


def test_each_operation_keeps_its_security_requirement(petstore: Catalog):
    from toolsim.catalog.models import SecurityScheme

    key = SecurityScheme("api_key", "apiKey", location="header", parameter="api_key")
    oauth = SecurityScheme("petstore_auth", "oauth2")
    pet = petstore.resolve("OpenAPI", TOOL, "getPetById").origin
    assert pet is not None and pet.security == ((key,), (oauth,))
    inventory = petstore.resolve("OpenAPI", TOOL, "getInventory").origin
    assert inventory is not None and inventory.security == ((key,),)
    # An operation that asks for nothing (and the document sets no default) needs none.
    order = petstore.resolve("OpenAPI", TOOL, "placeOrder").origin
    assert order is not None and order.security == ()


def test_an_mcp_source_is_shown_without_what_may_be_secrets():
    from toolsim.catalog.mcp import shown_server

    assert shown_server("mcp:python server.py --token abc") == "python server.py"
    assert shown_server("mcp:notes-server --api-key abc") == "notes-server"
    assert shown_server("mcp:https://u:p@mcp.example:8443/mcp?key=abc") == (
        "https://mcp.example:8443/mcp"
    )
    with pytest.raises(UserError, match=r"^the MCP server python server.py was not listed"):
        Catalog.from_paths(["mcp:python server.py --token abc"])
