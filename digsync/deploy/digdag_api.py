"""A small client for the Digdag REST API (Treasure Data Workflow speaks the same).

Retries 5xx, 429 and connection failures with exponential backoff and jitter inside
a bounded total time (waiting at least what a Retry-After header asks); other 4xx
fail at once. Every failure names the action, the
status, the method and URL, and the server's own message. Credentials live only in
request headers and are never part of a message.
"""

from __future__ import annotations

import os
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

import httpx

from digsync import __version__
from digsync.errors import RemoteError

__all__ = ["RemoteError"]  # raised by every request here; defined in digsync.errors


class RetryPolicy(NamedTuple):
    attempts: int = 5
    base_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    total_seconds: float = 60.0
    timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """Defaults, adjustable with DIGSYNC_RETRY_* and DIGSYNC_HTTP_TIMEOUT (seconds)."""
        env = os.environ
        base = cls()

        def number(name: str, default: float) -> float:
            try:
                return float(env[name]) if name in env else default
            except ValueError:
                return default

        return cls(
            attempts=int(number("DIGSYNC_RETRY_ATTEMPTS", base.attempts)),
            base_seconds=number("DIGSYNC_RETRY_BASE", base.base_seconds),
            max_backoff_seconds=number("DIGSYNC_RETRY_MAX_BACKOFF", base.max_backoff_seconds),
            total_seconds=number("DIGSYNC_RETRY_TOTAL", base.total_seconds),
            timeout_seconds=number("DIGSYNC_HTTP_TIMEOUT", base.timeout_seconds),
        )

    def backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base * 2^attempt, capped."""
        return random.uniform(0, min(self.max_backoff_seconds, self.base_seconds * 2**attempt))


_EXAMPLE_ENDPOINT = "https://api-workflow.treasuredata.com"
_TLS: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~50 ms."""
    global _TLS
    if _TLS is None:
        import certifi

        _TLS = ssl.create_default_context(cafile=certifi.where())
    return _TLS


PUSH_TIMEOUT_ENV = "DIGSYNC_PUSH_TIMEOUT"
DEFAULT_PUSH_SECONDS = 180.0
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("digsync_deadline", default=None)


def push_seconds() -> float:
    """How long one push may take: $DIGSYNC_PUSH_TIMEOUT, else 180 s."""
    try:
        return float(os.environ.get(PUSH_TIMEOUT_ENV, DEFAULT_PUSH_SECONDS))
    except ValueError:
        return DEFAULT_PUSH_SECONDS


