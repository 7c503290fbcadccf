"""A small Treasure Data REST v3 client on the standard library (urllib).

* ``Authorization: TD1 <key>``; the key is never part of a URL, a repr or an error
  message (server messages are redacted too).
* 429 and 5xx answers and network errors are retried with bounded exponential backoff
  (``Retry-After`` respected, capped). Other answers fail at once, naming the action,
  HTTP status, URL and the server's message.
* Job issues carry a ``domain_key``, unique per job, so retrying a POST whose answer was
  lost cannot run the statement twice: TD answers 409 and the job is found by its key.
* Results are read with ``format=json``: TD sends one JSON array per row, one row per
  line; a single JSON array of rows is accepted too.
"""

from __future__ import annotations

import http.client
import json
import random
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .errors import SettingsError, TDApiError, TDJobError, redact

DEFAULT_SERVER = "api.treasuredata.com"
USER_AGENT = "digsync-runtime/1"


def base_url(server: str) -> str:
    """``https://<server>`` for a host name; a full http(s) URL is used as given."""
    text = server.strip()
    if "://" not in text:
        text = "https://" + text
    text = text.rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(f"TD_API_SERVER must be a host name or an http(s) URL, not {server!r}")
    if not text.isprintable() or " " in text:
        raise SettingsError("TD_API_SERVER holds spaces or control characters")
    return text


def segment(name: str) -> str:
    """One URL path segment: every reserved character escaped (``/`` included)."""
    return quote(name, safe="")


