"""Operational endpoints: health and statistics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

import toolsim

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
    """Counters since this process started and in total, plus stored entries by source."""
    service = request.app.state.service
    return service.stats.snapshot(service.backend)
