"""``/v1/episodes``: open, inspect, verify, export and close episodes over REST."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from toolsim.server.episodes.manager import Episodes, episodes_of
from toolsim.server.episodes.models import EPISODE_ID_PATTERN, OpenEpisode, VerifyEpisode
from toolsim.server.episodes.trajectory import atif_trajectory
from toolsim.server.requests import read_json_body

Body = TypeVar("Body", bound=BaseModel)

router = APIRouter(prefix="/v1/episodes", tags=["episodes"])

EpisodeId = Annotated[str, Path(pattern=EPISODE_ID_PATTERN, description="The episode's id.")]


def _episodes(request: Request) -> Episodes:
    return episodes_of(getattr(request.app.state, "episodes", None))


async def _body(request: Request, model: type[Body]) -> Body:
    """The request's JSON body as ``model``, under the server's body-size limit."""
    data = await read_json_body(request, request.app.state.settings.server.max_body_bytes)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a body read by :func:`_body` (FastAPI does not see it)."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post("", status_code=201, summary="Open an episode", openapi_extra=_documented(OpenEpisode))
async def open_episode(request: Request) -> dict[str, Any]:
    """A task and a seed in; the episode's id, tools, budget and first observation out."""
    episodes = _episodes(request)
    return await episodes.open(await _body(request, OpenEpisode))


@router.get("/{episode_id}", summary="An episode's calls, cost, budget left and verdict")
async def view_episode(request: Request, episode_id: EpisodeId) -> dict[str, Any]:
    """Everything the episode did so far."""
    return await _episodes(request).view(episode_id)


@router.post(
    "/{episode_id}/verify",
    summary="The reward for a final answer",
    openapi_extra=_documented(VerifyEpisode),
)
async def verify_episode(request: Request, episode_id: EpisodeId) -> dict[str, Any]:
    """The judge's verdict on the episode with this final answer: label, reward, evidence."""
    episodes = _episodes(request)
    body = await _body(request, VerifyEpisode)
    return await episodes.verify(episode_id, body.answer, body.give_up)


@router.get("/{episode_id}/trajectory", summary="The episode as an ATIF trajectory")
async def episode_trajectory(request: Request, episode_id: EpisodeId) -> dict[str, Any]:
    """The episode in the Agent Trajectory Interchange Format (v1.8), for training data."""
    episodes = _episodes(request)
    state, log = await episodes.state(episode_id, log=True)
    return atif_trajectory(state, log, episodes.tools(state))


@router.delete("/{episode_id}", summary="Close an episode")
async def close_episode(request: Request, episode_id: EpisodeId) -> JSONResponse:
    """End the episode and forget its state."""
    await _episodes(request).close(episode_id)
    return JSONResponse({"episode_id": episode_id, "closed": True})
