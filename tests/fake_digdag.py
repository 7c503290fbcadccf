"""A fake Digdag server (the REST API Treasure Data Workflow hosts) for the test suite.

A real HTTP server on 127.0.0.1 in a background thread, speaking the part of Digdag's REST
API that ``digsync push`` uses. Behaviour follows Digdag's server source
(``ProjectResource.java``, ``ProjectControl.java``, ``DatabaseProjectStoreManager.java``,
``WorkflowFile.java``, ``JacksonTimeModule.java``, ``GenericJsonExceptionHandler.java``):

* errors are ``{"message": str, "status": int}``; ids are strings; instants are
  ``yyyy-MM-dd'T'HH:mm:ss'Z'``; session times carry the workflow's offset (``+09:00``);
* a push is checked in Digdag's order: content type (400), ``project=``/``revision=``,
  ``schedule_from=``, the declared size, Content-Length against the body, the archive
  (gzip, tar, member names and types, sizes), then every root ``.dig`` is compiled (here:
  ``digsync.dig.lint.core`` with the digdag profile), and only then a reused revision name is a 409;
* workflow ``config`` is the .dig as Digdag stores it: ``timezone`` removed, ``_export``
  first, then ``schedule``, ``sla``, ``_error``, ``_check``, ``_retry``, ``_parallel``, tasks;
* a schedule's next run is computed once, at push time, from ``schedule_from`` (else the
  server's clock), as Digdag stores it; this fake runs no sessions, so it never advances.
  Schedule ids stay stable per workflow name, and a disabled schedule stays disabled
  across pushes (Digdag's ``updateScheduleById`` leaves ``disabled_at`` alone).

Use ``FakeDigdag()`` (or the ``fake_digdag()`` context manager); see the class for the
Python API that tests use to inspect state and inject faults.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import socket
import struct
import tarfile
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, cast
from urllib.parse import parse_qs, unquote, urlsplit

from digsync.dig.lint.core import lint_text
from digsync.dig.lint.findings import ERROR, Finding
from digsync.dig.loader import load_dig
from digsync.errors import ScheduleError
from digsync.schedule.engine import Schedule, next_runs, parse_schedule, parse_timezone

DEFAULT_MAX_ARCHIVE_BYTES = 2 * 1024 * 1024
"""Digdag's default ``api.max_archive_total_size_limit``."""
LIST_LIMIT = 100
"""Digdag lists at most this many revisions (and projects, and schedules) per call."""
FAKE_VERSION = "0.10.5.1"
"""The Digdag release this fake follows (``GET /api/version``)."""
SCHEDULE_END = datetime(9999, 1, 1, tzinfo=UTC)
"""What Digdag stores as the next run of a schedule that has ended."""
_TOP_LEVEL_CONFIG = ("schedule", "sla", "_error", "_check", "_retry", "_parallel")
_SECRET_SEGMENT = r"(?:[a-zA-Z]|[a-zA-Z][a-zA-Z0-9_\-]*[a-zA-Z0-9])"
_SECRET_KEY = re.compile(rf"{_SECRET_SEGMENT}(?:\.{_SECRET_SEGMENT})*")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?Z")


class DigdagApiError(Exception):
    """An error answer: HTTP status and Digdag's message."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


# --- formats --------------------------------------------------------------------------


def iso_instant(moment: datetime) -> str:
    """Digdag's Instant format: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_offset(moment: datetime) -> str:
    """Digdag's OffsetDateTime format ``yyyy-MM-dd'T'HH:mm:ssxxx`` (``+00:00``, never Z;
    ``xxx`` has no seconds field, so an old local-mean-time offset shows only HH:MM)."""
    offset = moment.utcoffset() or timedelta(0)
    total = int(offset.total_seconds())
    sign, total = ("-" if total < 0 else "+"), abs(total)
    text = f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + text


def parse_instant(text: str) -> datetime:
    """``schedule_from=`` as Java's ``Instant.parse`` reads it (UTC with ``Z``)."""
    match = _INSTANT.fullmatch(text)
    if match is None:
        raise DigdagApiError(
            400,
            "Invalid schedule_from= parameter format. Expected yyyy-MM-dd'T'HH:mm:ss'Z' format",
        )
    base = datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
    return base + timedelta(microseconds=int((match.group(1) or "0").ljust(6, "0")[:6]))


