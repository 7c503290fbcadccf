"""A fake Treasure Data REST API (v3) on 127.0.0.1, for the runtime's tests and benchmark.

It speaks the parts the runtime uses, in TD's shapes:

* ``GET /v3/database/list`` -> ``{"databases": [{"name": ...}, ...]}``;
  ``POST /v3/database/create/<db>`` (409 when it exists);
* ``GET /v3/table/list/<db>`` -> ``{"tables": [{"name": ..., "schema": "<JSON string of
  [name, type, alias] triples>"}]}`` (404 for an unknown database);
* ``POST /v3/job/issue/presto/<db>`` with form fields ``query`` and ``domain_key`` ->
  ``{"job_id": "..."}`` (409 for a domain key seen before);
  ``GET /v3/job/status/<id>`` and ``/v3/job/status_by_domain_key/<key>``: each status
  poll moves a job on: ``queued`` -> ``running`` -> ``success`` or ``error``;
  ``GET /v3/job/show/<id>`` carries the error in ``debug.stderr``;
  ``GET /v3/job/result/<id>?format=json``: one JSON array per row, one row per line.

Jobs really run: each database is an in-memory SQLite database, and a job's Trino-style
statement is checked and translated (``U&'...'`` Unicode literals become plain ones),
then executed there, so writes are observable with ``sql()``. The checks are strict where
the runtime must be careful: one statement per job (a ``;`` outside a literal fails), no
raw control characters in literals, no ``?`` parameters, no UPDATE/MERGE/upsert syntax,
no DELETE without WHERE. Source tables (``add_table``) are catalog entries only.

Faults: ``fail`` answers an error without processing; ``lose_answer`` processes the
request, then answers 500 (the work is done, the client does not know); ``fail_jobs``
makes jobs whose statement contains a text end in ``error``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

API_KEY = "test-td-key-0123456789"
_TD_TYPES = {"varchar": "string", "bigint": "long", "double": "double", "integer": "int"}
_FIRST_WORDS = ("select", "with", "insert", "delete", "create", "drop")
_FORBIDDEN = re.compile(
    r"\b(on\s+conflict|insert\s+or|replace\s+into|update|merge|pragma|attach)\b", re.I
)


class FakeSqlError(Exception):
    """A statement Trino (or this fake) would refuse; the job ends in ``error``."""


class _Db:
    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        self.declared: dict[str, list[list[str]]] = {}
        """Catalog-only tables: name -> [[column, type, alias], ...]."""


@dataclass
class Job:
    job_id: str
    database: str
    query: str
    domain_key: str | None
    status: str = "queued"
    polls: int = 0
    rows: list[list[Any]] = field(default_factory=list)
    error: str | None = None


@dataclass
class _Fault:
    kind: str  # "fail" or "lose"
    method: str | None
    path_prefix: str
    remaining: int
    status: int = 500
    retry_after: str | None = None
    query_contains: str | None = None

    def matches(self, method: str, path: str, form: dict[str, str]) -> bool:
        if self.method not in (None, method) or not path.startswith(self.path_prefix):
            return False
        return self.query_contains is None or self.query_contains in form.get("query", "")


class FakeTD:
    """A running fake TD API; ``url`` is its base URL. Close it, or use ``with``."""

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        polls_queued: int = 1,
        polls_running: int = 1,
        result_format: str = "lines",
    ) -> None:
        self.api_key = api_key
        self.polls_queued = polls_queued
        self.polls_running = polls_running
        self.result_format = result_format
        self._lock = threading.RLock()
        self.databases: dict[str, _Db] = {}
        self.jobs: dict[str, Job] = {}
        self.domain_keys: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        self.statements: list[str] = []
        """Every statement that ran successfully, in order."""
        self._faults: list[_Fault] = []
        self._job_faults: list[tuple[str, int, str]] = []
        self._next_id = 1000
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeTD:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the warehouse, as tests set it up and inspect it

    def add_database(self, name: str) -> None:
        with self._lock:
            self.databases.setdefault(name, _Db())

    def add_table(self, database: str, table: str, columns: list[tuple[str, str]]) -> None:
        """A source table (catalog entry) with (name, TD type) columns; replaces one."""
        with self._lock:
            self.add_database(database)
            self.databases[database].declared[table] = [[c, t, c] for c, t in columns]

    def drop_table(self, database: str, table: str) -> None:
        with self._lock:
            del self.databases[database].declared[table]

    def sql(self, database: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read (or change) a database directly, bypassing the API."""
        with self._lock:
            return self.databases[database].conn.execute(query, params).fetchall()

    @property
    def job_issues(self) -> int:
        with self._lock:
            return len(self.jobs)

    def clear_counters(self) -> None:
        with self._lock:
            self.requests.clear()
            self.statements.clear()
            self.jobs.clear()

    # --- faults

    def fail(
        self,
        method: str | None = None,
        path_prefix: str = "/",
        status: int = 500,
        times: int = 1,
        retry_after: str | None = None,
    ) -> None:
        """The next ``times`` matching requests get ``status``, unprocessed."""
        with self._lock:
            self._faults.append(_Fault("fail", method, path_prefix, times, status, retry_after))

    def lose_answer(
        self,
        method: str | None = None,
        path_prefix: str = "/",
        times: int = 1,
        query_contains: str | None = None,
    ) -> None:
        """The next ``times`` matching requests (with ``query_contains`` in the form's
        ``query``, if given) are processed, then answered with 500."""
        with self._lock:
            self._faults.append(
                _Fault("lose", method, path_prefix, times, query_contains=query_contains)
            )

    def fail_jobs(self, contains: str, times: int = 1, message: str = "injected failure") -> None:
        """The next ``times`` jobs whose statement contains ``contains`` end in error."""
        with self._lock:
            self._job_faults.append((contains, times, message))

    def _take_fault(self, method: str, path: str, form: dict[str, str]) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, form):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _job_fault(self, query: str) -> str | None:
        for index, (contains, times, message) in enumerate(self._job_faults):
            if contains in query:
                if times <= 1:
                    del self._job_faults[index]
                else:
                    self._job_faults[index] = (contains, times - 1, message)
                return message
        return None

    # --- the API

    def handle(
        self, method: str, parts: list[str], query: dict[str, str], form: dict[str, str]
    ) -> tuple[int, Any]:
        """Route one request: (status, JSON payload or bytes)."""
        with self._lock:
            route = (method, *parts[:3])
            if route == ("GET", "v3", "database", "list"):
                names = sorted(self.databases)
                return 200, {"databases": [{"name": n, "count": 0} for n in names]}
            if route == ("POST", "v3", "database", "create") and len(parts) == 4:
                if parts[3] in self.databases:
                    return 409, {"error": "AlreadyExists", "message": "Database already exists"}
                self.add_database(parts[3])
                return 200, {"database": parts[3]}
            if route == ("GET", "v3", "table", "list") and len(parts) == 4:
                return self._tables(parts[3])
            if route == ("POST", "v3", "job", "issue") and len(parts) == 5 and parts[3] == "presto":
                return self._issue(parts[4], form)
            if route == ("GET", "v3", "job", "status") and len(parts) == 4:
                return self._status(self.jobs.get(parts[3]))
            if route == ("GET", "v3", "job", "status_by_domain_key") and len(parts) == 4:
                return self._status(self.jobs.get(self.domain_keys.get(parts[3], "")))
            if route == ("GET", "v3", "job", "show") and len(parts) == 4:
                job = self.jobs.get(parts[3])
                if job is None:
                    return 404, {"message": "Job not found"}
                return 200, {**self._job_json(job), "debug": {"stderr": job.error or ""}}
            if route == ("GET", "v3", "job", "result") and len(parts) == 4:
                return self._result(self.jobs.get(parts[3]), query.get("format"))
            return 404, {"error": "NotFound", "message": f"no route {method} /{'/'.join(parts)}"}

    def _tables(self, database: str) -> tuple[int, Any]:
        db = self.databases.get(database)
        if db is None:
            return 404, {"error": "NotFound", "message": f"Database '{database}' does not exist"}
        tables = [{"name": n, "schema": json.dumps(s)} for n, s in db.declared.items()]
        for (name,) in db.conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            info = db.conn.execute("SELECT name, type FROM pragma_table_info(?)", (name,))
            schema = [[c, _TD_TYPES.get(t.lower(), "string"), c] for c, t in info if c != "time"]
            tables.append({"name": name, "schema": json.dumps(schema)})
        return 200, {"database": database, "tables": sorted(tables, key=lambda t: t["name"])}

    def _issue(self, database: str, form: dict[str, str]) -> tuple[int, Any]:
        if database not in self.databases:
            return 404, {"error": "NotFound", "message": f"Database '{database}' does not exist"}
        if "query" not in form:
            return 422, {"error": "Invalid", "message": "query is required"}
        key = form.get("domain_key")
        if key and key in self.domain_keys:
            return 409, {"error": "Conflict", "message": "Domain key has already been taken"}
        self._next_id += 1
        job = Job(str(self._next_id), database, form["query"], key)
        self.jobs[job.job_id] = job
        if key:
            self.domain_keys[key] = job.job_id
        return 200, {"job": job.job_id, "job_id": job.job_id, "database": database}

    def _status(self, job: Job | None) -> tuple[int, Any]:
        if job is None:
            return 404, {"error": "NotFound", "message": "Job not found"}
        job.polls += 1
        if job.status == "queued" and job.polls >= self.polls_queued:
            job.status, job.polls = "running", 0
        elif job.status == "running" and job.polls >= self.polls_running:
            self._run(job)
        return 200, self._job_json(job)

    def _job_json(self, job: Job) -> dict[str, Any]:
        done = job.status in ("success", "error")
        return {
            "job_id": job.job_id,
            "status": job.status,
            "type": "presto",
            "database": job.database,
            "created_at": "2026-01-01 00:00:00 UTC",
            "num_records": len(job.rows) if done else None,
        }

    def _run(self, job: Job) -> None:
        injected = self._job_fault(job.query)
        if injected is not None:
            job.status, job.error = "error", injected
            return
        db = self.databases[job.database]
        try:
            statement = translate(job.query)
            with db.conn:
                cursor = db.conn.execute(statement)
                job.rows = [list(row) for row in cursor.fetchall()]
        except (FakeSqlError, sqlite3.Error) as exc:
            job.status, job.error = "error", f"Query failed: {exc}"
            return
        job.status = "success"
        self.statements.append(job.query)

    def _result(self, job: Job | None, fmt: str | None) -> tuple[int, Any]:
        if job is None:
            return 404, {"message": "Job not found"}
        if job.status != "success":
            return 422, {"message": f"job is {job.status}"}
        if fmt != "json":
            return 422, {"message": f"this fake speaks format=json only, not {fmt!r}"}
        if self.result_format == "array":
            return 200, json.dumps(job.rows, ensure_ascii=False).encode("utf-8")
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in job.rows)
        return 200, text.encode("utf-8")


