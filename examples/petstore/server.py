"""A small real server for part of the Petstore API (examples/petstore/openapi.yaml).

Not a simulator: an ordinary in-memory REST service, the kind of "real tool"
toolsim records from. Run it with ``uvicorn --app-dir examples/petstore server:app --port 8081``
(or ``python examples/petstore/server.py``) and record against it with
``toolsim serve --tools examples/petstore/openapi.yaml --simulator upstream
--cache-mode record`` and ``TOOLSIM_REAL_TOOLS__OPENAPI_SERVER=http://127.0.0.1:8081/api/v3``.

It implements the pet and store operations of the document under ``/api/v3``
(as the public demo server does) and, when ``PETSTORE_API_KEY`` and
``PETSTORE_TOKEN`` are set, checks credentials as the document's security
requirements say: an ``api_key`` header (scheme ``api_key``) or a bearer token
(scheme ``petstore_auth``) for a pet, the token alone for the other pet
operations, the key alone for the inventory.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Header, HTTPException, Query

router = APIRouter(prefix="/api/v3")
ApiKey = Annotated[str | None, Header(alias="api_key", convert_underscores=False)]
Authorization = Annotated[str | None, Header()]

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


def _authorised(
    api_key: str | None = None, authorization: str | None = None, *, key: bool, token: bool
) -> None:
    """Pass if a credential the operation takes (``key``, ``token``) is right, or none is set."""
    wanted_key, wanted_token = os.environ.get("PETSTORE_API_KEY"), os.environ.get("PETSTORE_TOKEN")
    if not wanted_key and not wanted_token:
        return
    if key and wanted_key and api_key == wanted_key:
        return
    if token and wanted_token and authorization == f"Bearer {wanted_token}":
        return
    raise HTTPException(401, "missing or wrong credentials")


@router.get("/pet/findByStatus")
def find_pets_by_status(
    status: Annotated[str, Query()] = "available", authorization: Authorization = None
) -> list[dict[str, Any]]:
    """Pets with a status (security: petstore_auth)."""
    _authorised(authorization=authorization, key=False, token=True)
    if status not in ("available", "pending", "sold"):
        raise HTTPException(400, "Invalid status value")
    return [pet for pet in PETS.values() if pet["status"] == status]


@router.get("/pet/{pet_id}")
def get_pet_by_id(
    pet_id: int, api_key: ApiKey = None, authorization: Authorization = None
) -> dict[str, Any]:
    """One pet (security: api_key or petstore_auth)."""
    _authorised(api_key, authorization, key=True, token=True)
    if pet_id not in PETS:
        raise HTTPException(404, "Pet not found")
    return PETS[pet_id]


@router.post("/pet")
def add_pet(
    pet: Annotated[dict[str, Any], Body()], authorization: Authorization = None
) -> dict[str, Any]:
    """A new pet, numbered after the last one (security: petstore_auth)."""
    _authorised(authorization=authorization, key=False, token=True)
    if not pet.get("name"):
        raise HTTPException(400, "Invalid input")
    number = max(PETS) + 1
    PETS[number] = {"photoUrls": [], "tags": [], "status": "available", **pet, "id": number}
    return PETS[number]


@router.get("/store/inventory")
def get_inventory(api_key: ApiKey = None) -> dict[str, int]:
    """Pets per status (security: api_key)."""
    _authorised(api_key, key=True, token=False)
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