class TDClient:
    """REST calls and Trino jobs against one TD endpoint. ``requests`` counts HTTP
    requests sent, ``job_issues`` the jobs issued (a retried issue counts once)."""

    def __init__(
        self,
        api_key: str,
        server: str = DEFAULT_SERVER,
        *,
        timeout: float = 60.0,
        attempts: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        job_timeout: float = 6 * 3600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key or not api_key.isprintable():
            raise SettingsError("the TD API key is empty or holds control characters")
        self._key = api_key
        self.base = base_url(server)
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.job_timeout = job_timeout
        self._sleep = sleep
        self._domain = secrets.token_hex(8)
        self._seq = 0
        self.requests = 0
        self.job_issues = 0

    def __repr__(self) -> str:
        return f"TDClient({self.base!r})"

    # --- HTTP

    def call(
        self,
        action: str,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (),
    ) -> tuple[int, bytes]:
        """One request with retries; statuses in ``accept`` are returned, not raised."""
        url = self.base + path + ("?" + urlencode(query) if query else "")
        data = urlencode(form).encode("utf-8") if form is not None else None
        if data is None and method == "POST":
            data = b""
        headers = {
            "Authorization": f"TD1 {self._key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, response.read()
            except urllib.error.HTTPError as exc:
                status, body, retry_after = exc.code, _read(exc), exc.headers.get("Retry-After")
                exc.close()
                if 200 <= status < 300 or status in accept:
                    return status, body
                if (status == 429 or status >= 500) and attempt < self.attempts:
                    self._sleep(self._delay(attempt, retry_after))
                    continue
                raise TDApiError(action, status, url, self._clean(_message(body))) from None
            except (OSError, http.client.HTTPException) as exc:
                if attempt < self.attempts:
                    self._sleep(self._delay(attempt, None))
                    continue
                reason = getattr(exc, "reason", exc)
                raise TDApiError(action, None, url, self._clean(str(reason))) from None

    def get_json(
        self,
        action: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (),
    ) -> tuple[int, Any]:
        status, body = self.call(action, "GET", path, query=query, accept=accept)
        return status, self._json(action, path, body)

    def _json(self, action: str, path: str, body: bytes) -> Any:
        try:
            return json.loads(body.decode("utf-8"))
        except ValueError:
            raise TDApiError(action, 200, self.base + path, "the answer is not JSON") from None

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after.strip()), self.max_backoff)
        base: float = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)

    def _clean(self, text: str) -> str:
        return redact(text, self._key)

    # --- catalog and databases

    def list_databases(self) -> list[str]:
        _, data = self.get_json("listing databases", "/v3/database/list")
        items = data.get("databases") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise TDApiError("listing databases", 200, self.base, "no 'databases' list")
        return [d["name"] for d in items if isinstance(d, dict) and isinstance(d.get("name"), str)]

    def list_tables(self, database: str) -> list[dict[str, Any]] | None:
        """The tables of a database (each with ``name`` and ``schema``); None if none such."""
        action = f"listing the tables of database {database[:80]!r}"
        status, data = self.get_json(action, "/v3/table/list/" + segment(database), accept=(404,))
        if status == 404:
            return None
        items = data.get("tables") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise TDApiError(action, status, self.base, "no 'tables' list")
        return [t for t in items if isinstance(t, dict) and isinstance(t.get("name"), str)]

    def create_database(self, database: str) -> None:
        """Create a database; one that exists already (409) is fine."""
        self.call(
            f"creating database {database!r}",
            "POST",
            "/v3/database/create/" + segment(database),
            accept=(409,),
        )

    # --- Trino jobs

    def query(self, database: str, sql: str, action: str) -> list[list[Any]]:
        """Run a SELECT and return its rows (lists, in select-list order)."""
        job_id = self.issue(database, sql, action)
        self.wait(job_id, action)
        path = "/v3/job/result/" + segment(job_id)
        _, body = self.call(action + " (result)", "GET", path, query={"format": "json"})
        try:
            return parse_rows(body)
        except ValueError as exc:
            raise TDApiError(action + " (result)", 200, self.base + path, str(exc)) from None

    def execute(self, database: str, sql: str, action: str) -> str:
        """Run a statement to completion; returns the job id."""
        job_id = self.issue(database, sql, action)
        self.wait(job_id, action)
        return job_id

    def issue(self, database: str, sql: str, action: str) -> str:
        self._seq += 1
        key = f"digsync-{self._domain}-{self._seq}"
        self.job_issues += 1
        status, body = self.call(
            action,
            "POST",
            "/v3/job/issue/presto/" + segment(database),
            form={"query": sql, "domain_key": key},
            accept=(409,),
        )
        if status == 409:  # our earlier try got through: find that job by its key
            path = "/v3/job/status_by_domain_key/" + segment(key)
            _, data = self.get_json(action + " (job by domain key)", path)
        else:
            data = self._json(action, "/v3/job/issue/presto", body)
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if job_id is None:
            raise TDApiError(action, status, self.base, "the answer has no job_id")
        return str(job_id)

    def wait(self, job_id: str, action: str) -> None:
        """Poll until the job succeeds; raise TDJobError if it fails or takes too long."""
        waited, interval = 0.0, self.poll_interval
        path = "/v3/job/status/" + segment(job_id)
        while True:
            _, data = self.get_json(action + " (job status)", path)
            status = str(data.get("status")) if isinstance(data, dict) else "?"
            if status == "success":
                return
            if status in ("error", "killed"):
                raise TDJobError(action, job_id, status, self._job_message(job_id))
            if waited >= self.job_timeout:
                raise TDJobError(action, job_id, status, f"still {status} after {waited:.0f} s")
            self._sleep(interval)
            waited += interval
            interval = min(interval * 1.5, self.max_poll_interval)

    def _job_message(self, job_id: str) -> str:
        try:
            _, data = self.get_json("reading the job's error", "/v3/job/show/" + segment(job_id))
        except TDApiError as exc:
            return f"(no details: {exc})"
        debug = data.get("debug") if isinstance(data, dict) else None
        text = ""
        if isinstance(debug, dict):
            text = str(debug.get("stderr") or debug.get("cmdout") or "")
        return self._clean(" ".join(text.split())[-500:] or "(no details)")


def parse_rows(body: bytes) -> list[list[Any]]:
    """Rows of a ``format=json`` result: JSON lines of arrays, or one array of arrays."""
    text = body.decode("utf-8").strip()
    if not text:
        return []
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if whole == []:
        return []
    if isinstance(whole, list) and all(isinstance(r, list) for r in whole):
        return whole
    rows = []
    for line in text.split("\n"):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row, list):
                raise ValueError("a result line is not a JSON array")
            rows.append(row)
    return rows


def _read(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read()
    except (OSError, http.client.HTTPException):
        return b""


def _message(body: bytes) -> str:
    """The server's error message: TD's JSON ``message``/``error``/``text``, or the text."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for field in ("message", "error", "text"):
            if isinstance(data.get(field), str) and data[field]:
                return " ".join(data[field].split())[:500]
    return " ".join(text.split())[:500] or "(empty answer)"
