"""Token auth, loopback-only without a token, size and media type limits, cross-site
refusal, CORS off by default, the webhook signature and its debounce, and logs."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from digsync.cli import main
from digsync.deploy.targets.pool import TargetChoice
from digsync.errors import InputError
from digsync.history.ledger import Ledger
from digsync.server import _NoQuery, run_server
from digsync.server.app import create_app
from digsync.server.settings import ServerSettings, is_loopback, parse_tokens
from tests.server_fixtures import (
    API,
    PROJECT,
    WEBHOOK,
    live_server,
    prepare_workdir,
    serve_app,
    settings_for,
)

SECRET = "webhook-shared-secret"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return prepare_workdir(tmp_path, monkeypatch)


def signed(body: bytes, header: str = "X-Digsync-Signature") -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {header: f"sha256={digest}", "Content-Type": "application/json"}


def test_with_a_token_every_write_needs_it_and_the_audit_names_its_owner(config: Path) -> None:
    with (
        live_server(config, token="alice:tok-a,bob:tok-b") as url,
        httpx.Client(base_url=url) as http,
    ):
        data = http.get(f"{API}/config").json()  # reads need no token
        for path in ("/config", "/config/validate", "/preview", "/rollback"):
            r = http.post(API + path, json=data)
            assert r.status_code == 401, path
            assert r.headers["WWW-Authenticate"] == 'Bearer realm="digsync"'
        wrong = http.post(f"{API}/config", json=data, headers={"Authorization": "Bearer tok-c"})
        assert wrong.status_code == 401
        basic = http.post(f"{API}/config", json=data, headers={"Authorization": "Basic tok-a"})
        assert basic.status_code == 401
        ok = http.post(f"{API}/config", json=data, headers={"Authorization": "Bearer tok-b"})
        assert ok.status_code == 200
        history = http.get(f"{API}/history").json()
        assert history["audit"][0]["who"] == "bob"
        assert history["revisions"][0]["who"] == "bob"  # the push ledger names the token too
        data["sync"]["schedule"]["frequency"] = "hourly"
        bob = {"Authorization": "Bearer tok-b"}
        assert http.post(f"{API}/config", json=data, headers=bob).status_code == 200
        alice = {"Authorization": "Bearer tok-a"}
        assert http.post(f"{API}/rollback", json={}, headers=alice).status_code == 200
        history = http.get(f"{API}/history").json()
        assert (history["audit"][0]["who"], history["revisions"][0]["who"]) == ("alice", "alice")


def test_tokens_parse_as_one_bare_token_or_named_ones() -> None:
    assert parse_tokens("") == {}
    assert parse_tokens("abc") == {"abc": "api"}
    assert parse_tokens("alice:t1, bob:t2") == {"t1": "alice", "t2": "bob"}
    with pytest.raises(InputError, match="DIGSYNC_API_TOKEN: expected a token"):
        parse_tokens("alice:")


def test_serve_refuses_a_non_loopback_address_without_a_token(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InputError) as caught:
        run_server(str(config), "0.0.0.0", 8000, TargetChoice())
    assert str(caught.value) == (
        "--host 0.0.0.0: refusing to serve beyond this machine without a token; "
        "set DIGSYNC_API_TOKEN (writes then need Authorization: Bearer <token>), "
        "or use --host 127.0.0.1"
    )
    assert main(["serve", "--config", str(config), "--host", "192.0.2.10"]) == 2
    assert "refusing to serve beyond this machine" in capsys.readouterr().err


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "example.com"))


def test_a_body_over_one_mib_is_413_declared_or_streamed(config: Path) -> None:
    big = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    with live_server(config) as url:
        declared = httpx.post(
            f"{url}{API}/config", content=big, headers={"Content-Type": "application/json"}
        )
        streamed = httpx.post(
            f"{url}{API}/config", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert declared.status_code == streamed.status_code == 413
    assert declared.json()["error"] == "the request body is over 1048576 bytes"
    assert streamed.json()["code"] == "payload_too_large"


def test_only_json_is_accepted(config: Path) -> None:
    with live_server(config) as url:
        for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
            r = httpx.post(f"{url}{API}/config", content=b"{}", headers={"Content-Type": kind})
            assert (r.status_code, r.json()["code"]) == (415, "unsupported_media_type"), kind
        utf8 = httpx.post(
            f"{url}{API}/config/validate",
            content=b"{}",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        assert utf8.status_code == 200


def test_cross_site_writes_are_refused_and_same_origin_ones_pass(config: Path) -> None:
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config").json()
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "http://localhost:1"},  # same site, other origin
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
        ):
            r = http.post(f"{API}/config", json=data, headers=headers)
            assert (r.status_code, r.json()) == (
                403,
                {"error": "cross-site request refused", "code": "forbidden"},
            ), headers
        same = http.post(
            f"{API}/config", json=data, headers={"Origin": url, "Sec-Fetch-Site": "same-origin"}
        )
        assert same.status_code == 200
        rebound = http.get(f"{API}/config", headers={"Host": "attacker.example"})
        assert rebound.status_code == 403  # DNS rebinding: a foreign Host is not served


def test_cors_headers_are_absent_unless_origins_are_configured(config: Path) -> None:
    preflight = {"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"}
    with live_server(config) as url:
        get = httpx.get(f"{url}{API}/config", headers={"Origin": "https://ui.example"})
        options = httpx.options(f"{url}{API}/config", headers=preflight)
    assert not any(h.lower().startswith("access-control-") for h in get.headers)
    assert not any(h.lower().startswith("access-control-") for h in options.headers)
    assert options.status_code == 405
    with live_server(config, cors_origins=("https://ui.example",)) as url:
        options = httpx.options(f"{url}{API}/config", headers=preflight)
        post = httpx.post(
            f"{url}{API}/config/validate", json={}, headers={"Origin": "https://ui.example"}
        )
        other = httpx.post(
            f"{url}{API}/config/validate", json={}, headers={"Origin": "https://evil.example"}
        )
        evil = {**preflight, "Origin": "https://evil.example"}
        refused = httpx.options(f"{url}{API}/config", headers=evil)
    assert (refused.status_code, refused.json()["code"]) == (405, "method_not_allowed")
    assert "access-control-allow-origin" not in refused.headers
    assert options.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    assert post.status_code == 200
    assert post.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    assert other.status_code == 403


def test_security_headers_on_every_answer(config: Path) -> None:
    with live_server(config) as url:
        answers = [
            httpx.get(f"{url}/"),
            httpx.get(f"{url}/healthz"),
            httpx.get(f"{url}{API}/config"),
            httpx.get(f"{url}/nope"),
        ]
    for r in answers:
        assert r.headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert "server" not in r.headers
    assert answers[2].headers["Cache-Control"] == "no-store"


def test_webhook_refuses_unsigned_and_badly_signed_calls(config: Path) -> None:
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    with live_server(config, webhook_secret=SECRET) as url:
        hook = f"{url}{API}/webhook"
        unsigned = httpx.post(hook, content=body, headers={"Content-Type": "application/json"})
        bad = httpx.post(hook, content=body + b" ", headers=signed(body))
        wrong_scheme = httpx.post(
            hook, content=body, headers={**signed(body), "X-Digsync-Signature": "sha1=00"}
        )
        good = httpx.post(hook, content=body, headers=signed(body))
        github = httpx.post(hook, content=body, headers=signed(body, "X-Hub-Signature-256"))
    for r in (unsigned, bad, wrong_scheme):
        assert (r.status_code, r.json()) == (
            401,
            {"error": "webhook refused: bad or missing signature", "code": "unauthorized"},
        )
    assert (good.status_code, good.json()) == (202, {"accepted": True})
    assert github.status_code == 202
    with live_server(config) as url:  # no secret configured: the webhook is off
        off = httpx.post(f"{url}{API}/webhook", content=body, headers=signed(body))
    assert off.json()["error"] == "webhook refused: DIGSYNC_WEBHOOK_SECRET is not set"


def test_a_burst_of_webhook_calls_is_one_push(config: Path) -> None:
    # a window far longer than the burst takes, ended by hand: no race with the clock
    app = create_app(settings_for(config, webhook_secret=SECRET, webhook_debounce=600.0))
    ledger = Ledger(config.parent / ".digsync", PROJECT)
    with serve_app(app) as url:
        config.write_text(config.read_text().replace("03:00:00", "05:00:00"))  # a git pull
        for i in range(10):
            body = json.dumps({"delivery": i}).encode()
            r = httpx.post(f"{url}{API}/webhook", content=body, headers=signed(body))
            assert r.status_code == 202
        assert app.state.webhook.runs == 0  # still gathering
        app.state.webhook.flush()
        assert app.state.webhook.wait_idle(timeout=60)
        audit = httpx.get(f"{url}{API}/history").json()["audit"]
    assert app.state.webhook.runs == 1
    assert [(a["action"], a["who"], a["result"]) for a in audit] == [
        ("webhook", "webhook", "pushed")
    ]
    assert [e["result"] for e in ledger.entries()] == ["pushed"]
    dig = (config.parent / "workflows" / PROJECT / f"{PROJECT}.dig").read_text()
    assert 'daily>: "05:00:00"' in dig


def test_a_webhook_for_an_invalid_config_pushes_nothing(config: Path) -> None:
    app = create_app(settings_for(config, webhook_secret=SECRET, webhook_debounce=0.0))
    with serve_app(app) as url:
        config.write_text(config.read_text().replace("frequency: daily", "frequency: dayly"))
        assert (
            httpx.post(f"{url}{API}/webhook", content=b"{}", headers=signed(b"{}")).status_code
            == 202
        )
        assert app.state.webhook.wait_idle(timeout=60)
    records = app.state.service.audit.entries()
    assert [(r["action"], r["result"]) for r in records] == [("webhook", "invalid")]
    assert "sync.schedule.frequency: expected one of" in records[0]["message"]
    assert not (config.parent / "workflows").exists()


def test_a_call_accepted_before_shutdown_is_still_pushed(config: Path) -> None:
    app = create_app(settings_for(config, webhook_secret=SECRET, webhook_debounce=600.0))
    with serve_app(app) as url:
        config.write_text(config.read_text().replace("03:00:00", "06:00:00"))
        assert (
            httpx.post(f"{url}{API}/webhook", content=b"{}", headers=signed(b"{}")).status_code
            == 202
        )
    assert app.state.webhook.runs == 1  # the server's shutdown ran the pending push
    dig = (config.parent / "workflows" / PROJECT / f"{PROJECT}.dig").read_text()
    assert 'daily>: "06:00:00"' in dig


def test_access_logs_carry_no_query_string_and_no_body(
    config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/semantic-layer/config?token=leak", "1.1", 200), None,
    )  # fmt: skip
    assert _NoQuery().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /api/semantic-layer/config HTTP/1.1" 200'
    caplog.set_level(logging.DEBUG)
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config?x=1").json()
        data["notifications"]["on_error"]["channels"][0]["channel"] = WEBHOOK
        assert http.post(f"{API}/config", json=data).status_code == 200
    assert WEBHOOK not in caplog.text


def test_settings_from_the_environment(config: Path) -> None:
    env = {
        "DIGSYNC_API_TOKEN": "ci:abc",
        "DIGSYNC_WEBHOOK_SECRET": "s",
        "DIGSYNC_WEBHOOK_DEBOUNCE": "0.5",
        "DIGSYNC_CORS_ORIGINS": "https://a.example, https://b.example",
        "DIGSYNC_ALLOWED_HOSTS": "digsync.internal",
    }
    s = ServerSettings.from_env(config, host="127.0.0.1", env=env)
    assert (s.tokens, s.webhook_secret, s.webhook_debounce) == ({"abc": "ci"}, "s", 0.5)
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.allowed_hosts is not None and "digsync.internal" in s.allowed_hosts
    assert ServerSettings.from_env(config, host="0.0.0.0", env=env).allowed_hosts is None
    with pytest.raises(InputError, match="DIGSYNC_WEBHOOK_DEBOUNCE: expected seconds"):
        ServerSettings.from_env(config, env={"DIGSYNC_WEBHOOK_DEBOUNCE": "soon"})


LOCKED_EDITS = [
    ("target", {"type": "digdag", "endpoint": "https://collector.example"}, "the push target"),
    ("warehouse", {"type": "sqlite", "path": "/etc"}, "the warehouse the tasks read and write"),
    ("workflow.project", "other_teams_project", "the project pushed to"),
    ("workflow.source", "../../etc/collector.dig", "the hand-written workflow pushed"),
    (
        "workflow.td_api_server",
        "http://collector.example",
        "the API host the tasks send the TD key to",
    ),
    (
        "workflow.docker_image",
        "collector.example/steal:latest",
        "the image the tasks run in, with the TD key",
    ),
]


@pytest.mark.parametrize(("key", "value", "what"), LOCKED_EDITS)
def test_where_pushes_files_and_keys_go_cannot_be_changed_through_the_api(
    config: Path, key: str, value: object, what: str
) -> None:
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config").json()
        section, _, name = key.partition(".")
        if name:
            data.setdefault(section, {})[name] = value
        else:
            data[section] = value
        for path in ("/config", "/preview", "/config/validate"):
            r = http.post(API + path, json=data)
            body = r.json()
            errors = body["error"] if r.status_code == 400 else [e["text"] for e in body["errors"]]
            expected = (
                f"{key}: {what} cannot be changed through the API (edit {key} in config.yaml "
                "on the server)"
            )
            assert expected in errors, (path, errors)
        assert "collector" not in config.read_text() and "/etc" not in config.read_text()


def test_slack_webhooks_cannot_be_added_changed_or_removed_through_the_api(config: Path) -> None:
    message = (
        "notifications.on_error.channels: Slack webhooks (channel and secret) cannot be added, "
        "changed or removed through the API (edit the Slack channels in config.yaml on the "
        "server)"
    )
    before = config.read_bytes()
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        stored = http.get(f"{API}/config").json()
        edits = []
        for change in ("add", "url", "secret", "remove"):
            data = copy.deepcopy(stored)
            channels = data["notifications"]["on_error"]["channels"]
            if change == "add":
                channels.append({"type": "slack", "channel": "https://hooks.slack.com/x/y"})
            elif change == "url":
                channels[0]["channel"] = "https://collector.example/hook"
            elif change == "secret":
                channels[0] = {"type": "slack", "secret": "td.apikey"}
            else:
                channels.clear()
            edits.append(data)
        for data in edits:
            r = http.post(f"{API}/config", json=data)
            assert r.status_code == 400 and message in r.json()["error"], r.json()
        kept = copy.deepcopy(stored)
        kept["notifications"]["on_error"]["channels"][0]["message_template"] = (
            "failed: ${error.message}"
        )
        kept["notifications"]["on_error"]["channels"].append(
            {"type": "email", "recipients": ["team@example.com"]}
        )
        assert http.post(f"{API}/config", json=kept).status_code == 200  # the rest is editable
    assert config.read_bytes() != before
