"""A small real server for part of the Petstore API (examples/petstore/openapi.yaml).

Not a simulator: an ordinary in-memory REST service, the kind of "real tool"
toolsim records from. Run it with ``uvicorn --app-dir examples/petstore server:app --port 8081``
(or ``python examples/petstore/server.py``) and record against it with
``toolsim serve --tools examples/petstore/openapi.yaml --simulator upstream
--cache-mode record`` and ``TOOLSIM_REAL_TOOLS__OPENAPI_SERVER=http://127.0.0.1:8081/api/v3``.

It implements the pet and store operations of the document under ``/api/v3``
(as the public demo server does) and asks for an ``api_key`` header when
``PETSTORE_API_KEY`` is set, so credentials can be tested too.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Header, HTTPException, Query

router = APIRouter(prefix="/api/v3")
ApiKey = Annotated[str | None, Header(alias="api_key", convert_underscores=False)]

PETS: dict[int, dict[str, Any]] = {
    1: {
        "id": 1,
        "name": "Rex",
        "category": {"id": 1, "name": "Dogs"},
        "photoUrls": [],
        "tags": [{"id": 1, "name": "good"}],
        "status": "available",
    },
    2: {
        "id": 2,
        "name": "Tom",
        "category": {"id": 2, "name": "Cats"},
        "photoUrls": [],
        "tags": [],
        "status": "sold",
    },
    3: {
        "id": 3,
        "name": "Nemo",
        "category": {"id": 3, "name": "Fish"},
        "photoUrls": [],
        "tags": [],
        "status": "pending",
    },
}
ORDERS: dict[int, dict[str, Any]] = {}


def _authorised(api_key: str | None) -> None:
    wanted = os.environ.get("PETSTORE_API_KEY")
    if wanted and api_key != wanted:
        raise HTTPException(401, "missing or wrong api_key")


@router.get("/pet/findByStatus")
def find_pets_by_status(
    status: Annotated[str, Query()] = "available", api_key: ApiKey = None
) -> list[dict[str, Any]]:
    """Pets with a status."""
    _authorised(api_key)
    if status not in ("available", "pending", "sold"):
        raise HTTPException(400, "Invalid status value")
    return [pet for pet in PETS.values() if pet["status"] == status]


@router.get("/pet/{pet_id}")
def get_pet_by_id(pet_id: int, api_key: ApiKey = None) -> dict[str, Any]:
    """One pet."""
    _authorised(api_key)
    if pet_id not in PETS:
        raise HTTPException(404, "Pet not found")
    return PETS[pet_id]


@router.post("/pet")
def add_pet(pet: Annotated[dict[str, Any], Body()], api_key: ApiKey = None) -> dict[str, Any]:
    """A new pet, numbered after the last one."""
    _authorised(api_key)
    if not pet.get("name"):
        raise HTTPException(400, "Invalid input")
    number = max(PETS) + 1
    PETS[number] = {"photoUrls": [], "tags": [], "status": "available", **pet, "id": number}
    return PETS[number]


@router.get("/store/inventory")
def get_inventory(api_key: ApiKey = None) -> dict[str, int]:
    """Pets per status."""
    _authorised(api_key)
    counts: dict[str, int] = {}
    for pet in PETS.values():
        counts[pet["status"]] = counts.get(pet["status"], 0) + 1
    return counts


@router.get("/store/order/{order_id}")
def get_order_by_id(order_id: int) -> dict[str, Any]:
    """One order."""
    if order_id not in ORDERS:
        raise HTTPException(404, "Order not found")
    return ORDERS[order_id]


app = FastAPI(title="Petstore (example real server)")
app.include_router(router)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8081)