def archive_md5(archive: bytes) -> str:
    """``archiveMd5`` as Digdag returns it: base64 of the MD5 digest."""
    return base64.b64encode(hashlib.md5(archive).digest()).decode("ascii")


def make_archive(files: Mapping[str, bytes]) -> bytes:
    """A deterministic tar.gz of project-relative files, as ``digdag push`` uploads."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(files[name]), 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    return buffer.getvalue()


# --- the archive and its workflows --------------------------------------------------------


def read_archive(archive: bytes, limit: int) -> dict[str, bytes]:
    """The archive's regular files by project-relative name; 400 for anything else."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            for member in tar:
                name = _member_name(member)
                if member.isdir():
                    continue
                _check_member(member, limit)
                total += member.size
                extracted = tar.extractfile(member)
                files[name] = extracted.read() if extracted else b""
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DigdagApiError(400, f"Invalid project archive: not a tar.gz file ({exc})") from exc
    if total > limit:
        raise DigdagApiError(
            400, f"Total size of the archive exceeds limit ({total} > {limit} bytes)"
        )
    return files


def _member_name(member: tarfile.TarInfo) -> str:
    """The member's name without leading ``./``; absolute names and ``..`` are refused."""
    name = member.name
    while name.startswith("./"):
        name = name[2:]
    parts = name.split("/")
    if member.name.startswith("/") or ".." in parts or (not name and not member.isdir()):
        raise DigdagApiError(
            400,
            f"Invalid file name in the project archive: {member.name!r} "
            "(names are relative to the project and stay inside it)",
        )
    return name


def _check_member(member: tarfile.TarInfo, limit: int) -> None:
    if member.issym() or member.islnk():
        kind = "symbolic" if member.issym() else "hard"
        raise DigdagApiError(
            400,
            f"Invalid entry in the project archive: {member.name} is a {kind} link "
            f"(to {member.linkname}); only regular files can be pushed",
        )
    if not member.isfile():
        kind = "device" if member.isdev() and not member.isfifo() else "special file"
        raise DigdagApiError(
            400,
            f"Invalid entry in the project archive: {member.name} is a {kind}; "
            "only regular files can be pushed",
        )
    if member.size > limit:
        raise DigdagApiError(
            400,
            f"Size of a file in the archive exceeds limit ({member.size} > {limit} bytes): "
            f"{member.name}",
        )


@dataclass(frozen=True)
class StoredWorkflow:
    """A workflow definition of one revision."""

    id: str
    name: str
    timezone: str
    config: dict[str, Any]
    schedule: Schedule | None


def is_workflow_file(name: str) -> bool:
    """Digdag's default matcher: ``*.dig`` at the project root; dot files are not listed."""
    return name.endswith(".dig") and "/" not in name and not name.startswith(".")


def compile_workflows(files: Mapping[str, bytes]) -> tuple[StoredWorkflow, ...]:
    """Load and check every root ``.dig`` as the server does on push (ids left empty)."""
    names = sorted(name for name in files if is_workflow_file(name))
    if not names:
        return ()
    with tempfile.TemporaryDirectory(prefix="fake-digdag-") as tmp:
        root = Path(tmp)
        try:
            for name, data in files.items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(data)
        except OSError as exc:
            raise DigdagApiError(400, f"Invalid project archive: {exc.strerror}") from exc
        return tuple(_compile(root, name, files[name]) for name in names)


def _compile(root: Path, name: str, data: bytes) -> StoredWorkflow:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DigdagApiError(
            400, f"Failed to load a workflow file {name}: not UTF-8 text (byte {exc.start})"
        ) from exc
    path = str(root / name)
    errors = [f for f in lint_text(text, path, profile="digdag") if f.severity == ERROR]
    if errors:
        raise DigdagApiError(400, _finding_message(root, name, errors[0]))
    doc: dict[str, Any] = load_dig(text, path, root, strict=False).data
    timezone = doc.get("timezone")
    timezone = timezone if isinstance(timezone, str) else "UTC"
    schedule = None
    if "schedule" in doc:
        try:
            schedule = parse_schedule(doc["schedule"], timezone)
        except ScheduleError as exc:
            raise DigdagApiError(400, f"Failed to load a workflow file {name}: {exc}") from exc
    return StoredWorkflow("", name[: -len(".dig")], timezone, _definition_config(doc), schedule)


