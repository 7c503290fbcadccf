"""The fake Digdag server speaks the REST contract (clients here: http.client only)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import socket
import tarfile
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest

from tests.fake_digdag import (
    DigdagApiError,
    FakeDigdag,
    Headers,
    fake_digdag,
    make_archive,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
DIG = b"""\
timezone: UTC
schedule:
  daily>: 03:00:00
+hello:
  echo>: hello
"""
UNSCHEDULED = b"+hello:\n  echo>: hello\n"
FILES = {"semantic_layer_sync.dig": DIG, "queries/delta_report.sql": b"select 1\n"}


class Reply(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture
def server() -> Iterator[FakeDigdag]:
    with fake_digdag(now=NOW) as fake:
        yield fake


def call(
    server: FakeDigdag,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
) -> Reply:
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return Reply(response.status, Headers(response.getheaders()), response.read())
    finally:
        conn.close()


def push(
    server: FakeDigdag,
    revision: str,
    files: Mapping[str, bytes] = FILES,
    project: str = "semantic_layer_sync",
    query: str = "",
    headers: Mapping[str, str] | None = None,
) -> Reply:
    return call(
        server,
        "PUT",
        f"/api/projects?project={project}&revision={revision}{query}",
        make_archive(files),
        {"Content-Type": "application/gzip", **(headers or {})},
    )


def raw(server: FakeDigdag, head: bytes, body: bytes, half_close: bool = False) -> Reply:
    """Send bytes as they are (to break Content-Length); read the whole answer."""
    url = urlsplit(server.url)
    with socket.create_connection((url.hostname or "", url.port or 0), timeout=5) as sock:
        sock.sendall(head + b"\r\n\r\n" + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = sock.makefile("rb")
        status = int(answer.readline().split()[1])
        pairs = []
        while line := answer.readline().strip():
            name, _, value = line.decode().partition(": ")
            pairs.append((name, value))
        headers = Headers(pairs)
        return Reply(status, headers, answer.read(int(headers["Content-Length"])))


def put_head(length: int | None, revision: str = "r1") -> bytes:
    lines = [
        f"PUT /api/projects?project=p&revision={revision} HTTP/1.1",
        "Host: fake",
        "Content-Type: application/gzip",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return "\r\n".join(lines).encode()


def tar_gz(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def put_archive(server: FakeDigdag, archive: bytes, revision: str = "r1") -> Reply:
    path = f"/api/projects?project=p&revision={revision}"
    return call(server, "PUT", path, archive, {"Content-Type": "application/gzip"})


def assert_error(reply: Reply, status: int, *fragments: str) -> None:
    assert reply.status == status, reply
    assert reply.headers["Content-Type"] == "application/json"
    payload = reply.json()
    assert set(payload) == {"message", "status"}
    assert payload["status"] == status
    for fragment in fragments:
        assert fragment in payload["message"]


def wait_for(condition: Any, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


# --- push and projects ------------------------------------------------------------------


def test_push_answers_the_project_in_digdag_shape(server: FakeDigdag) -> None:
    archive = make_archive(FILES)
    reply = push(server, "r1")

    assert reply.status == 200
    assert reply.json() == {
        "id": "1",
        "name": "semantic_layer_sync",
        "revision": "r1",
        "createdAt": "2026-01-01T12:00:00Z",
        "updatedAt": "2026-01-01T12:00:00Z",
        "deletedAt": None,
        "archiveType": "db",
        "archiveMd5": base64.b64encode(hashlib.md5(archive).digest()).decode(),
    }
    sent = server.requests[-1]
    assert (sent.method, sent.path, sent.status) == ("PUT", "/api/projects", 200)
    assert sent.query == {"project": "semantic_layer_sync", "revision": "r1"}
    assert sent.headers["content-type"] == "application/gzip"
    assert sent.headers["Content-Length"] == str(len(archive))
    assert sent.body == archive
    assert server.revisions("semantic_layer_sync")[0].files == FILES
    assert server.files("semantic_layer_sync") == FILES


def test_projects_are_looked_up_by_exact_name(server: FakeDigdag) -> None:
    push(server, "r1", project="alpha")
    push(server, "r1", project="alpha_2")

    def names(query: str) -> list[str]:
        return [p["name"] for p in call(server, "GET", f"/api/projects{query}").json()["projects"]]

    assert names("?name=alpha") == ["alpha"]
    assert names("?name=ALPHA") == []
    assert names("?name=missing") == []
    assert names("") == ["alpha", "alpha_2"]
    assert set(server.projects) == {"alpha", "alpha_2"}


def test_project_by_id_and_unknown_ids(server: FakeDigdag) -> None:
    push(server, "r1")

    assert call(server, "GET", "/api/projects/1").json() == server.projects["semantic_layer_sync"]
    missing = call(server, "GET", "/api/projects/42")
    assert_error(missing, 404)
    assert missing.json()["message"] == "Resource does not exist: project id=42"
    assert_error(call(server, "GET", "/api/projects/abc"), 404)


def test_revisions_are_listed_newest_first(server: FakeDigdag) -> None:
    push(server, "r1")
    server.now = datetime(2026, 1, 2, tzinfo=UTC)
    push(server, "r2", {"semantic_layer_sync.dig": UNSCHEDULED})

    revisions = call(server, "GET", "/api/projects/1/revisions").json()["revisions"]
    assert [r["revision"] for r in revisions] == ["r2", "r1"]
    assert revisions[0] == {
        "revision": "r2",
        "createdAt": "2026-01-02T00:00:00Z",
        "archiveType": "db",
        "archiveMd5": server.revisions("semantic_layer_sync")[1].archive_md5,
        "userInfo": {},
    }
    project = call(server, "GET", "/api/projects/1").json()
    assert (project["revision"], project["createdAt"], project["updatedAt"]) == (
        "r2",
        "2026-01-01T12:00:00Z",
        "2026-01-02T00:00:00Z",
    )
    assert_error(call(server, "GET", "/api/projects/7/revisions"), 404)


def test_archive_download_by_revision(server: FakeDigdag) -> None:
    push(server, "r1")
    push(server, "r2", {"semantic_layer_sync.dig": UNSCHEDULED})
    first, second = server.revisions("semantic_layer_sync")

    latest = call(server, "GET", "/api/projects/1/archive")
    assert (latest.status, latest.body) == (200, second.archive)
    assert latest.headers["Content-Type"] == "application/gzip"
    old = call(server, "GET", "/api/projects/1/archive?revision=r1&direct_download=false")
    assert old.body == first.archive == make_archive(FILES)
    unknown = call(server, "GET", "/api/projects/1/archive?revision=r9")
    assert_error(unknown, 404, "revision name=r9 in project id=1")


def test_workflows_show_the_config_as_digdag_stores_it(server: FakeDigdag) -> None:
    tokyo = b"""\
