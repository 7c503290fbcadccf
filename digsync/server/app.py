"""The FastAPI application: the Config API of docs/api.md, the webhook and the static UI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from digsync import __version__
from digsync.config.files import Busy
from digsync.editor.service import (
    ConfigMissing,
    ConfigService,
    RollbackRefused,
    StaleETag,
    UndoesRollback,
)
from digsync.errors import ConfigError, DigsyncError, problem_json
from digsync.history.ledger import who
from digsync.server import schemas, security
from digsync.server.errors import ApiError, install, invalid_config
from digsync.server.settings import ServerSettings
from digsync.server.webhook import Debouncer

STATIC = Path(__file__).parent / "static"
API = "/api/semantic-layer"
log = logging.getLogger("digsync.server")


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": schemas.ErrorOut, "description": "error"} for s in statuses}


WRITE_ERRORS = (400, 401, 403, 413, 415)
TARGET_ERRORS = (400, 403, 404, 502)


BUSY_RETRY_AFTER = "2"
"""Seconds a 503 "save in progress" asks the client to wait before trying again."""


class Pools:
    """Worker threads by kind of work, so a target that never answers cannot starve the
    rest: saves and rollbacks (``write``), calls that reach the target (``target``:
    preview, status, history) and local reads (``read``: the config, validate). Health,
    the page and its files need no worker at all. A write waits at most ``wait`` seconds
    for a worker (and the service as long again for the config's lock), else 503."""

    WRITERS = 4

    def __init__(self, wait: float) -> None:
        self.wait = wait
        self.write = anyio.CapacityLimiter(self.WRITERS)
        self.target = anyio.CapacityLimiter(4)
        self.read = anyio.CapacityLimiter(8)
        self._writers = anyio.Semaphore(self.WRITERS)

    async def run(self, limiter: anyio.CapacityLimiter, fn: Any, *args: Any) -> Any:
        work = partial(_call, fn, *args)
        if limiter is not self.write:
            return await to_thread.run_sync(work, limiter=limiter)
        try:
            with anyio.fail_after(self.wait):
                await self._writers.acquire()
        except TimeoutError:
            raise _busy(f"every save worker was busy for {self.wait:g} s") from None
        try:
            return await to_thread.run_sync(work, limiter=limiter)
        finally:
            self._writers.release()


def _busy(details: str) -> ApiError:
    return ApiError(
        503,
        "busy",
        "A save is in progress; try again in a moment",
        details=details,
        headers={"Retry-After": BUSY_RETRY_AFTER},
    )


class DigsyncAPI(FastAPI):
    """FastAPI with the components /openapi.json's operations refer to (schemas.complete)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = schemas.complete(super().openapi())
        return self.openapi_schema


def create_app(settings: ServerSettings) -> FastAPI:
    """The app for one config file; the service and webhook trigger live on app.state."""
    service = ConfigService(
        settings.config_path, settings.choice, settings.state_dir, lock_wait=settings.save_wait
    )
    pools = Pools(settings.save_wait)
    trigger = Debouncer(settings.webhook_debounce, lambda: _webhook_push(service))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        trigger.close()
        service.close()

    app = DigsyncAPI(
        title="digsync Config API",
        version=__version__,
        docs_url=None,  # the Swagger page loads scripts from a CDN, which the CSP forbids
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.webhook = trigger
    install(app)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "If-Match"],
            expose_headers=["ETag"],
        )
    app.add_middleware(security.Guard, settings=settings)

    async def body_of(request: Request) -> tuple[str, Any]:
        """Auth, JSON content type, size and syntax, in that order: (author, data)."""
        # one identity per person: the token's name, else the server process's OS user
        # (or $DIGSYNC_USER), as the CLI records it
        author = security.authorise(request, settings.tokens) if settings.tokens else who()
        security.require_json(request)
        return author, security.parse_json(await security.read_body(request))

    @app.get(
        "/healthz",
        operation_id="getHealth",
        response_model=schemas.HealthOut,
        responses=_errors(403),
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(
        f"{API}/config",
        operation_id="getConfig",
        responses={
            200: {
                "description": "the config; webhook URLs masked; ETag header",
                "headers": schemas.ETAG,
                "content": {"application/json": {"schema": schemas.CONFIG}},
            },
            **_errors(400, 403, 404),
        },
    )
    async def get_config() -> JSONResponse:
        data, etag = await pools.run(pools.read, service.read)
        return JSONResponse(data, headers={"ETag": etag})

    @app.post(
        f"{API}/config",
        operation_id="saveConfig",
        response_model=schemas.SaveOut,
        responses={
            200: {"headers": schemas.ETAG},
            **_errors(*WRITE_ERRORS, 409, 412, 500, 503),
        },
        openapi_extra={
            **schemas.NEEDS_TOKEN,
            **schemas.json_body(
                schemas.CONFIG,
                'the config, or {"config": {...}}; If-Match is honoured; ?adopt=true replaces '
                "a project on the target that digsync did not make; "
                "?confirm_undo_rollback=true pushes over a rollback the server runs (409 "
                "undoes_rollback without it)",
            ),
            "parameters": [
                {
                    "name": "adopt",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["true", "1"]},
                },
                {
                    "name": "confirm_undo_rollback",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["true", "1"]},
                },
                schemas.IF_MATCH,
            ],
        },
    )
    async def post_config(request: Request) -> JSONResponse:
        author, body = await body_of(request)
        if_match = request.headers.get("if-match")
        adopt = request.query_params.get("adopt") in ("1", "true")
        confirm = request.query_params.get("confirm_undo_rollback") in ("1", "true")
        outcome = await pools.run(pools.write, service.save, body, if_match, author, adopt, confirm)
        headers = {"ETag": outcome.etag}
        if outcome.needs_adopt:
            raise ApiError(
                409,
                "adopt_required",
                "Config saved; the target's project was not made by digsync, so it was not "
                "replaced",
                details=outcome.push_error,
                extra={"etag": outcome.etag, "pending": True},
                headers=headers,
            )
        if outcome.push_error is not None:
            raise ApiError(
                500,
                "push_failed",
                "Config saved but workflow update failed",
                details=outcome.push_error,
                extra={"etag": outcome.etag, "pending": True},
                headers=headers,
            )
        return JSONResponse(
            {
                "success": True,
                "workflowUpdated": outcome.workflow_updated,
                "revision": outcome.revision,
                "message": outcome.message,
                "etag": outcome.etag,
                "warnings": [problem_json(w) for w in outcome.warnings],
                "scheduleCheck": list(outcome.schedule_check),
            },
            headers=headers,
        )

    @app.post(
        f"{API}/config/validate",
        operation_id="validateConfig",
        response_model=schemas.ValidateOut,
        responses=_errors(*WRITE_ERRORS),
        openapi_extra={
            **schemas.NEEDS_TOKEN,
            **schemas.json_body(
                {"type": "object"}, 'the config, {"config": {...}} or {"yaml": "<text>"}'
            ),
        },
    )
    async def validate(request: Request) -> dict[str, Any]:
        _, body = await body_of(request)
        errors, warnings = await pools.run(pools.read, service.validate, body)
        return {
            "valid": not errors,
            "errors": [problem_json(p) for p in errors],
            "warnings": [problem_json(p) for p in warnings],
        }

    @app.post(
        f"{API}/preview",
        operation_id="previewConfig",
        response_model=schemas.PreviewOut,
        responses=_errors(*WRITE_ERRORS, 502),
        openapi_extra={
            **schemas.NEEDS_TOKEN,
            **schemas.json_body(schemas.CONFIG, "the candidate config"),
        },
    )
    async def preview(request: Request) -> JSONResponse:
        _, body = await body_of(request)
        return JSONResponse(await pools.run(pools.target, service.preview, body))

    @app.get(
        f"{API}/status",
        operation_id="getStatus",
        response_model=schemas.StatusOut,
        responses=_errors(*TARGET_ERRORS),
    )
    async def status() -> JSONResponse:
        return JSONResponse(await pools.run(pools.target, service.status))

    @app.get(
        f"{API}/history",
        operation_id="getHistory",
        response_model=schemas.HistoryOut,
        responses=_errors(*TARGET_ERRORS),
    )
    async def history() -> JSONResponse:
        return JSONResponse(await pools.run(pools.target, service.history))

    @app.post(
        f"{API}/rollback",
        operation_id="rollback",
        response_model=schemas.RollbackOut,
        responses=_errors(*WRITE_ERRORS, 404, 409, 500, 502, 503),
        openapi_extra={
            **schemas.NEEDS_TOKEN,
            **schemas.json_body(
                schemas.ROLLBACK_BODY,
                '{"revision": "<name>", "restore_config": true} (both optional); '
                "restore_config writes the config that revision was pushed from over "
                "config.yaml (409 no_config_copy, nothing changed, when none is kept)",
            ),
        },
    )
    async def rollback(request: Request) -> JSONResponse:
        author, body = await body_of(request)
        usage = 'expected {"revision": "<name>", "restore_config": true|false} or {}'
        if not isinstance(body, dict) or set(body) - {"revision", "restore_config"}:
            raise ApiError(400, "invalid_request", usage)
        revision = body.get("revision")
        restore = body.get("restore_config", False)
        if (revision is not None and not isinstance(revision, str)) or not isinstance(
            restore, bool
        ):
            raise ApiError(400, "invalid_request", usage)
        return JSONResponse(
            await pools.run(pools.write, _rollback, service, revision, author, restore)
        )

    @app.post(
        f"{API}/webhook",
        operation_id="triggerWebhook",
        status_code=202,
        response_model=schemas.AcceptedOut,
        responses=_errors(400, 401, 403, 413, 415),
        openapi_extra=schemas.json_body(schemas.WEBHOOK_BODY, "signed with X-Digsync-Signature"),
    )
    async def webhook(request: Request) -> JSONResponse:
        raw = await security.read_body(request)
        secret = settings.webhook_secret
        if not secret or not security.signature_valid(secret, raw, request.headers):
            why = "bad or missing signature" if secret else "DIGSYNC_WEBHOOK_SECRET is not set"
            raise ApiError(401, "unauthorized", f"webhook refused: {why}")
        security.require_json(request)
        security.parse_json(raw)
        trigger.trigger()
        return JSONResponse({"accepted": True}, status_code=202)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        page = STATIC / "index.html"
        if not page.is_file():
            raise ApiError(404, "not_found", "the web UI is not installed")
        return FileResponse(page, media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    return app


def _call(fn: Any, *args: Any) -> Any:
    """Run a service call; its errors become API errors."""
    try:
        return fn(*args)
    except ConfigError as exc:
        raise invalid_config(exc.problems) from None
    except Busy as exc:
        raise _busy(str(exc)) from None
    except StaleETag as exc:
        raise ApiError(
            412,
            "precondition_failed",
            "config.yaml changed since you read it; reload it and apply your change again",
            details=str(exc),
            extra={"etag": exc.current},
        ) from None
    except ConfigMissing as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except UndoesRollback as exc:
        raise ApiError(
            409,
            "undoes_rollback",
            "The server runs a rollback; saving this config would push over it. Nothing "
            "was saved; send the save again with ?confirm_undo_rollback=true to do it",
            details=str(exc),
            extra={"rolled_back": {k: exc.rolled_back.get(k) for k in ("to", "from", "revision")}},
        ) from None
    except RollbackRefused as exc:
        raise ApiError(409, exc.code, str(exc)) from None
    except DigsyncError as exc:  # the target: unreachable, refused, or not set up
        raise ApiError(502, "target_error", "the push target failed", details=str(exc)) from None


def _rollback(
    service: ConfigService, revision: str | None, author: str, restore_config: bool = False
) -> dict[str, Any]:
    try:
        return service.rollback(revision, author, restore_config)
    except (ConfigError, RollbackRefused, ConfigMissing, Busy):
        raise
    except DigsyncError as exc:
        raise ApiError(500, "rollback_failed", "rollback failed", details=str(exc)) from None


def _webhook_push(service: ConfigService) -> None:
    try:
        outcome = service.push_current("webhook", "webhook")
    except ConfigError as exc:
        log.warning("webhook: config.yaml is invalid; nothing pushed:\n%s", exc)
        return
    if outcome.push_error:
        log.warning("webhook: push failed (pending): %s", outcome.push_error)
    else:
        log.info("webhook: %s", outcome.message)