def _finding_message(root: Path, name: str, finding: Finding) -> str:
    where = os.path.relpath(finding.path, root) if os.path.isabs(finding.path) else finding.path
    message = finding.message.replace(str(root) + os.sep, "")
    return (
        f"Failed to load a workflow file {name}: {where}:{finding.line}:{finding.column}: "
        f"{message} [{finding.code}]"
    )


def _definition_config(doc: Mapping[str, Any]) -> dict[str, Any]:
    """WorkflowFile.toWorkflowDefinition: no timezone; _export, top-level options, tasks."""
    config: dict[str, Any] = {}
    if doc.get("_export"):
        config["_export"] = doc["_export"]
    config.update((key, doc[key]) for key in _TOP_LEVEL_CONFIG if key in doc)
    config.update((key, value) for key, value in doc.items() if key.startswith("+"))
    return config


# --- state ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRevision:
    """One pushed revision, as tests inspect it."""

    name: str
    created_at: datetime
    archive: bytes
    archive_md5: str
    files: Mapping[str, bytes]
    workflows: tuple[StoredWorkflow, ...]
    schedule_from: datetime


@dataclass
class _ScheduleRow:
    id: str
    workflow: StoredWorkflow
    next_run: datetime
    next_session: datetime
    disabled_at: datetime | None = None


@dataclass
class _Project:
    id: str
    name: str
    created_at: datetime
    revisions: list[StoredRevision] = field(default_factory=list)
    schedules: dict[str, _ScheduleRow] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


