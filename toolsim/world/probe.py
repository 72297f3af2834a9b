"""A consistency probe: the example suite's search -> details pairs, and what they share.

Each pair lists things (hotels in Lisbon, pasta recipes, films called "Heat", a
stock quote) and then asks for the details of the first one. A *shared fact* is a
scalar field both the first item and the details have; in a consistent world each
has one value. Used by the tests and by ``scripts/world_consistency.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class ProbeError(AssertionError):
    """A probe call that gave nothing to compare (an error reply, an empty search)."""


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
    """A field name compared across spellings."""
    return name.replace("_", "").lower()


def _scalar(value: Any) -> bool:
    """Whether a value is a scalar fact."""
    return isinstance(value, str | int | float | bool)


def _same(a: Any, b: Any) -> bool:
    """Equal, numbers compared as numbers."""
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


async def call(client: httpx.AsyncClient, function: str, arguments: dict[str, Any]) -> Any:
    """Call a function through the native endpoint; fail unless it answers without error."""
    reply = await client.post(f"/v1/tools/{function}", json=arguments)
    body = reply.json()
    if reply.status_code != 200 or body.get("error"):
        raise ProbeError(f"{function} {arguments} answered {reply.status_code}: {body}")
    return body["response"]


async def shared_facts(client: httpx.AsyncClient, pair: Pair) -> list[tuple[str, Any, Any]]:
    """Run the pair; return (field, value in the search, value in the details) per shared fact.

    A shared fact is a scalar field both the first search item and the details
    object have (the identifier included; the item's ``movie_id`` is the film's ``id``).
    """
    found = await call(client, pair.search, pair.search_args)
    item = found
    if pair.items:
        if not found.get(pair.items):
            raise ProbeError(f"{pair.label}: the search found nothing: {found}")
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
    """The shared facts whose two values differ."""
    return [fact for fact in shared if not _same(fact[1], fact[2])]
