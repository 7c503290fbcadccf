"""Unit tests of the REST client alone, with httpx's MockTransport (the end-to-end tests
use the real fake server in tests/fake_digdag.py)."""

from __future__ import annotations

import httpx
import pytest

from digsync.deploy.digdag_api import DigdagClient, RemoteError, RetryPolicy
from tests.push_helpers import FakeTime

FAST = RetryPolicy(attempts=4, base_seconds=0.001, max_backoff_seconds=0.002, total_seconds=5)


def client(
    handler: httpx.MockTransport, clock: FakeTime | None = None, **headers: str
) -> DigdagClient:
    """A client whose retries never wait: ``clock`` (else a fresh FakeTime) records them."""
    clock = clock or FakeTime()
    return DigdagClient(
        "http://server",
        headers,
        retry=FAST,
        transport=handler,
        sleep=clock.sleep,
        clock=clock.clock,
    )


def test_retries_5xx_then_succeeds() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(503, json={"message": "busy", "status": 503})
        return httpx.Response(200, json={"projects": []})

    assert client(httpx.MockTransport(handler)).find_project("p") is None
    assert len(calls) == 3


def test_gives_up_after_bounded_attempts_with_action_status_url_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"message": "boom", "status": 500})

    with pytest.raises(RemoteError) as info:
        client(httpx.MockTransport(handler)).find_project("p")
    assert str(info.value) == (
        "find project failed: 500 from GET http://server/api/projects?name=p: boom "
        "(after 4 attempts)"
    )


def test_does_not_retry_other_4xx() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"message": "bad schedule", "status": 400})

    with pytest.raises(RemoteError) as info:
        client(httpx.MockTransport(handler)).put_project("p", "r1", b"x")
    assert len(calls) == 1
    assert info.value.status == 400
    assert info.value.server_message == "bad schedule"


def test_retries_429_and_connection_errors() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        if len(calls) == 2:
            return httpx.Response(429, json={"message": "slow down"})
        return httpx.Response(200, json={"schedules": []})

    clock = FakeTime()
    assert client(httpx.MockTransport(handler), clock).schedules("1") == []
    assert len(calls) == 3
    # A backoff before each retry, with full jitter up to the policy's cap.
    first, second = clock.sleeps
    assert 0 <= first <= 0.002 and 0 <= second <= 0.002


def test_a_429_waits_what_retry_after_asks() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "2"}, json={"message": "wait"})
        return httpx.Response(200, json={"schedules": []})

    clock = FakeTime()
    assert client(httpx.MockTransport(handler), clock).schedules("1") == []
    assert len(calls) == 2
    assert clock.sleeps == [2.0]


def test_a_retry_after_past_the_deadline_fails_at_once_without_waiting() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, headers={"Retry-After": "2"}, json={"message": "wait"})

    clock = FakeTime()
    with pytest.raises(RemoteError) as info:
        client(httpx.MockTransport(handler), clock).schedules("1")
    # total_seconds=5: waits of 2 s at 0 and 2 s; a third at 4 s would end past 5 s.
    assert clock.sleeps == [2.0, 2.0]
    assert len(calls) == 3
    assert str(info.value) == (
        "read schedules failed: 429 from GET http://server/api/projects/1/schedules: wait "
        "(after 3 attempts)"
    )


def test_push_sends_gzip_and_exact_length_and_the_auth_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "1", "name": "p", "revision": "r1"})

    api = client(httpx.MockTransport(handler), Authorization="TD1 key")
    api.put_project("p", "r1", b"12345", schedule_from="2026-01-01T00:00:00Z")
    (request,) = seen
    assert request.headers["content-type"] == "application/gzip"
    assert request.headers["content-length"] == "5"
    assert request.headers["authorization"] == "TD1 key"
    assert request.url.params["revision"] == "r1"
    assert request.url.params["schedule_from"] == "2026-01-01T00:00:00Z"


def test_secret_key_is_never_in_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": "unauthorized", "status": 401})

    with pytest.raises(RemoteError) as info:
        client(httpx.MockTransport(handler), Authorization="TD1 supersecret").find_project("p")
    assert "supersecret" not in str(info.value)


def test_non_json_error_body_is_shown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html>not here</html>")

    with pytest.raises(RemoteError, match="not here"):
        client(httpx.MockTransport(handler)).revisions("9")


def test_an_archive_in_storage_is_followed_without_the_credential() -> None:
    """Digdag answers 303 to the storage URL when archives live in S3 or GCS."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "server":
            return httpx.Response(303, headers={"Location": "https://storage.example/a.tgz"})
        return httpx.Response(200, content=b"archive bytes")

    api = client(httpx.MockTransport(handler), Authorization="TD1 1/key")
    assert api.archive("1", "r1") == b"archive bytes"
    assert [r.url.host for r in seen] == ["server", "storage.example"]
    assert "Authorization" in seen[0].headers and "Authorization" not in seen[1].headers


def test_a_500_when_setting_a_secret_names_the_server_s_encryption_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="Internal Server Error")

    with pytest.raises(RemoteError) as info:
        client(httpx.MockTransport(handler)).put_secret("1", "slack.hook", "https://x")
    assert str(info.value) == (
        "set secret slack.hook failed: 500 from PUT http://server/api/projects/1/secrets/"
        "slack.hook: Internal Server Error (after 4 attempts) (a self-hosted Digdag server "
        "stores secrets only "
        "with digdag.secret-encryption-key set in its config)"
    )
    assert "https://x" not in str(info.value)