@contextmanager
def bounded(seconds: float | None = None) -> Iterator[None]:
    """Every request made inside (in this thread) ends by one deadline: a push of many
    requests, each with its own retries, still ends in ``seconds`` (default
    $DIGSYNC_PUSH_TIMEOUT, else 180)."""
    if seconds is None:
        seconds = push_seconds()
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _retry_after(response: httpx.Response) -> float:
    """Seconds a 429 or 503 asks the client to wait (Retry-After in seconds), else 0."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:  # an HTTP date: the backoff stands in for it
        return 0.0


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] if text else response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(body)[:500]


class DigdagClient:
    """Typed calls for the endpoints digsync needs; one connection pool per client.

    ``sleep`` waits between retries and ``clock`` tells the time their deadline is
    counted in: the real ones unless a test passes fakes. A fake clock keeps
    time.monotonic's time base (it may run ahead of it): :func:`bounded` sets a push's
    deadline with time.monotonic.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        auth_hint: str = "",
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_hint = auth_hint  # the next step after a 401 or 403
        self.retry = retry or RetryPolicy.from_env()
        self._sleep, self._clock = sleep, clock
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"User-Agent": f"digsync/{__version__}", **(headers or {})},
            timeout=self.retry.timeout_seconds,
            transport=transport,
            verify=_tls_context() if self.base_url.startswith("https:") else False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DigdagClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        action: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        follow_redirects: bool = False,
    ) -> httpx.Response:
        """Send with retries; return the response whose status is in ok, else raise."""
        request = self._http.build_request(
            method, path, params=params, content=content, json=json, headers=headers
        )
        url = str(request.url)
        deadline = self._clock() + self.retry.total_seconds
        bound = _DEADLINE.get()
        stopped = ""  # what to add when the push's own deadline is the one that ends this
        if bound is not None and bound[0] <= deadline:
            deadline = bound[0]
            stopped = f"; stopped: the push took longer than {bound[1]:g} s ({PUSH_TIMEOUT_ENV})"
        attempt = 0
        while True:
            asked = 0.0
            left = deadline - self._clock()
            if stopped and left <= 0:
                raise RemoteError(action, method, url, None, stopped.removeprefix("; "))
            request.extensions["timeout"] = httpx.Timeout(
                min(self.retry.timeout_seconds, max(left, 0.001))
            ).as_dict()
            try:
                response = self._http.send(request, follow_redirects=follow_redirects)
            except httpx.TransportError as exc:
                status, message = (
                    None,
                    f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                )
            else:
                if response.status_code in ok:
                    return response
                status, message = response.status_code, _server_message(response)
                if not _retryable(status):
                    if status in (401, 403) and self.auth_hint:
                        message = f"{message} ({self.auth_hint})"
                    raise RemoteError(action, method, url, status, message)
                asked = _retry_after(response)
            attempt += 1
            wait = max(self.retry.backoff(attempt), asked)
            if attempt >= self.retry.attempts or self._clock() + wait > deadline:
                tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                late = stopped if self._clock() + wait > deadline else ""
                raise RemoteError(action, method, url, status, message + tries + late)
            self._sleep(wait)

    def _json(
        self, action: str, method: str, path: str, key: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The answer as a JSON object (with a list under ``key``); anything else, such
        as a web page from a wrong --endpoint, is a RemoteError that says so."""
        response = self.request(action, method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or (key is not None and not isinstance(body.get(key), list)):
            kind = response.headers.get("Content-Type") or "no content type"
            text = " ".join(response.text.split())[:80]
            raise RemoteError(
                action,
                method,
                str(response.request.url),
                response.status_code,
                f"the answer is not the Digdag API's ({kind}: {text!r}); check that the "
                f"endpoint is a workflow API server such as {_EXAMPLE_ENDPOINT}",
            )
        return body

    def _items(self, action: str, path: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        body = self._json(action, "GET", path, key, **kwargs)
        return [dict(item) for item in body[key] if isinstance(item, dict)]

    def _check_project(self, action: str, method: str, url: str, found: dict[str, Any]) -> None:
        missing = [k for k in ("id", "name", "revision") if found.get(k) in (None, "")]
        if missing:
            raise RemoteError(
                action, method, url, 200, f"the project in the answer has no {', '.join(missing)}"
            )

    # --- endpoints ------------------------------------------------------------------

    def find_project(self, name: str) -> dict[str, Any] | None:
        params = {"name": name}
        for project in self._items("find project", "/api/projects", "projects", params=params):
            if project.get("name") == name:
                url = f"{self.base_url}/api/projects?name={name}"
                self._check_project("find project", "GET", url, project)
                return project
        return None

    def list_projects(self, last_id: str | None = None, count: int = 100) -> list[dict[str, Any]]:
        """One page of every project: ids above last_id, lowest first (Digdag 0.10's paging;
        an older server may ignore last_id and count)."""
        params = {"count": str(count)}
        if last_id is not None:
            params["last_id"] = last_id
        return self._items("list projects", "/api/projects", "projects", params=params)

    def revisions(self, project_id: str) -> list[dict[str, Any]]:
        return self._items("list revisions", f"/api/projects/{project_id}/revisions", "revisions")

    def archive(self, project_id: str, revision: str) -> bytes:
        path = f"/api/projects/{project_id}/archive"
        params = {"revision": revision, "direct_download": "false"}
        # With archives in storage (S3, GCS) Digdag answers 303 to the storage URL; httpx
        # drops the Authorization header when a redirect leaves the server's origin.
        return self.request(
            "download archive", "GET", path, params=params, follow_redirects=True
        ).content

    def workflows(self, project_id: str) -> list[dict[str, Any]]:
        return self._items("list workflows", f"/api/projects/{project_id}/workflows", "workflows")

    def schedules(self, project_id: str) -> list[dict[str, Any]]:
        return self._items("read schedules", f"/api/projects/{project_id}/schedules", "schedules")

    def put_project(
        self, name: str, revision: str, archive: bytes, schedule_from: str | None = None
    ) -> dict[str, Any]:
        params = {"project": name, "revision": revision}
        if schedule_from:
            params["schedule_from"] = schedule_from
        headers = {"Content-Type": "application/gzip", "Content-Length": str(len(archive))}
        reply = self._json(
            "push", "PUT", "/api/projects", params=params, content=archive, headers=headers
        )
        url = f"{self.base_url}/api/projects?project={name}&revision={revision}"
        self._check_project("push", "PUT", url, reply)
        return reply

    def put_secret(self, project_id: str, key: str, value: str) -> None:
        path = f"/api/projects/{project_id}/secrets/{key}"
        try:
            self.request(f"set secret {key}", "PUT", path, json={"value": value}, ok=(200, 204))
        except RemoteError as exc:
            if exc.status != 500:
                raise
            # A server started without a secret key refuses every secret with a bare 500.
            raise RemoteError(
                exc.action,
                exc.method,
                exc.url,
                exc.status,
                f"{exc.server_message} (a self-hosted Digdag server stores secrets only with "
                "digdag.secret-encryption-key set in its config)",
            ) from None

    def secret_keys(self, project_id: str) -> list[str]:
        items = self._items("list secrets", f"/api/projects/{project_id}/secrets", "secrets")
        return [str(item.get("key")) for item in items]
