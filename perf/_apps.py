"""The baseline ASGI apps ``cache_hits.py`` serves with uvicorn beside toolsim.

(toolsim itself is served as ``toolsim serve`` serves it, from the environment:
``toolsim.server.app:app_from_env``.)

* ``fastapi_app``: the floor for a FastAPI route: parse the body into a pydantic
  model, return a fixed reply of the same size.
* ``raw_app``: the floor for any ASGI app under uvicorn: read the body, send fixed bytes.
"""

from __future__ import annotations

from typing import Any

import orjson
from _reference_cache import reference_reply
from fastapi import FastAPI
from pydantic import BaseModel

from toolsim.catalog import ApiSpec

#: A reply of the same shape and size as the cached ones toolsim answers with.
REPLY = orjson.dumps(
    reference_reply(ApiSpec(category="Data", tool_name="TheClique", name="Songkick"), 1234)
)
_REPLY_OBJECT = orjson.loads(REPLY)


class VirtualRequest(BaseModel):
    """The six fields of a StableToolBench ``/virtual`` body."""

    category: str = ""
    tool_name: str
    api_name: str
    tool_input: str | dict[str, Any] = ""
    strip: str = ""
    toolbench_key: str = ""


fastapi_app = FastAPI()


@fastapi_app.post("/virtual")
async def virtual(request: VirtualRequest) -> dict[str, Any]:
    return _REPLY_OBJECT


async def raw_app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":  # nothing to set up or tear down
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": REPLY})
