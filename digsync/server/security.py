"""Who may call, from where, and with what: token auth, same-origin writes, a body size
limit, JSON only, and the security headers on every answer.

Checks in order: the Host header (DNS rebinding) and a cross-site browser request (403),
a declared body over the limit (413) in the middleware; the token (401), the content
type (415), the body as it streams in (413) and its JSON (400) in the endpoints.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digsync.server.errors import ApiError, error_response, methods_at
from digsync.server.settings import SECURITY_HEADERS, ServerSettings

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
MAX_DEPTH = 64


class Guard:
    """ASGI middleware: host and origin checks, declared size, and response headers."""

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        head = scope["method"] == "HEAD"
        if head:  # HEAD is GET without the body (RFC 9110), as Starlette's own routes do
            scope = {**scope, "method": "GET"}

        async def send_secured(message: Message) -> None:
            if head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {k.lower() for k, _ in raw}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        raw.append((name.lower().encode(), value.encode()))
                if scope["path"].startswith("/api/") and b"cache-control" not in present:
                    raw.append((b"cache-control", b"no-store"))
                message = {**message, "headers": raw}
            await send(message)

        problem = self._refusal(scope, headers)
        if problem is not None:
            await error_response(problem)(scope, receive, send_secured)
            return
        await self.app(scope, _limited(receive, self.settings.max_body_bytes), send_secured)

    def _refusal(self, scope: Scope, headers: Headers) -> ApiError | None:
        host = headers.get("host", "")
        allowed = self.settings.allowed_hosts
        if allowed is not None and _host_name(host) not in {h.lower() for h in allowed}:
            return ApiError(403, "forbidden", "this Host is not served here")
        origin = (headers.get("origin") or "").lower() or None
        listed = {o.lower() for o in self.settings.cors_origins}
        if scope["method"] == "OPTIONS" and origin not in listed:
            # a preflight CORS does not allow gets the one error shape, not CORS's text
            app = scope.get("app")
            routes = app.router.routes if app is not None and hasattr(app, "router") else []
            return ApiError(
                405,
                "method_not_allowed",
                "CORS is not enabled for this origin",
                headers={"Allow": methods_at(routes, scope["path"])},
            )
        if scope["method"] not in SAFE_METHODS:
            own = f"{scope.get('scheme', 'http')}://{host}".lower()
            if origin is not None and origin != own and origin not in listed:
                return ApiError(403, "forbidden", "cross-site request refused")
            cross = headers.get("sec-fetch-site", "").lower() == "cross-site"
            if cross and origin not in listed:
                return ApiError(403, "forbidden", "cross-site request refused")
        declared = headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return ApiError(400, "invalid_request", "Content-Length is not a number")
            if size > self.settings.max_body_bytes:
                return too_large(self.settings.max_body_bytes)
        return None


def _host_name(host: str) -> str:
    """The name part of a Host header: 'localhost:8000' -> 'localhost', '[::1]:80' -> '::1'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the request body is over {limit} bytes")


def _limited(receive: Receive, limit: int) -> Receive:
    """Count body bytes as they arrive (chunked uploads declare no length)."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return counted


def authorise(request: Request, tokens: Mapping[str, str]) -> str:
    """The author of a write: the token's name, or "local" when no token is configured."""
    if not tokens:
        return "local"
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given:
        name = None
        for token, owner in tokens.items():  # compare with every token: no early exit
            if hmac.compare_digest(given.strip().encode(), token.encode()):
                name = owner
        if name is not None:
            return name
    raise ApiError(
        401,
        "unauthorized",
        "this server needs Authorization: Bearer <token> for writes",
        headers={"WWW-Authenticate": 'Bearer realm="digsync"'},
    )


def require_json(request: Request) -> None:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(
            415, "unsupported_media_type", "send the body as Content-Type: application/json"
        )


async def read_body(request: Request) -> bytes:
    return await request.body()  # the middleware stops it at the size limit


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN or Infinity, valid Unicode, at most 64 levels deep."""
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_refuse_constant)
        _check(data, 0)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {_reason(exc)}") from None
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth + 1)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)
    elif isinstance(value, str):
        value.encode("utf-8")  # a lone surrogate (\ud800) cannot be written to a file
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a number is too large")


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeError):
        return "it is not UTF-8 text, or has a lone surrogate"
    if isinstance(exc, RecursionError):
        return f"nested more than {MAX_DEPTH} levels deep"
    return str(exc).split("\n")[0][:200]


def signature_valid(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """HMAC-SHA256 of the raw body in X-Digsync-Signature (or X-Hub-Signature-256)."""
    given = headers.get("x-digsync-signature") or headers.get("x-hub-signature-256") or ""
    scheme, _, digest = given.strip().partition("=")
    if scheme.lower() != "sha256" or not digest:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, "sha256").hexdigest()
    return hmac.compare_digest(digest.strip().lower().encode(), expected.encode())