# --- Trino-ish SQL -> SQLite -------------------------------------------------------------


_TOKEN = re.compile(
    r"(?P<ulit>[Uu]&'(?:[^']+|'')*')"
    r"|(?P<lit>'(?:[^']+|'')*')"
    r'|(?P<qid>"(?:[^"]+|"")*")'
    r"|(?P<comment>--[^\n]*)"
    r"|(?P<open>['\"])"
    r"|(?P<other>[^'\"Uu-]+|.)",
    re.S,
)
_RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_BAD_OUTSIDE = re.compile("[;?`\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def translate(sql: str) -> str:
    """Check a statement the way the runtime must write them, and make it SQLite's."""
    first = _first_word(sql)
    if first not in _FIRST_WORDS:
        raise FakeSqlError(f"unsupported statement: {sql[:40]!r}")
    out: list[str] = []
    outside: list[str] = []
    for match in _TOKEN.finditer(sql):
        kind, text = match.lastgroup, match.group(0)
        if kind == "ulit":
            decoded = _unicode_literal(text[3:-1])
            out.append("'" + decoded.replace("'", "''") + "'")
        elif kind == "lit":
            if _RAW_CONTROL.search(text):
                raise FakeSqlError("a raw control character inside a string literal")
            out.append(text)
        elif kind == "qid":
            out.append(text)
        elif kind == "open":
            raise FakeSqlError("unterminated literal or identifier")
        elif kind == "other":
            bad = _BAD_OUTSIDE.search(text)
            if bad and bad.group(0) == ";":
                raise FakeSqlError("mismatched input ';': one statement per query")
            if bad:
                raise FakeSqlError(f"unexpected character {bad.group(0)!r}")
            out.append(text)
            outside.append(text)
    bare = "".join(outside)
    if _FORBIDDEN.search(bare):
        raise FakeSqlError("Trino on TD has no UPDATE, MERGE or upsert")
    if first == "delete" and not re.search(r"\bwhere\b", bare, re.I):
        raise FakeSqlError("Does not support DELETE statement without WHERE condition")
    return "".join(out)


def _first_word(sql: str) -> str:
    """The statement's first keyword, after blanks and ``--`` comments."""
    text = re.sub(r"\A(?:\s+|--[^\n]*(?:\n|\Z))*", "", sql)
    match = re.match(r"[A-Za-z]+", text)
    return match.group(0).lower() if match else ""


def _unicode_literal(quoted: str) -> str:
    """Decode the inside of ``U&'...'``: ``\\XXXX``, ``\\+XXXXXX``, ``\\\\`` and ``''``."""
    body = quoted.replace("''", "'")
    if _RAW_CONTROL.search(body):
        raise FakeSqlError("a raw control character inside a Unicode literal")
    out, i = [], 0
    while i < len(body):
        if body[i] != "\\":
            out.append(body[i])
            i += 1
        elif body.startswith("\\\\", i):
            out.append("\\")
            i += 2
        elif body.startswith("\\+", i) and re.fullmatch(r"[0-9A-Fa-f]{6}", body[i + 2 : i + 8]):
            out.append(chr(int(body[i + 2 : i + 8], 16)))
            i += 8
        elif re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 1 : i + 5]):
            out.append(chr(int(body[i + 1 : i + 5], 16)))
            i += 5
        else:
            raise FakeSqlError("invalid Unicode escape")
    return "".join(out)


# --- HTTP ---------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeTD) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``FakeTD.requests``."""

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_GET

    def _handle(self) -> None:
        fake = cast(_Server, self.server).fake
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with fake._lock:
            fake.requests.append((self.command, url.path))
        if self.headers.get("Authorization") != f"TD1 {fake.api_key}":
            self._send(401, {"error": "Unauthorized", "message": "Authentication failed"})
            return
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        fault = fake._take_fault(self.command, url.path, form)
        if fault is not None and fault.kind == "fail":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(fault.status, {"error": "Injected", "message": "injected failure"}, headers)
            return
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        status, payload = fake.handle(self.command, parts, query, form)
        if fault is not None:  # "lose": the work is done, the answer is lost
            self._send(500, {"error": "Injected", "message": "answer lost"})
            return
        self._send(status, payload)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        """JSON answers; ``bytes`` payloads (``format=json`` results) go out as they are."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def fake_td(**options: Any) -> Iterator[FakeTD]:
    server = FakeTD(**options)
    try:
        yield server
    finally:
        server.close()
