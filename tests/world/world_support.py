"""The example suite's search -> details pairs, and what the two replies must share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

DATES = {"check_in": "2025-06-01", "check_out": "2025-06-03"}


@dataclass(frozen=True)
class Pair:
    """A call that lists things, and the call for the details of the first one."""

    label: str
    search: str
    search_args: dict[str, Any]
    #: Path to the first item in the search reply's response ("" = the response itself).
    items: str
    #: The item's field holding the identifier, and the details call's parameter.
    item_id: str
    details: str
    parameter: str


PAIRS = (
    Pair(
        "hotel",
        "search_hotels_for_tripnest_hotels",
        {"city": "Lisbon", **DATES},
        "hotels",
        "id",
        "hotel_details_for_tripnest_hotels",
        "hotel_id",
    ),
    Pair(
        "recipe",
        "searchrecipes_for_open_recipes_hub",
        {"query": "pasta"},
        "results",
        "id",
        "getrecipedetails_for_open_recipes_hub",
        "recipe_id",
    ),
    Pair(
        "recipe by ingredient",
        "search_by_ingredient_for_open_recipes_hub",
        {"ingredients": "tomato,basil"},
        "results",
        "id",
        "getrecipedetails_for_open_recipes_hub",
        "recipe_id",
    ),
    Pair(
        "random recipe",
        "random_recipe_for_open_recipes_hub",
        {"tag": "dessert"},
        "",
        "id",
        "getrecipedetails_for_open_recipes_hub",
        "recipe_id",
    ),
    Pair(
        "film",
        "search_movies_for_reelradar",
        {"title": "Heat"},
        "results",
        "id",
        "movie_details_for_reelradar",
        "movie_id",
    ),
    Pair(
        "film now playing",
        "now_playing_for_reelradar",
        {"city": "Lisbon"},
        "showings",
        "movie_id",
        "movie_details_for_reelradar",
        "movie_id",
    ),
    Pair(
        "company",
        "stock_quote_for_market_pulse",
        {"symbol": "ACME"},
        "",
        "symbol",
        "company_profile_for_market_pulse",
        "symbol",
    ),
)


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


async def call(client: httpx.AsyncClient, function: str, arguments: dict[str, Any]) -> Any:
    reply = await client.post(f"/v1/tools/{function}", json=arguments)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["error"] == "", f"{function} answered an error: {body}"
    return body["response"]


async def shared_facts(client: httpx.AsyncClient, pair: Pair) -> list[tuple[str, Any, Any]]:
    """Run the pair; return (field, value in the search, value in the details) per shared fact.

    A shared fact is a scalar field both the first search item and the details
    object have (the identifier included; the item's ``movie_id`` is the film's ``id``).
    """
    found = await call(client, pair.search, pair.search_args)
    item = found
    if pair.items:
        assert found[pair.items], f"{pair.label}: the search found nothing: {found}"
        item = found[pair.items][0]
    details = await call(client, pair.details, {pair.parameter: item[pair.item_id]})
    by_name = {_norm(k): v for k, v in details.items() if _scalar(v)}
    shared = [
        (field, value, by_name[_norm(field)])
        for field, value in item.items()
        if _scalar(value) and _norm(field) in by_name and field != pair.item_id
    ]
    id_field = "id" if "id" in details else pair.item_id
    shared.append((f"{pair.item_id} -> {id_field}", item[pair.item_id], details.get(id_field)))
    return shared


def disagreements(shared: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    return [fact for fact in shared if not _same(fact[1], fact[2])]