class DigdagState:
    """Projects, revisions, workflows, schedules and secrets behind one lock."""

    def __init__(self, max_archive_bytes: int, now: datetime | None = None) -> None:
        self.max_archive_bytes = max_archive_bytes
        self.secrets_enabled = True  # False: started without digdag.secret-encryption-key
        self._lock = threading.RLock()
        self._projects: dict[str, _Project] = {}
        self._ids: dict[str, int] = {}
        self._now: datetime | None = None
        self.now = now

    @property
    def now(self) -> datetime:
        """The server's clock: the fixed time if one was set, else the real time."""
        return self._now or datetime.now(UTC)

    @now.setter
    def now(self, value: datetime | None) -> None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("now must be a timezone-aware datetime")
        self._now = value

    def push(
        self,
        name: str,
        revision: str,
        archive: bytes,
        schedule_from: datetime | None = None,
        length_ok: bool = True,
    ) -> dict[str, Any]:
        """PUT /api/projects after the HTTP checks: store a revision, update schedules.
        ``length_ok`` False: the body did not match Content-Length, which Digdag finds
        only after reading the archive."""
        if not name:
            raise DigdagApiError(400, "project= is required")
        if not revision:
            raise DigdagApiError(400, "revision= is required")
        files = read_archive(archive, self.max_archive_bytes)
        workflows = compile_workflows(files)
        if not length_ok:
            raise DigdagApiError(400, "Content-Length header doesn't match with uploaded data size")
        with self._lock:
            project = self._by_name(name)
            if project is not None and any(r.name == revision for r in project.revisions):
                raise DigdagApiError(
                    409, f"Resource already exists: revision={revision} in project id={project.id}"
                )
            now = self.now
            if project is None:
                project = _Project(self._next_id("project"), name, now)
                self._projects[project.id] = project
            stored = StoredRevision(
                revision,
                now,
                archive,
                archive_md5(archive),
                MappingProxyType(dict(files)),
                tuple(replace(wf, id=self._next_id("workflow")) for wf in workflows),
                schedule_from or now,
            )
            project.revisions.append(stored)
            self._update_schedules(project, stored)
            return self._project_json(project)

    def find_projects(
        self, name: str | None, last_id: int | None = None, count: int | None = None
    ) -> list[dict[str, Any]]:
        """By name, or a page of every project: ids above last_id, lowest first, at most
        count (default and cap LIST_LIMIT), as Digdag 0.10 pages GET /api/projects."""
        with self._lock:
            if name is not None:
                found = [p for p in self._projects.values() if p.name == name]
            else:
                found = sorted(
                    (p for p in self._projects.values() if last_id is None or int(p.id) > last_id),
                    key=lambda p: int(p.id),
                )[: min(count or LIST_LIMIT, LIST_LIMIT)]
            return [self._project_json(p) for p in found]

    def project(self, project_id: str) -> dict[str, Any]:
        with self._lock:
            return self._project_json(self._get(project_id))

    def revisions_json(self, project_id: str) -> list[dict[str, Any]]:
        """The newest LIST_LIMIT revisions, newest first (``limit 100`` in Digdag's SQL)."""
        with self._lock:
            newest = reversed(self._get(project_id).revisions)
            return [_revision_json(r) for r, _ in zip(newest, range(LIST_LIMIT), strict=False)]

    def archive(self, project_id: str, revision: str | None) -> bytes:
        with self._lock:
            return self._revision(self._get(project_id), revision).archive

    def workflows_json(
        self, project_id: str, revision: str | None, name: str | None
    ) -> list[dict[str, Any]]:
        with self._lock:
            project = self._get(project_id)
            stored = self._revision(project, revision)
            return [
                _workflow_json(project, stored, wf)
                for wf in stored.workflows
                if name is None or wf.name == name
            ]

    def schedules_json(self, project_id: str, workflow: str | None) -> list[dict[str, Any]]:
        with self._lock:
            project = self._get(project_id)
            rows = sorted(project.schedules.values(), key=lambda row: int(row.id))
            return [
                _schedule_json(project, row)
                for row in rows
                if workflow is None or row.workflow.name == workflow
            ]

    def set_secret(self, project_id: str, key: str, value: str) -> None:
        if not _SECRET_KEY.fullmatch(key) or len(key) > 255 or len(value.encode()) > 1024:
            raise DigdagApiError(400, "Invalid secret")
        with self._lock:
            self._get(project_id).secrets[key] = value

    def delete_secret(self, project_id: str, key: str) -> None:
        if not _SECRET_KEY.fullmatch(key) or len(key) > 255:
            raise DigdagApiError(400, "Invalid secret")
        with self._lock:
            self._get(project_id).secrets.pop(key, None)

    def secret_keys(self, project_id: str) -> list[str]:
        with self._lock:
            return sorted(self._get(project_id).secrets)

    # test access by project name

    def revisions(self, name: str) -> list[StoredRevision]:
        with self._lock:
            project = self._by_name(name)
            return list(project.revisions) if project else []

    def secrets(self, name: str) -> dict[str, str]:
        with self._lock:
            project = self._by_name(name)
            return dict(project.secrets) if project else {}

    def schedules(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            project = self._by_name(name)
            return self.schedules_json(project.id, None) if project else []

    def projects(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {p.name: self._project_json(p) for p in self._projects.values()}

    def set_disabled(self, name: str, workflow: str, disabled: bool) -> None:
        with self._lock:
            project = self._by_name(name)
            row = project.schedules.get(workflow) if project else None
            if row is None:
                raise KeyError(f"no schedule for workflow {workflow!r} in project {name!r}")
            row.disabled_at = self.now if disabled else None

    # internals (call with the lock held)

    def _next_id(self, kind: str) -> str:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return str(self._ids[kind])

    def _by_name(self, name: str) -> _Project | None:
        return next((p for p in self._projects.values() if p.name == name), None)

    def _get(self, project_id: str) -> _Project:
        project = self._projects.get(project_id)
        if project is None:
            raise DigdagApiError(404, f"Resource does not exist: project id={project_id}")
        return project

    def _revision(self, project: _Project, name: str | None) -> StoredRevision:
        if name is None:
            return project.revisions[-1]
        for stored in project.revisions:
            if stored.name == name:
                return stored
        raise DigdagApiError(
            404, f"Resource does not exist: revision name={name} in project id={project.id}"
        )

    def _update_schedules(self, project: _Project, stored: StoredRevision) -> None:
        """ProjectControl.updateSchedules: same name keeps its id; others are dropped."""
        rows: dict[str, _ScheduleRow] = {}
        for wf in stored.workflows:
            if wf.schedule is None:
                continue
            run_time, session_time = _first_run(wf.schedule, stored.schedule_from)
            old = project.schedules.get(wf.name)
            rows[wf.name] = _ScheduleRow(
                old.id if old else self._next_id("schedule"),
                wf,
                run_time,
                session_time,
                old.disabled_at if old else None,
            )
        project.schedules = rows

    def _project_json(self, project: _Project) -> dict[str, Any]:
        latest = project.revisions[-1]
        return {
            "id": project.id,
            "name": project.name,
            "revision": latest.name,
            "createdAt": iso_instant(project.created_at),
            "updatedAt": iso_instant(latest.created_at),
            "deletedAt": None,
            "archiveType": "db",
            "archiveMd5": latest.archive_md5,
        }


def _first_run(schedule: Schedule, start: datetime) -> tuple[datetime, datetime]:
    """Run time (UTC) and session time (workflow zone) of the first run at or after start."""
    runs = next_runs(schedule, start, 1)
    if runs:
        return runs[0].run_time.astimezone(UTC), runs[0].session_time
    zone: tzinfo = parse_timezone(schedule.timezone)
    return SCHEDULE_END, SCHEDULE_END.astimezone(zone)


def _revision_json(stored: StoredRevision) -> dict[str, Any]:
    return {
        "revision": stored.name,
        "createdAt": iso_instant(stored.created_at),
        "archiveType": "db",
        "archiveMd5": stored.archive_md5,
        "userInfo": {},
    }


def _workflow_json(project: _Project, stored: StoredRevision, wf: StoredWorkflow) -> dict[str, Any]:
    return {
        "id": wf.id,
        "name": wf.name,
        "project": {"id": project.id, "name": project.name},
        "revision": stored.name,
        "timezone": wf.timezone,
        "config": wf.config,
    }


def _schedule_json(project: _Project, row: _ScheduleRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "project": {"id": project.id, "name": project.name},
        "workflow": {"id": row.workflow.id, "name": row.workflow.name},
        "nextRunTime": iso_instant(row.next_run),
        "nextScheduleTime": iso_offset(row.next_session),
        "disabledAt": iso_instant(row.disabled_at) if row.disabled_at else None,
    }


# --- recording and fault injection --------------------------------------------------------


class Headers(Mapping[str, str]):
    """Request headers: names as sent, looked up case-insensitively (repeats joined)."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in items:
            old = self._items.get(name.lower())
            self._items[name.lower()] = (old[0], f"{old[1]}, {value}") if old else (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self)!r})"


@dataclass
class RecordedRequest:
    """One request as the server received it; ``status`` is None if no answer was sent."""

    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    body: bytes
    time: float
    """``time.monotonic()`` when the request had been read."""
    status: int | None = None


@dataclass
class _Fault:
    kind: str  # "fail", "delay" or "reset"
    method: str | None
    path_prefix: str
    remaining: int | None
    status: int = 500
    message: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    after_processing: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and path.startswith(
            self.path_prefix
        )


# --- HTTP -------------------------------------------------------------------------------


class _Response(NamedTuple):
    status: int
    body: bytes = b""
    content_type: str | None = None


def _json_response(status: int, payload: object) -> _Response:
    text = json.dumps(payload, ensure_ascii=False, default=str)
    return _Response(status, text.encode("utf-8"), "application/json")


def _error_response(error: DigdagApiError) -> _Response:
    return _json_response(error.status, {"message": error.message, "status": error.status})


@dataclass
class _Call:
    args: tuple[str, ...]
    query: dict[str, str]
    body: bytes
    length: int | None
    """The declared Content-Length (None when absent)."""
    length_problem: str | None
    """Why the body does not match Content-Length, if it does not."""


_P = r"/api/projects/([^/]+)"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeDigdag) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    """Reads the whole request, records it, applies faults, auth and routes."""

    # Headers and body go out as separate writes; without TCP_NODELAY, Nagle plus the
    # client's delayed ACK add ~40 ms to every answer, which no real server has.
    disable_nagle_algorithm = True

    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakeDigdag:
        return cast(_Server, self.server).fake

    @property
    def state(self) -> DigdagState:
        return self.fake.state

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.fake.read_timeout)
        with cast(_Server, self.server).connections_lock:
            cast(_Server, self.server).connections.add(self.connection)

    def finish(self) -> None:
        with cast(_Server, self.server).connections_lock:
            cast(_Server, self.server).connections.discard(self.connection)
        with suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``FakeDigdag.requests`` instead."""

    def do_GET(self) -> None:
        self._handle()

    do_PUT = do_DELETE = do_POST = do_PATCH = do_HEAD = do_GET

    def _handle(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length, body, problem = self._read_body()
        record = self.fake._record(
            self.command, url.path, query, Headers(self.headers.items()), body
        )
        fault = self.fake._take_fault(self.command, url.path)
        if fault is not None and fault.kind == "fail":
            error = DigdagApiError(fault.status, fault.message, fault.headers)
            self._send(record, _error_response(error), error.headers)
            return
        if fault is not None and fault.kind == "reset" and not fault.after_processing:
            self._reset()
            return
        if fault is not None and self.fake._closing.wait(fault.seconds):
            self._reset()  # closing while delayed
            return
        response = self._dispatch(url.path, _Call((), query, body, length, problem))
        if fault is not None and fault.kind == "reset":
            self._reset()
        else:
            self._send(record, response, {})

    def _dispatch(self, path: str, call: _Call) -> _Response:
        try:
            auth = self.fake.auth
            if auth is not None and self.headers.get("Authorization") != auth:
                raise DigdagApiError(401, "Authentication failed: missing or wrong Authorization")
            return self._route(path, call)
        except DigdagApiError as error:
            return _error_response(error)
        except Exception as exc:  # a bug in the fake: answer like a server would
            return _json_response(500, {"message": f"fake digdag: {exc!r}", "status": 500})

    def _route(self, path: str, call: _Call) -> _Response:
        known_path = False
        for method, pattern, action in self.ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            known_path = True
            if method == self.command:
                call.args = tuple(unquote(arg) for arg in match.groups())
                return action(self, call)
        if known_path:
            raise DigdagApiError(405, "HTTP 405 Method Not Allowed")
        raise DigdagApiError(404, f"HTTP 404 Not Found: {path}")

    # routes

    def _list_projects(self, call: _Call) -> _Response:
        last_id, count = call.query.get("last_id"), call.query.get("count")
        found = self.state.find_projects(
            call.query.get("name"),
            int(last_id) if last_id and last_id.isdigit() else None,
            int(count) if count and count.isdigit() else None,
        )
        return _json_response(200, {"projects": found})

    def _put_project(self, call: _Call) -> _Response:
        self._require_content_type("application/gzip")
        name, revision = call.query.get("project"), call.query.get("revision")
        if not name:
            raise DigdagApiError(400, "project= is required")
        if not revision:
            raise DigdagApiError(400, "revision= is required")
        text = call.query.get("schedule_from")
        schedule_from = parse_instant(text) if text else None
        limit = self.state.max_archive_bytes
        if call.length is not None and call.length > limit:
            raise DigdagApiError(
                400, f"Size of the uploaded archive file exceeds limit ({limit} bytes)"
            )
        # Digdag reads and checks the archive first, then compares the bytes it read with
        # Content-Length (a missing header is 0 there); the workflows compile before that.
        length_ok = call.length_problem is None and call.length is not None
        pushed = self.state.push(name, revision, call.body, schedule_from, length_ok)
        return _json_response(200, pushed)

    def _get_project(self, call: _Call) -> _Response:
        return _json_response(200, self.state.project(call.args[0]))

    def _revisions(self, call: _Call) -> _Response:
        return _json_response(200, {"revisions": self.state.revisions_json(call.args[0])})

    def _archive(self, call: _Call) -> _Response:
        data = self.state.archive(call.args[0], call.query.get("revision"))
        return _Response(200, data, "application/gzip")

    def _workflows(self, call: _Call) -> _Response:
        found = self.state.workflows_json(
            call.args[0], call.query.get("revision"), call.query.get("name")
        )
        return _json_response(200, {"workflows": found})

    def _workflow(self, call: _Call) -> _Response:
        project_id, name = call.args
        found = self.state.workflows_json(project_id, call.query.get("revision"), name)
        if not found:
            raise DigdagApiError(404, f"Resource does not exist: workflow name={name}")
        return _json_response(200, found[0])

    def _schedules(self, call: _Call) -> _Response:
        found = self.state.schedules_json(call.args[0], call.query.get("workflow"))
        return _json_response(200, {"schedules": found})

    def _list_secrets(self, call: _Call) -> _Response:
        keys = self.state.secret_keys(call.args[0])
        return _json_response(200, {"secrets": [{"key": key} for key in keys]})

    def _put_secret(self, call: _Call) -> _Response:
        self._require_content_type("application/json")
        try:
            payload = json.loads(call.body)
        except ValueError as exc:
            raise DigdagApiError(400, f"Invalid JSON body: {exc}") from exc
        value = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(value, str):
            raise DigdagApiError(400, 'The body must be {"value": "<secret>"}')
        if not self.state.secrets_enabled:  # no digdag.secret-encryption-key
            return _Response(500, b"Internal Server Error", "text/html")
        self.state.set_secret(call.args[0], call.args[1], value)
        return _json_response(200, self._secret_json(call))

    def _delete_secret(self, call: _Call) -> _Response:
        self.state.delete_secret(call.args[0], call.args[1])
        return _json_response(200, self._secret_json(call))

    def _secret_json(self, call: _Call) -> dict[str, Any]:
        """RestSecret: what PUT and DELETE of a secret answer (200, not 204)."""
        project = self.state.project(call.args[0])
        return {"key": call.args[1], "project": {"id": project["id"], "name": project["name"]}}

    def _version(self, call: _Call) -> _Response:
        return _json_response(200, {"version": FAKE_VERSION})

    ROUTES: tuple[tuple[str, re.Pattern[str], Callable[[_Handler, _Call], _Response]], ...] = (
        ("GET", re.compile(r"/api/version"), _version),
        ("GET", re.compile(r"/api/projects"), _list_projects),
        ("PUT", re.compile(r"/api/projects"), _put_project),
        ("GET", re.compile(_P), _get_project),
        ("GET", re.compile(_P + r"/revisions"), _revisions),
        ("GET", re.compile(_P + r"/archive"), _archive),
        ("GET", re.compile(_P + r"/workflows"), _workflows),
        ("GET", re.compile(_P + r"/workflows/([^/]+)"), _workflow),
        ("GET", re.compile(_P + r"/schedules"), _schedules),
        ("GET", re.compile(_P + r"/secrets"), _list_secrets),
        ("PUT", re.compile(_P + r"/secrets/([^/]+)"), _put_secret),
        ("DELETE", re.compile(_P + r"/secrets/([^/]+)"), _delete_secret),
    )

    def _require_content_type(self, expected: str) -> None:
        """JAX-RS @Consumes: anything else is NotSupportedException, which Digdag's
        ServerModule maps to 400 (not the 415 JAX-RS would give)."""
        given = self.headers.get("Content-Type", "")
        if given.split(";")[0].strip().lower() != expected:
            raise DigdagApiError(
                400, f"Cannot consume content type {given or '(none)'}: expected {expected}"
            )

    # the wire

    def _read_body(self) -> tuple[int | None, bytes, str | None]:
        """Declared length, the body, and why they disagree (the connection then closes)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None, self._read_chunked(), None
        declared = self.headers.get("Content-Length")
        if declared is None:
            return None, b"", None
        try:
            length = int(declared)
            if length < 0:
                raise ValueError(declared)
        except ValueError:
            self.close_connection = True
            return None, b"", f"invalid Content-Length header {declared!r}"
        body = self._read_exactly(length)
        problem = None
        if len(body) < length:
            problem = f"the body ended after {len(body)} of {length} bytes"
        elif self._more_bytes_waiting():
            problem = f"more than {length} bytes were sent"
        if problem:
            self.close_connection = True
        return length, body, problem

    def _read_exactly(self, length: int) -> bytes:
        chunks: list[bytes] = []
        remaining = length
        while remaining > 0:
            try:
                chunk = self.rfile.read1(min(remaining, 1 << 16))
            except OSError:  # includes the read timeout
                break
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _more_bytes_waiting(self) -> bool:
        """Bytes past Content-Length that have already arrived (best effort, no waiting)."""
        self.connection.settimeout(0.0)
        try:
            return bool(cast(io.BufferedReader, self.rfile).peek(1))
        except OSError:
            return False
        finally:
            self.connection.settimeout(self.fake.read_timeout)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        try:
            while size := int(self.rfile.readline(1 << 16).split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1 << 16)
            while self.rfile.readline(1 << 16).strip():  # trailers
                pass
        except (ValueError, OSError):
            self.close_connection = True
        return b"".join(chunks)

    def _send(self, record: RecordedRequest, response: _Response, headers: dict[str, str]) -> None:
        record.status = response.status  # before the client can see the answer
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _reset(self) -> None:
        """Drop the connection with a TCP reset and no response."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


# --- the server and its test controls -----------------------------------------------------


class FakeDigdag:
    """A running fake Digdag server; ``url`` is its base URL. Close it (or use ``with``).

    ``auth``: the exact ``Authorization`` value every request must carry (e.g.
    ``"TD1 secretkey"``), or None for no authentication. ``max_archive_bytes`` limits the
    upload, each file and the unpacked total (Digdag default 2 MiB; TD allows 10 MB).
    ``read_timeout``: how long the server waits for a slow or short request body.
    """

    def __init__(
        self,
        *,
        max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
        auth: str | None = None,
        read_timeout: float = 5.0,
        now: datetime | None = None,
    ) -> None:
        self.state = DigdagState(max_archive_bytes, now)
        self.auth = auth
        self.read_timeout = read_timeout
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._closing = threading.Event()
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-digdag",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        """Stop serving now: pending delays end, open connections are shut down."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._httpd.shutdown()
        with self._httpd.connections_lock:
            for conn in list(self._httpd.connections):
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeDigdag:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # what happened

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def projects(self) -> dict[str, dict[str, Any]]:
        """Project name -> the project as the REST API shows it."""
        return self.state.projects()

    def revisions(self, project: str) -> list[StoredRevision]:
        """The project's revisions, oldest first ([] if there is no such project)."""
        return self.state.revisions(project)

    def files(self, project: str, revision: str | None = None) -> Mapping[str, bytes]:
        """The files of a revision (default: the latest)."""
        stored = self.state.revisions(project)
        if revision is None:
            return stored[-1].files
        return next(r.files for r in stored if r.name == revision)

    def secrets(self, project: str) -> dict[str, str]:
        """Secret key -> value ({} if there is no such project)."""
        return self.state.secrets(project)

    def schedules(self, project: str) -> list[dict[str, Any]]:
        """The project's schedules as GET /api/projects/{id}/schedules shows them."""
        return self.state.schedules(project)

    @property
    def now(self) -> datetime:
        """The server clock (fixed if set, else real time); set None to use real time."""
        return self.state.now

    @now.setter
    def now(self, value: datetime | None) -> None:
        self.state.now = value

    # what others do

    def push_directly(
        self,
        project: str,
        files: Mapping[str, bytes],
        revision: str,
        schedule_from: datetime | None = None,
    ) -> dict[str, Any]:
        """Someone else pushes (no HTTP); raises DigdagApiError as the API would answer."""
        return self.state.push(project, revision, make_archive(files), schedule_from)

    def disable_schedule(self, project: str, workflow: str) -> None:
        """Someone disabled the schedule in the console (``disabledAt`` becomes now)."""
        self.state.set_disabled(project, workflow, True)

    def enable_schedule(self, project: str, workflow: str) -> None:
        self.state.set_disabled(project, workflow, False)

    # fault injection: rules match by method (None: any) and path prefix, first added first

    def fail(
        self,
        method: str | None = None,
        path_prefix: str = "/",
        status: int = 500,
        times: int | None = 1,
        message: str = "injected failure",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """The next ``times`` matching requests (None: all) get this error, unprocessed."""
        fault = _Fault("fail", method, path_prefix, _times(times), status, message)
        fault.headers = dict(headers or {})
        self._add(fault)

    def delay(
        self,
        method: str | None = None,
        path_prefix: str = "/",
        seconds: float = 1.0,
        times: int | None = 1,
    ) -> None:
        """Wait ``seconds`` before processing and answering (the work still happens)."""
        self._add(_Fault("delay", method, path_prefix, _times(times), seconds=seconds))

    def reset_connection(
        self,
        method: str | None = None,
        path_prefix: str = "/",
        times: int | None = 1,
        after_processing: bool = False,
    ) -> None:
        """Reset the connection without an answer; ``after_processing``: the work is done."""
        fault = _Fault("reset", method, path_prefix, _times(times))
        fault.after_processing = after_processing
        self._add(fault)

    @property
    def pending_faults(self) -> int:
        """How many injected faults have not been used up (rules with times=None count 1)."""
        with self._lock:
            return sum(fault.remaining or 1 for fault in self._faults)

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _record(
        self, method: str, path: str, query: dict[str, str], headers: Headers, body: bytes
    ) -> RecordedRequest:
        record = RecordedRequest(method, path, query, headers, body, time.monotonic())
        with self._lock:
            self._requests.append(record)
        return record


def _times(times: int | None) -> int | None:
    if times is not None and times < 1:
        raise ValueError("times must be at least 1 (or None for every request)")
    return times


@contextmanager
def fake_digdag(
    *,
    max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
    auth: str | None = None,
    read_timeout: float = 5.0,
    now: datetime | None = None,
) -> Iterator[FakeDigdag]:
    """A FakeDigdag for the duration of a ``with`` block (for a conftest fixture)."""
    server = FakeDigdag(
        max_archive_bytes=max_archive_bytes, auth=auth, read_timeout=read_timeout, now=now
    )
    try:
        yield server
    finally:
        server.close()
