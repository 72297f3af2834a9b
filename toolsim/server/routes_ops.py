"""Operational endpoints: health, statistics and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

import toolsim
from toolsim.server.metrics import CONTENT_TYPE, exposition

router = APIRouter()


@router.get("/healthz", summary="Liveness")
async def healthz(request: Request) -> dict[str, Any]:
    """Report that the server is up, with what it serves."""
    service = request.app.state.service
    return {
        "status": "ok",
        "version": toolsim.__version__,
        "apis": len(service.catalog),
        "mode": service.mode.value,
        "simulator": service.simulator.name,
    }


@router.get("/stats", summary="Hits, misses and errors; by source and per API")
async def stats(request: Request) -> dict[str, Any]:
    """Counters since this process started and in total, plus stored entries by source;
    with a fault profile, which one (file name, sha256, seed)."""
    service = request.app.state.service
    document = await service.counters.stats_document()
    if service.faults is not None:
        document["fault_profile"] = service.faults.identity()
    return document


@router.get(
    "/metrics",
    summary="Prometheus metrics: calls, replies by source, simulator latency, entries",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of the cache store's counters (shared by every worker)."""
    text = await exposition(request.app.state.service)
    return Response(text, media_type=CONTENT_TYPE)
