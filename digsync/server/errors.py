"""The one JSON error shape, and the handlers that give it to every error.

``{"error": str | [str], "code": str, "details"?: str, "problems"?: [problem], ...}``:
API errors, FastAPI's request validation, 404, 405 and unhandled exceptions alike. A
bug answers 500 internal_error; its traceback goes to the server log only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.staticfiles import StaticFiles

from digsync.errors import Problem, problem_json
from digsync.server.settings import SECURITY_HEADERS

log = logging.getLogger("digsync.server")

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """An answer other than 2xx; ``extra`` adds documented keys (etag, pending)."""

    def __init__(
        self,
        status: int,
        code: str,
        error: str | list[str],
        details: str | None = None,
        problems: Sequence[Problem] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error if isinstance(error, str) else "; ".join(error))
        self.status = status
        self.code = code
        self.error = error
        self.details = details
        self.problems = problems
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error, "code": self.code}
        if self.details is not None:
            out["details"] = self.details
        if self.problems is not None:
            out["problems"] = [problem_json(p) for p in self.problems]
        out.update(self.extra)
        return out


def invalid_config(problems: Sequence[Problem]) -> ApiError:
    """400 with every error as "<key path>: <message>" and the problems as data."""
    errors = [p for p in problems if p.severity == "error"]
    return ApiError(
        400,
        "invalid_config",
        [str(p._replace(mark=None)) for p in errors],
        problems=list(problems),
    )


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    where = []
    for item in exc.errors():
        loc = ".".join(str(part) for part in item.get("loc", ()))
        where.append(f"{loc}: {item.get('msg', 'invalid')}")
    return error_response(ApiError(400, "invalid_request", where or ["invalid request"]))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "internal_error" if exc.status_code >= 500 else "")
    code = code or "http_error"
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        headers["Allow"] = allowed_methods(request)
    return error_response(ApiError(exc.status_code, code, message, headers=headers))


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first
    route's); HEAD wherever GET is, as the security middleware answers it."""
    return methods_at(request.app.router.routes, request.url.path)


def methods_at(routes: Sequence[BaseRoute], path: str) -> str:
    """The Allow value for a path: the methods of every route that matches it."""
    # a fresh scope: a Mount on the way here has already moved root_path in request.scope
    probe = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    methods: set[str] = set()
    for route in routes:
        if route.matches(probe)[0] == Match.NONE:
            continue
        if isinstance(getattr(route, "app", None), StaticFiles):
            methods |= {"GET", "HEAD"}
        methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log; the answer names no internals and no values.
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    # This answer leaves outside the middleware that adds the security headers.
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    return error_response(
        ApiError(
            500, "internal_error", "internal error; the server log has the details", headers=headers
        )
    )


def install(app: FastAPI) -> None:
    """Register the handlers so every error leaves in the one shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
