"""Search -> details on every example tool pair: every shared fact agrees.

With the schema simulator (deterministic) and with the embedded model (its replies
are reconciled with the world, and the stored provenance shows it was the
reconciliation, not the model, that made them agree).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support import require_local_model

from toolsim.server import create_app
from toolsim.settings import Settings
from toolsim.world.probe import PAIRS, Pair, ProbeError, disagreements, shared_facts

#: The pairs of the issue (hotel, recipe, film, company) for the slow embedded model.
EMBEDDED_PAIRS = tuple(p for p in PAIRS if p.label in ("hotel", "recipe", "film", "company"))


@pytest.fixture
async def schema_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(home=tmp_path, tools=["example"], simulator={"backend": "schema"}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    app.state.service.backend.close()


@pytest.mark.parametrize("pair", PAIRS, ids=[pair.label for pair in PAIRS])
async def test_schema_simulator_details_agree_with_the_search(
    schema_client: httpx.AsyncClient, pair: Pair
) -> None:
    shared = await shared_facts(schema_client, pair)
    assert len(shared) >= 2, f"{pair.label}: too few shared facts to check: {shared}"
    assert disagreements(shared) == []


async def test_without_the_world_the_schema_simulator_contradicts_itself(tmp_path: Path) -> None:
    """The control: the same pairs with the world off disagree (so the check can fail)."""
    settings = Settings(
        home=tmp_path, tools=["example"], world=False, simulator={"backend": "schema"}
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        differing = []
        for pair in PAIRS:
            differing += disagreements(await shared_facts(client, pair))
    app.state.service.backend.close()
    assert len(differing) >= len(PAIRS)


async def test_reconciled_facts_are_in_the_provenance(schema_client: httpx.AsyncClient) -> None:
    pair = PAIRS[0]
    await shared_facts(schema_client, pair)
    service = schema_client.app.state.service  # type: ignore[attr-defined]
    details = [entry for _key, entry in service.backend.items() if entry.api == "hotel_details"]
    assert len(details) == 1
    changed = {change["path"] for change in details[0].reconciled}
    assert {"response.id", "response.name", "response.stars"} <= changed
    entries = dict(service.backend.items()).values()
    searched = next(entry for entry in entries if entry.api == "search_hotels")
    assert searched.reconciled == []  # nothing was known when the search was simulated


@pytest.mark.integration
async def test_embedded_model_details_agree_through_reconciliation(tmp_path: Path) -> None:
    require_local_model()
    app = create_app(Settings(home=tmp_path, tools=["example"], simulator={"backend": "local"}))
    service = app.state.service
    transport = httpx.ASGITransport(app=app)
    results = {}
    unanswered = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=900) as client:
        try:
            for pair in EMBEDDED_PAIRS:
                try:
                    results[pair.label] = await shared_facts(client, pair)
                except ProbeError as exc:
                    # The tiny model may play an API error (a valid reply, with no facts);
                    # that pair has nothing to compare, which is not a contradiction.
                    unanswered[pair.label] = str(exc)
        finally:
            await service.simulator.aclose()
    entries = [entry for _key, entry in service.backend.items()]
    service.backend.close()
    assert len(results) >= 2, f"too few pairs answered to compare: {unanswered}"
    for label, shared in results.items():
        assert len(shared) >= 2, f"{label}: too few shared facts to check: {shared}"
        assert disagreements(shared) == [], label
    reconciled = [change for entry in entries for change in entry.reconciled]
    # The model alone does not repeat what it said: the world had to correct it.
    assert len(reconciled) >= len(results), reconciled
    assert all(entry.simulator == "local" for entry in entries)
