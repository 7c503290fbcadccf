"""Every error on every endpoint has the one JSON shape: exact keys, code per status."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from fastapi import FastAPI

from digsync.server.app import create_app
from tests.server_fixtures import (
    API,
    CONFIG,
    free_port,
    live_server,
    prepare_workdir,
    serve_app,
    settings_for,
)

TOKEN = "s3cret-token"
SECRET = "hook-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CODES = {
    400: {"invalid_config", "invalid_json", "invalid_request"},
    401: {"unauthorized"},
    403: {"forbidden"},
    404: {"not_found"},
    405: {"method_not_allowed"},
    409: {"rollback_failed"},
    412: {"precondition_failed"},
    413: {"payload_too_large"},
    415: {"unsupported_media_type"},
    500: {"push_failed", "internal_error", "rollback_failed"},
    502: {"target_error"},
}
PLAIN = {"error", "code"}


class Case(NamedTuple):
    method: str
    path: str
    status: int
    code: str
    keys: set[str]
    headers: dict[str, str] = {}  # noqa: RUF012 - never mutated
    body: bytes | None = b"{}"


def sign(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Digsync-Signature": f"sha256={digest}", "Content-Type": "application/json"}


JSON = {"Content-Type": "application/json"}
WRITES = [f"{API}/config", f"{API}/config/validate", f"{API}/preview", f"{API}/rollback"]
BIG = b"{" + b" " * (1024 * 1024) + b"}"


def write_cases() -> list[Case]:
    ok = {**AUTH, **JSON}
    text = {**AUTH, "Content-Type": "text/plain"}
    cases = []
    for path in WRITES:
        cases += [
            Case("POST", path, 401, "unauthorized", PLAIN, JSON, b"{}"),
            Case("POST", path, 401, "unauthorized", PLAIN, {**JSON, "Authorization": "Bearer x"}),
            Case("POST", path, 415, "unsupported_media_type", PLAIN, text, b"{}"),
            Case("POST", path, 415, "unsupported_media_type", PLAIN, AUTH, b"{}"),
            Case("POST", path, 400, "invalid_json", PLAIN, ok, b"{not json"),
            Case("POST", path, 400, "invalid_json", PLAIN, ok, b'{"a": NaN}'),
            Case("POST", path, 413, "payload_too_large", PLAIN, ok, BIG),
            Case("POST", path, 403, "forbidden", PLAIN, {**ok, "Origin": "https://evil.example"}),
            Case("POST", path, 403, "forbidden", PLAIN, {**ok, "Sec-Fetch-Site": "cross-site"}),
            Case("POST", path, 403, "forbidden", PLAIN, {**ok, "Host": "evil.example"}, b"{}"),
        ]
        if path != f"{API}/config":  # GET /config reads it
            cases.append(Case("GET", path, 405, "method_not_allowed", PLAIN, body=None))
    invalid = json.dumps({"semantic_database": {"name": "x"}}).encode()
    problems, stale = {*PLAIN, "problems"}, {*PLAIN, "details", "etag"}
    hook = f"{API}/webhook"
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    cases += [
        Case("POST", f"{API}/config", 400, "invalid_config", problems, ok, invalid),
        Case("POST", f"{API}/preview", 400, "invalid_config", problems, ok, invalid),
        Case("POST", f"{API}/config", 412, "precondition_failed", stale, {**ok, "If-Match": '"0"'}),
        Case("POST", f"{API}/rollback", 409, "rollback_failed", PLAIN, ok, b"{}"),
        Case("POST", f"{API}/rollback", 400, "invalid_request", PLAIN, ok, b'{"revision": 3}'),
        Case("POST", hook, 401, "unauthorized", PLAIN, JSON, b"{}"),
        Case("POST", hook, 401, "unauthorized", PLAIN, {**JSON, "X-Digsync-Signature": "sha256=0"}),
        Case("POST", hook, 415, "unsupported_media_type", PLAIN, {**sign(b"{}"), **text}, b"{}"),
        Case("POST", hook, 400, "invalid_json", PLAIN, sign(b"{x"), b"{x"),
        Case("POST", hook, 413, "payload_too_large", PLAIN, sign(BIG), BIG),
        Case("GET", f"{API}/nothing-here", 404, "not_found", PLAIN, body=None),
        Case("GET", "/static/missing.css", 404, "not_found", PLAIN, body=None),
        Case("PUT", f"{API}/config", 405, "method_not_allowed", PLAIN, ok),
        Case("DELETE", f"{API}/config", 405, "method_not_allowed", PLAIN, body=None),
        Case("OPTIONS", f"{API}/config", 405, "method_not_allowed", PLAIN, preflight),
        Case("POST", "/healthz", 405, "method_not_allowed", PLAIN, ok),
        Case("GET", "/healthz", 403, "forbidden", PLAIN, {"Host": "rebound.example:80"}, None),
    ]
    return cases


def check_shape(r: httpx.Response, status: int, code: str, keys: set[str]) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == keys
    assert body["code"] == code and code in CODES[status]
    assert isinstance(body["error"], str | list) and body["error"]
    if isinstance(body["error"], list):
        assert all(isinstance(e, str) for e in body["error"])
    assert r.headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"
    return dict(body)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return prepare_workdir(tmp_path, monkeypatch)


@pytest.fixture
def url(config: Path) -> Iterator[str]:
    with live_server(config, token=f"alice:{TOKEN}", webhook_secret=SECRET) as base:
        yield base


def test_every_error_case_of_every_endpoint_has_the_one_shape(url: str) -> None:
    seen = set()
    with httpx.Client(base_url=url, timeout=30) as http:
        for case in write_cases():
            r = http.request(case.method, case.path, headers=case.headers, content=case.body)
            check_shape(r, case.status, case.code, case.keys)
            seen.add((case.path, case.status))
    endpoints = {path for path, _ in seen}
    assert set(WRITES) | {f"{API}/webhook", "/healthz"} <= endpoints


def test_invalid_config_lists_each_error_as_key_path_and_message(url: str) -> None:
    body = json.dumps({"semantic_database": {"name": "x"}}).encode()
    r = httpx.post(f"{url}{API}/config", content=body, headers={**AUTH, **JSON})
    shaped = check_shape(r, 400, "invalid_config", {*PLAIN, "problems"})
    assert shaped["error"] == [
        "semantic_database.name: expected a Treasure Data name: 3-255 lowercase letters, "
        "digits and _; got 'x'",
        "scope: missing required section",
        "notifications.on_error.channels: Slack webhooks (channel and secret) cannot be added, "
        "changed or removed through the API (edit the Slack channels in config.yaml on the "
        "server)",
    ]


def test_a_broken_or_missing_config_file_is_an_error_of_the_same_shape(
    url: str, config: Path
) -> None:
    config.write_text("semantic_database: [\n", encoding="utf-8")
    with httpx.Client(base_url=url, timeout=30) as http:
        for path in ("/config", "/status", "/history"):
            body = check_shape(http.get(API + path), 400, "invalid_config", {*PLAIN, "problems"})
            assert body["problems"][0]["line"] == 2
        config.unlink()
        for path in ("/config", "/status", "/history"):
            body = check_shape(http.get(API + path), 404, "not_found", PLAIN)
            assert body["error"] == f"{config}: no such config file (create one with: digsync init)"


def test_push_failure_and_target_errors_have_the_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = prepare_workdir(tmp_path, monkeypatch, CONFIG)
    monkeypatch.setenv("DIGSYNC_RETRY_ATTEMPTS", "1")
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with (
        live_server(config, target="digdag", endpoint=closed) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        data = http.get(f"{API}/config").json()
        saved = check_shape(
            http.post(f"{API}/config", json=data),
            500,
            "push_failed",
            {*PLAIN, "details", "etag", "pending"},
        )
        assert saved["error"] == "Config saved but workflow update failed"
        assert saved["details"].startswith(f"find project failed: GET {closed}/api/projects?name=")
        body = check_shape(http.get(f"{API}/history"), 502, "target_error", {*PLAIN, "details"})
        assert body["details"].startswith("find project failed: GET ")
        body = check_shape(
            http.post(f"{API}/preview", json=data), 502, "target_error", {*PLAIN, "details"}
        )
        rolled = check_shape(
            http.post(f"{API}/rollback", json={}), 500, "rollback_failed", {*PLAIN, "details"}
        )
        assert rolled["details"] == body["details"]


def test_a_bug_is_500_internal_error_without_its_message(config: Path) -> None:
    app = create_app(settings_for(config))

    def broken() -> Any:
        raise RuntimeError("do not show this: /secret/path")

    app.state.service.read = broken
    with serve_app(app) as url:
        r = httpx.get(f"{url}{API}/config")
    body = check_shape(r, 500, "internal_error", PLAIN)
    assert body["error"] == "internal error; the server log has the details"
    assert b"secret" not in r.content and b"Traceback" not in r.content


def test_fastapi_request_validation_errors_have_the_shape(config: Path) -> None:
    app: FastAPI = create_app(settings_for(config))

    @app.get("/api/test/number")
    def number(n: int) -> dict[str, int]:
        return {"n": n}

    with serve_app(app) as url:
        r = httpx.get(f"{url}/api/test/number", params={"n": "many"})
    body = check_shape(r, 400, "invalid_request", PLAIN)
    assert body["error"] == [
        "query.n: Input should be a valid integer, unable to parse string as an integer"
    ]
