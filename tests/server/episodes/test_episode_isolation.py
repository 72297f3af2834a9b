"""Each episode sees the shared world plus its own changes, and no other episode's."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from episode_fixtures import CREATE, DELETE, GET, UPDATE, note_id

from toolsim.server.episodes import HEADER
from toolsim.server.episodes.overlay import CallKind, call_kind


async def _call(client: httpx.AsyncClient, episode: str, function: str, **arguments):
    reply = await client.post(f"/v1/tools/{function}", json=arguments, headers={HEADER: episode})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    response = body["response"]
    if isinstance(response, str) and response[:1] in ("{", "["):
        response = json.loads(response)
    return body["error"], response


async def _crud(client: httpx.AsyncClient, number: int) -> dict:
    """Create, read, update, read, delete and read the same note name as every other episode."""
    opened = await client.post("/v1/episodes", json={"query": "notes", "tools": ["Notes Hub"]})
    episode = opened.json()["episode_id"]
    seen: dict = {}
    _, created = await _call(client, episode, CREATE, title="groceries", body=f"eggs x{number}")
    seen["created"] = created
    _, seen["read"] = await _call(client, episode, GET, note_id=created["id"])
    await _call(client, episode, UPDATE, note_id=created["id"], body=f"milk x{number}")
    _, seen["updated"] = await _call(client, episode, GET, note_id=created["id"])
    await _call(client, episode, DELETE, note_id=created["id"])
    seen["gone"], _ = await _call(client, episode, GET, note_id=created["id"])
    seen["episode"] = episode
    return seen


@pytest.fixture(params=["memory", "redis"])
def cache_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("redis_url")


async def test_create_read_update_delete_in_parallel_episodes_never_leak(
    make_episodes_app, connect, cache_url
):
    app = make_episodes_app(cache={"url": cache_url})
    async with connect(app) as client:
        outcomes = await asyncio.gather(*(_crud(client, n) for n in range(24)))
        outside = await client.post(f"/v1/tools/{GET}", json={"note_id": note_id("groceries")})

    for number, seen in enumerate(outcomes):
        assert seen["created"]["id"] == note_id("groceries")  # the same entity in every episode
        assert seen["read"]["body"] == f"eggs x{number}", seen  # its own create, not the world's
        assert seen["read"]["title"] == "groceries"
        assert seen["updated"]["body"] == f"milk x{number}", seen  # its own update only
        assert "deleted in this episode" in seen["gone"]
    # Outside every episode the world never heard of any of it.
    assert json.loads(outside.json()["response"])["body"] == "the world's text"


async def test_the_shared_world_and_cache_stay_untouched(make_episodes_app, connect):
    app = make_episodes_app()
    service = app.state.service
    async with connect(app) as client:
        await _crud(client, 1)
    assert len(service.backend) == 0
    assert list(service.backend.records_items("world")) == []


async def test_an_episode_reads_the_shared_world_it_did_not_change(make_episodes_app, connect):
    app = make_episodes_app()
    async with connect(app) as client:
        shared = await client.post(f"/v1/tools/{GET}", json={"note_id": "note-7"})  # stored
        opened = await client.post("/v1/episodes", json={"query": "n", "tools": ["Notes Hub"]})
        episode = opened.json()["episode_id"]
        _, read = await _call(client, episode, GET, note_id="note-7")
        await _call(client, episode, UPDATE, note_id="note-7", body="changed here")
        _, after = await _call(client, episode, GET, note_id="note-7")
        again = await client.post(f"/v1/tools/{GET}", json={"note_id": "note-7"})
    assert read == json.loads(shared.json()["response"])
    assert after == {**read, "body": "changed here"}
    assert again.json() == shared.json()


def test_what_a_call_does_is_read_from_its_method_and_name(make_episodes_app):
    catalog = make_episodes_app().state.service.catalog
    kinds = {api.function_name: call_kind(api) for api in catalog if api.tool_key == "notes_hub"}
    assert kinds == {
        CREATE: CallKind.CREATE,
        GET: CallKind.READ,
        UPDATE: CallKind.UPDATE,
        DELETE: CallKind.DELETE,
    }
    weather = catalog.by_function("current_weather_for_skycast_weather")
    assert call_kind(weather) is CallKind.READ