+first:
  echo>: one
_error:
  +alert:
    echo>: failed
timezone: Asia/Tokyo
schedule:
  daily>: 07:00:00
_export:
  td:
    database: db
"""
    files = {
        "tokyo.dig": tokyo,
        "plain.dig": UNSCHEDULED,
        ".hidden.dig": b"not: [valid",
        "sub/nested.dig": b"not: [valid",
    }
    assert push(server, "r1", files).status == 200

    workflows = call(server, "GET", "/api/projects/1/workflows").json()["workflows"]
    by_name = {wf["name"]: wf for wf in workflows}
    assert set(by_name) == {"plain", "tokyo"}
    tokyo_wf = by_name["tokyo"]
    assert tokyo_wf["timezone"] == "Asia/Tokyo"
    assert by_name["plain"]["timezone"] == "UTC"
    assert list(tokyo_wf["config"]) == ["_export", "schedule", "_error", "+first"]
    assert tokyo_wf["config"]["schedule"] == {"daily>": "07:00:00"}
    assert tokyo_wf["project"] == {"id": "1", "name": "semantic_layer_sync"}
    assert tokyo_wf["revision"] == "r1"
    assert isinstance(tokyo_wf["id"], str)
    assert by_name["plain"]["config"] == {"+hello": {"echo>": "hello"}}

    push(server, "r2", {"plain.dig": UNSCHEDULED})
    names = [
        wf["name"] for wf in call(server, "GET", "/api/projects/1/workflows").json()["workflows"]
    ]
    assert names == ["plain"]
    old = call(server, "GET", "/api/projects/1/workflows?revision=r1&name=tokyo").json()
    assert [wf["name"] for wf in old["workflows"]] == ["tokyo"]
    assert call(server, "GET", "/api/projects/1/workflows/plain").json()["revision"] == "r2"
    assert_error(call(server, "GET", "/api/projects/1/workflows?revision=nope"), 404)


# --- schedules ----------------------------------------------------------------------------


def schedules(server: FakeDigdag) -> list[dict[str, Any]]:
    reply = call(server, "GET", "/api/projects/1/schedules")
    assert reply.status == 200
    found: list[dict[str, Any]] = reply.json()["schedules"]
    assert found == server.schedules("semantic_layer_sync")
    return found


def test_schedule_next_run_is_computed_from_the_server_clock(server: FakeDigdag) -> None:
    push(server, "r1")

    workflow_id = call(server, "GET", "/api/projects/1/workflows").json()["workflows"][0]["id"]
    assert schedules(server) == [
        {
            "id": "1",
            "project": {"id": "1", "name": "semantic_layer_sync"},
            "workflow": {"id": workflow_id, "name": "semantic_layer_sync"},
            "nextRunTime": "2026-01-02T03:00:00Z",
            "nextScheduleTime": "2026-01-02T00:00:00+00:00",
            "disabledAt": None,
        }
    ]


def test_schedule_session_time_carries_the_workflow_offset(server: FakeDigdag) -> None:
    dig = b"timezone: Asia/Tokyo\nschedule:\n  daily>: 07:00:00\n+a:\n  echo>: a\n"
    push(server, "r1", {"semantic_layer_sync.dig": dig})

    (schedule,) = schedules(server)
    # 12:00Z is 21:00 in Tokyo: the next session is the next Tokyo midnight, run at 07:00.
    assert schedule["nextScheduleTime"] == "2026-01-02T00:00:00+09:00"
    assert schedule["nextRunTime"] == "2026-01-01T22:00:00Z"


def test_schedule_from_sets_where_the_schedule_starts(server: FakeDigdag) -> None:
    push(server, "r1", query="&schedule_from=2030-06-01T05:00:00Z")

    (schedule,) = schedules(server)
    assert schedule["nextRunTime"] == "2030-06-02T03:00:00Z"
    assert schedule["nextScheduleTime"] == "2030-06-02T00:00:00+00:00"
    assert server.revisions("semantic_layer_sync")[0].schedule_from == datetime(
        2030, 6, 1, 5, tzinfo=UTC
    )


@pytest.mark.parametrize("value", ["2030-06-01", "2030-06-01T05:00:00%2B09:00", "soon"])
def test_malformed_schedule_from_is_400(server: FakeDigdag, value: str) -> None:
    reply = push(server, "r1", query=f"&schedule_from={value}")
    assert_error(reply, 400, "Invalid schedule_from= parameter format")
    assert server.projects == {}


def test_pushing_without_schedule_removes_it(server: FakeDigdag) -> None:
    push(server, "r1")
    (first,) = schedules(server)
    push(server, "r2")
    (kept,) = schedules(server)
    assert kept["id"] == first["id"]
    assert kept["workflow"]["id"] != first["workflow"]["id"]

    push(server, "r3", {"semantic_layer_sync.dig": UNSCHEDULED})
    assert schedules(server) == []

    push(server, "r4")
    (again,) = schedules(server)
    assert again["id"] != first["id"]


def test_a_changed_schedule_is_recomputed_at_push(server: FakeDigdag) -> None:
    push(server, "r1")
    server.now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert schedules(server)[0]["nextRunTime"] == "2026-01-02T03:00:00Z"  # no sessions run

    hourly = b"schedule:\n  hourly>: 30:00\n+a:\n  echo>: a\n"
    push(server, "r2", {"semantic_layer_sync.dig": hourly})
    assert schedules(server)[0]["nextRunTime"] == "2026-03-01T12:30:00Z"


def test_a_disabled_schedule_stays_disabled_across_pushes(server: FakeDigdag) -> None:
    push(server, "r1")
    server.now = datetime(2026, 1, 1, 13, tzinfo=UTC)
    server.disable_schedule("semantic_layer_sync", "semantic_layer_sync")
    assert schedules(server)[0]["disabledAt"] == "2026-01-01T13:00:00Z"

    push(server, "r2")
    assert schedules(server)[0]["disabledAt"] == "2026-01-01T13:00:00Z"
    server.enable_schedule("semantic_layer_sync", "semantic_layer_sync")
    assert schedules(server)[0]["disabledAt"] is None
    with pytest.raises(KeyError):
        server.disable_schedule("semantic_layer_sync", "other")


def test_an_ended_schedule_runs_at_digdags_end_of_time(server: FakeDigdag) -> None:
    dig = b"schedule:\n  daily>: 03:00:00\n  end: 2020-01-01\n+a:\n  echo>: a\n"
    push(server, "r1", {"semantic_layer_sync.dig": dig})

    (schedule,) = schedules(server)
    assert schedule["nextRunTime"] == "9999-01-01T00:00:00Z"
    assert schedule["nextScheduleTime"] == "9999-01-01T00:00:00+00:00"


# --- push errors ------------------------------------------------------------------------


def test_a_reused_revision_is_409(server: FakeDigdag) -> None:
    push(server, "r1")
    reply = push(server, "r1", {"semantic_layer_sync.dig": UNSCHEDULED})

    assert_error(reply, 409)
    assert reply.json()["message"] == "Resource already exists: revision=r1 in project id=1"
    assert [r.files for r in server.revisions("semantic_layer_sync")] == [FILES]


@pytest.mark.parametrize(
    ("dig", "fragments"),
    [
        (b"timezone: Mars/Base\n+a:\n  echo>: a\n", ["broken.dig:1:11", "Mars/Base", "[timezone]"]),
        (b"schedule:\n  dayly>: 07:00:00\n+a:\n  echo>: a\n", ["broken.dig:2:", "dayly"]),
        (b"schedule:\n  daily>: nonsense\n+a:\n  echo>: a\n", ["broken.dig:2:", "hh:mm:ss"]),
        (b"+a:\n  echo>: a\n  bogus\n", ["broken.dig:", "[yaml]"]),
        (b"", ["broken.dig:1:1", "Expected object"]),
        (b"\xff\xfe+a:\n", ["broken.dig", "not UTF-8"]),
    ],
)
def test_a_workflow_digdag_rejects_is_400(
    server: FakeDigdag, dig: bytes, fragments: list[str]
) -> None:
    reply = push(server, "r1", {"good.dig": UNSCHEDULED, "broken.dig": dig})

    assert_error(reply, 400, "Failed to load a workflow file broken.dig", *fragments)
    assert server.projects == {}


def test_a_reused_revision_with_a_broken_workflow_is_400_first(server: FakeDigdag) -> None:
    push(server, "r1")
    reply = push(server, "r1", {"semantic_layer_sync.dig": b"timezone: Mars/Base\n"})
    assert_error(reply, 400, "Mars/Base")


def test_only_regular_project_files_are_read_as_workflows(server: FakeDigdag) -> None:
    files = {"a.dig": UNSCHEDULED, "queries/not_a_workflow.dig": b"[", "notes.txt": b"\xff"}
    assert push(server, "r1", files).status == 200


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("application/x-tar", 400), ("application/json", 400), (None, 400)],  # not 415
)
def test_push_needs_the_gzip_content_type(
    server: FakeDigdag, content_type: str | None, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    reply = call(server, "PUT", "/api/projects?project=p&revision=r1", make_archive(FILES), headers)
    assert_error(reply, status, "application/gzip")


@pytest.mark.parametrize(
    ("query", "message"),
    [("?revision=r1", "project= is required"), ("?project=p&revision=", "revision= is required")],
)
def test_push_needs_project_and_revision(server: FakeDigdag, query: str, message: str) -> None:
    reply = call(
        server,
        "PUT",
        f"/api/projects{query}",
        make_archive(FILES),
        {"Content-Type": "application/gzip"},
    )
    assert_error(reply, 400, message)


def test_a_body_shorter_than_content_length_is_400(server: FakeDigdag) -> None:
    archive = make_archive(FILES)
    reply = raw(server, put_head(len(archive) + 10), archive, half_close=True)

    assert reply.status == 400  # the truncated archive, or then its length
    assert reply.headers["Connection"] == "close"
    assert server.projects == {}


def test_a_body_longer_than_content_length_is_400(server: FakeDigdag) -> None:
    archive = make_archive(FILES)
    reply = raw(server, put_head(len(archive)), archive + b"EXTRA BYTES")

    assert_error(reply, 400, "Content-Length header doesn't match with uploaded data size")
    assert server.projects == {}


def test_a_push_without_content_length_is_400(server: FakeDigdag) -> None:
    archive = make_archive(FILES)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(archive), archive)
    head = put_head(None) + b"\r\nTransfer-Encoding: chunked"
    reply = raw(server, head, chunked)

    assert_error(reply, 400, "Content-Length header doesn't match with uploaded data size")
    assert server.requests[-1].body == archive


def test_an_unreadable_content_length_is_400(server: FakeDigdag) -> None:
    reply = raw(server, put_head(None) + b"\r\nContent-Length: lots", b"")
    assert reply.status == 400  # the HTTP layer refuses it before Digdag reads the body


@pytest.mark.parametrize(
    "archive",
    [
        b"this is not gzip at all",
        gzip.compress(b"gzip, but not a tar archive" * 40),
        make_archive(FILES)[:40],
        b"",
    ],
)
def test_an_archive_that_is_not_tar_gz_is_400(server: FakeDigdag, archive: bytes) -> None:
    assert_error(put_archive(server, archive), 400, "Invalid project archive")
    assert server.projects == {}


@pytest.mark.parametrize("name", ["../evil.dig", "/etc/evil.dig", "queries/../../evil.sql"])
def test_a_member_outside_the_project_is_400(server: FakeDigdag, name: str) -> None:
    archive = tar_gz((member("a.dig"), UNSCHEDULED), (member(name), b"x"))
    assert_error(put_archive(server, archive), 400, "Invalid file name", name)


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        (tarfile.SYMTYPE, "symbolic link"),
        (tarfile.LNKTYPE, "hard link"),
        (tarfile.CHRTYPE, "device"),
        (tarfile.BLKTYPE, "device"),
        (tarfile.FIFOTYPE, "special file"),
    ],
)
def test_links_and_devices_are_400(server: FakeDigdag, kind: bytes, fragment: str) -> None:
    archive = tar_gz((member("a.dig"), UNSCHEDULED), (member("x.dig", kind, "a.dig"), b""))
    assert_error(put_archive(server, archive), 400, "x.dig", fragment)


def test_directory_entries_and_leading_dot_slash_are_tolerated(server: FakeDigdag) -> None:
    archive = tar_gz(
        (member(".", tarfile.DIRTYPE), b""),
        (member("./queries", tarfile.DIRTYPE), b""),
        (member("./a.dig"), UNSCHEDULED),
        (member("./queries/q.sql"), b"select 1"),
    )
    assert put_archive(server, archive).status == 200
    assert server.files("p") == {"a.dig": UNSCHEDULED, "queries/q.sql": b"select 1"}


def test_an_upload_over_the_size_limit_is_400() -> None:
    with FakeDigdag(max_archive_bytes=4096) as server:
        noise = {"a.dig": UNSCHEDULED, "noise.bin": os.urandom(6000)}
        assert_error(push(server, "r1", noise, project="p"), 400, "exceeds limit (4096 bytes)")

        big = {"a.dig": UNSCHEDULED, "big.bin": bytes(5000)}
        reply = push(server, "r1", big, project="p")
        assert_error(reply, 400, "Size of a file", "(5000 > 4096 bytes): big.bin")

        two = {"a.dig": UNSCHEDULED, "x.bin": bytes(2500), "y.bin": bytes(2500)}
        assert_error(push(server, "r1", two, project="p"), 400, "Total size of the archive")
        assert push(server, "r1", {"a.dig": UNSCHEDULED}, project="p").status == 200


# --- secrets -----------------------------------------------------------------------------


def put_secret(server: FakeDigdag, key: str, body: bytes, project: str = "1") -> Reply:
    path = f"/api/projects/{project}/secrets/{key}"
    return call(server, "PUT", path, body, {"Content-Type": "application/json"})


def test_secrets_are_set_listed_by_key_and_deleted(server: FakeDigdag) -> None:
    push(server, "r1")

    set_reply = put_secret(server, "td.apikey", json.dumps({"value": "s3cr3t-value"}).encode())
    assert set_reply.status == 200  # RestSecret, not 204
    assert set_reply.json() == {
        "key": "td.apikey",
        "project": {"id": "1", "name": "semantic_layer_sync"},
    }
    put_secret(server, "slack.error_webhook", b'{"value": "https://hooks.example/x"}')

    listing = call(server, "GET", "/api/projects/1/secrets")
    assert listing.json() == {"secrets": [{"key": "slack.error_webhook"}, {"key": "td.apikey"}]}
    assert b"s3cr3t" not in listing.body and b"hooks.example" not in listing.body
    assert server.secrets("semantic_layer_sync") == {
        "td.apikey": "s3cr3t-value",
        "slack.error_webhook": "https://hooks.example/x",
    }

    assert call(server, "DELETE", "/api/projects/1/secrets/td.apikey").status == 200
    assert call(server, "DELETE", "/api/projects/1/secrets/never.set").json()["key"] == "never.set"
    remaining = call(server, "GET", "/api/projects/1/secrets").json()
    assert remaining == {"secrets": [{"key": "slack.error_webhook"}]}


def test_secret_errors(server: FakeDigdag) -> None:
    push(server, "r1")
    good = b'{"value": "v"}'

    assert_error(put_secret(server, "td.apikey", good, project="9"), 404, "project id=9")
    assert_error(call(server, "GET", "/api/projects/9/secrets"), 404)
    assert_error(call(server, "DELETE", "/api/projects/9/secrets/td.apikey"), 404)
    assert_error(put_secret(server, "bad..key", good), 400, "Invalid secret")
    assert_error(put_secret(server, "k", json.dumps({"value": "x" * 1025}).encode()), 400)
    assert_error(put_secret(server, "k", b"{not json"), 400, "Invalid JSON")
    assert_error(put_secret(server, "k", b'{"val": "x"}'), 400, "value")
    text = {"Content-Type": "text/plain"}
    assert_error(call(server, "PUT", "/api/projects/1/secrets/k", good, text), 400)
    assert server.secrets("semantic_layer_sync") == {}


# --- authentication ---------------------------------------------------------------------


def test_auth_is_required_when_configured() -> None:
    with FakeDigdag(auth="TD1 secretkey") as server:
        assert_error(call(server, "GET", "/api/projects"), 401)
        wrong = {"Authorization": "TD1 other"}
        assert_error(call(server, "GET", "/api/projects", headers=wrong), 401)
        assert_error(push(server, "r1", headers=wrong), 401)
        assert server.projects == {}

        right = {"Authorization": "TD1 secretkey"}
        assert push(server, "r1", headers=right).status == 200
        assert call(server, "GET", "/api/projects", headers=right).status == 200

        seen = [(r.headers.get("authorization"), r.status) for r in server.requests]
        assert seen == [
            (None, 401),
            ("TD1 other", 401),
            ("TD1 other", 401),
            ("TD1 secretkey", 200),
            ("TD1 secretkey", 200),
        ]


def test_without_auth_any_request_is_accepted(server: FakeDigdag) -> None:
    assert push(server, "r1", headers={"Authorization": "TD1 whatever"}).status == 200
    assert call(server, "GET", "/api/projects").status == 200


# --- fault injection --------------------------------------------------------------------


def test_fail_answers_the_next_matching_requests_unprocessed(server: FakeDigdag) -> None:
    server.fail(
        method="PUT", path_prefix="/api/projects", status=503, times=2, message="boom",
        headers={"Retry-After": "1"},
    )  # fmt: skip

    assert call(server, "GET", "/api/projects").status == 200  # another method
    for _ in range(2):
        reply = push(server, "r1")
        assert_error(reply, 503)
        assert reply.json()["message"] == "boom"
        assert reply.headers["Retry-After"] == "1"
    assert server.pending_faults == 0
    assert push(server, "r1").status == 200  # the failed pushes were not processed
    assert [r.status for r in server.requests] == [200, 503, 503, 200]


def test_faults_are_used_in_the_order_they_were_added(server: FakeDigdag) -> None:
    server.fail(status=502)
    server.fail(path_prefix="/api/projects/", status=500)
    server.fail(status=504, times=None)

    assert call(server, "GET", "/api/projects").status == 502
    assert call(server, "GET", "/api/projects").status == 504  # prefix does not match
    assert call(server, "GET", "/api/projects/1").status == 500
    assert call(server, "DELETE", "/anything").status == 504
    assert server.pending_faults == 1
    with pytest.raises(ValueError):
        server.fail(times=0)


def test_a_delay_lets_the_client_time_out_but_the_push_happens(server: FakeDigdag) -> None:
    server.delay(method="PUT", path_prefix="/api/projects", seconds=0.5)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        call(server, "PUT", "/api/projects?project=p&revision=r1", make_archive(FILES),
             {"Content-Type": "application/gzip"}, timeout=0.1)  # fmt: skip
    wait_for(lambda: server.revisions("p"))
    assert time.monotonic() - started >= 0.5
    assert_error(push(server, "r1", project="p"), 409)  # a blind retry conflicts


def test_reset_connection_drops_the_request(server: FakeDigdag) -> None:
    server.reset_connection(method="PUT")

    with pytest.raises(ConnectionError):
        push(server, "r1")
    assert server.projects == {}
    assert server.requests[-1].status is None
    assert push(server, "r1").status == 200


def test_reset_after_processing_loses_only_the_answer(server: FakeDigdag) -> None:
    server.reset_connection(method="PUT", path_prefix="/api/projects", after_processing=True)

    with pytest.raises(ConnectionError):
        push(server, "r1")
    assert [r.name for r in server.revisions("semantic_layer_sync")] == ["r1"]


# --- the rest -----------------------------------------------------------------------------


def test_unknown_routes_and_methods(server: FakeDigdag) -> None:
    assert_error(call(server, "GET", "/api/nothing"), 404)
    assert_error(call(server, "GET", "/"), 404)
    assert_error(call(server, "POST", "/api/projects", b"{}"), 405)
    assert_error(call(server, "DELETE", "/api/projects/1/schedules"), 405)


def test_push_directly_is_seen_through_the_api(server: FakeDigdag) -> None:
    project = server.push_directly("semantic_layer_sync", FILES, "someone-else")

    assert call(server, "GET", "/api/projects?name=semantic_layer_sync").json() == {
        "projects": [project]
    }
    assert_error(push(server, "someone-else"), 409)
    with pytest.raises(DigdagApiError) as broken:
        server.push_directly("semantic_layer_sync", {"x.dig": b"timezone: Nowhere\n"}, "r2")
    assert broken.value.status == 400
    with pytest.raises(DigdagApiError) as conflict:
        server.push_directly("semantic_layer_sync", FILES, "someone-else")
    assert conflict.value.status == 409


def test_concurrent_pushes(server: FakeDigdag) -> None:
    def run(revisions: list[str]) -> list[int]:
        statuses: list[int] = []
        lock = threading.Lock()

        def one(revision: str) -> None:
            status = push(server, revision).status
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=one, args=(r,)) for r in revisions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sorted(statuses)

    assert run([f"r{i}" for i in range(8)]) == [200] * 8
    assert run(["same"] * 8) == [200] + [409] * 7
    assert len(server.revisions("semantic_layer_sync")) == 9
    assert len(server.projects) == 1


def test_close_is_prompt_even_with_a_pending_delay() -> None:
    server = FakeDigdag()
    server.delay(seconds=30)
    errors: list[BaseException] = []

    def client() -> None:
        try:
            call(server, "GET", "/api/projects")
        except (OSError, http.client.HTTPException) as exc:
            errors.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    wait_for(lambda: server.requests)
    started = time.monotonic()
    server.close()
    thread.join(timeout=5)
    assert time.monotonic() - started < 2
    assert len(errors) == 1
    with pytest.raises(ConnectionError):
        call(server, "GET", "/api/projects")
    server.close()  # closing twice is fine


def test_the_context_manager_serves_on_localhost() -> None:
    with fake_digdag(auth=None) as server:
        url = urlsplit(server.url)
        assert (url.scheme, url.hostname) == ("http", "127.0.0.1")
        assert url.port and url.port > 0
        assert server.now.tzinfo is not None
        with pytest.raises(ValueError):
            server.now = datetime(2026, 1, 1)


def test_headers_are_case_insensitive() -> None:
    headers = Headers([("Content-Type", "a"), ("X-Thing", "1"), ("x-thing", "2")])
    assert headers["content-type"] == "a"
    assert headers["X-THING"] == "1, 2"
    assert dict(headers) == {"Content-Type": "a", "X-Thing": "1, 2"}
    assert "x-missing" not in headers
