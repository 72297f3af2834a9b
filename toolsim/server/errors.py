"""One error shape for every native endpoint, mapped in one place.

``{"error": {"type": ..., "message": ..., "details": {...}}}`` with the status
code of the exception; ``/virtual`` builds its own reply shape instead.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from toolsim.errors import ToolsimError

log = logging.getLogger("toolsim.server")


def error_response(status_code: int, code: str, message: str, **details: object) -> JSONResponse:
    """The native error shape."""
    return JSONResponse(
        {"error": {"type": code, "message": message, "details": details}},
        status_code=status_code,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map toolsim errors, validation errors, HTTP errors and crashes to the error shape."""

    @app.exception_handler(ToolsimError)
    async def _toolsim(request: Request, exc: ToolsimError) -> JSONResponse:
        if type(exc) is ToolsimError:
            # Unclassified, so a bug here or in a plug-in: bad input is a UserError,
            # BadRequest, ... (4xx) and a failing simulator an UpstreamError (502).
            log.error("unclassified error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=exc.headers())

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        return error_response(
            422, "invalid_request", "request parameters are invalid", problems=problems
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal server error")
