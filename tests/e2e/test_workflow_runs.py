"""The rendered workflow runs on a real Digdag server (``warehouse: sqlite``, py> on the
host). Attempts are started with ``PUT /api/attempts`` and polled until done:

* the first run succeeds, writes the columns into field_metadata, and the success
  webhook receives the counts;
* a second run with no schema change takes the "nothing to do" branch: no message;
* a run with a broken source database fails, and the error webhook receives the error.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from digsync.cli import main
from tests.conftest import BASE
from tests.digdag_servers import ServerView
from tests.push_helpers import TARGET_ENV

ATTEMPT_TIMEOUT = 300.0


class Hooks:
    """A loopback HTTP server that keeps every JSON body posted to it, by path."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hooks.received.append((self.path, json.loads(body or b"null")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def at(self, path: str) -> list[Any]:
        return [body for p, body in self.received if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    server = Hooks()
    yield server
    server.close()


def config_text(project: str, warehouse: Path) -> str:
    return (
        BASE.replace("project: semantic_layer_sync", f"project: {project}")
        + f"""\
warehouse:
  type: sqlite
  path: {json.dumps(str(warehouse))}
notifications:
  on_error:
    enabled: true
    channels: [{{type: slack, secret: hook.error}}]
  on_sync_complete:
    enabled: true
    channels: [{{type: slack, secret: hook.success}}]
"""
    )


def start_attempt(real: ServerView, project: str, session: dt.datetime) -> dict[str, Any]:
    project_id = real.project(project)["id"]  # type: ignore[index]
    (workflow,) = real.http.get(
        f"/api/projects/{project_id}/workflows", params={"name": "semantic_layer_sync"}
    ).json()["workflows"]
    reply = real.http.put(
        "/api/attempts",
        json={
            "workflowId": workflow["id"],
            "sessionTime": session.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "params": {},
        },
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def wait_done(real: ServerView, attempt: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + ATTEMPT_TIMEOUT
    while time.monotonic() < deadline:
        state = real.http.get(f"/api/attempts/{attempt['id']}").json()
        if state["done"]:
            return dict(state)
        time.sleep(1)
    raise AssertionError(f"attempt {attempt['id']} not done in {ATTEMPT_TIMEOUT:.0f} s")


def task_names(real: ServerView, attempt: dict[str, Any]) -> list[str]:
    tasks = real.http.get(f"/api/attempts/{attempt['id']}/tasks").json()["tasks"]
    return [str(t["fullName"]) for t in tasks]


def test_the_rendered_workflow_runs_on_digdag(
    real: ServerView,
    hooks: Hooks,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in TARGET_ENV:
        monkeypatch.delenv(name, raising=False)
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    with sqlite3.connect(warehouse / "gld_sales.sqlite") as conn:
        conn.execute("CREATE TABLE orders (order_id INTEGER, email TEXT, amount REAL)")
    project = "digsync_runs_" + dt.datetime.now(dt.UTC).strftime("%H%M%S")
    config = tmp_path / "config.yaml"
    config.write_text(config_text(project, warehouse), encoding="utf-8")
    assert (
        main(["push", "--config", str(config), "--target", "digdag", "--endpoint", real.url]) == 0
    )
    capsys.readouterr()
    project_id = real.project(project)["id"]  # type: ignore[index]
    for key, path in (("hook.error", "/error"), ("hook.success", "/success")):
        answer = real.http.put(
            f"/api/projects/{project_id}/secrets/{key}", json={"value": hooks.url + path}
        )
        assert answer.status_code == 200, answer.text

    session = dt.datetime(2027, 1, 1, 3, tzinfo=dt.UTC)
    first = wait_done(real, start_attempt(real, project, session))
    assert first["success"], task_names(real, first)
    with sqlite3.connect(warehouse / "semantic_layer_v1.sqlite") as conn:
        columns = sorted(r[0] for r in conn.execute("SELECT column_name FROM field_metadata"))
    assert columns == ["amount", "email", "order_id"]
    (message,) = hooks.at("/success")
    assert "3 new columns" in message["text"] and "1 new tables" in message["text"]

    second = wait_done(real, start_attempt(real, project, session + dt.timedelta(days=1)))
    assert second["success"]
    assert any(name.endswith("+nothing_to_do") for name in task_names(real, second))
    assert len(hooks.at("/success")) == 1  # nothing to do: no success message

    (warehouse / "gld_broken.sqlite").write_bytes(b"this is not a database" * 100)
    third = wait_done(real, start_attempt(real, project, session + dt.timedelta(days=2)))
    assert not third["success"]
    (error,) = hooks.at("/error")
    assert "Semantic layer sync failed" in error["text"] and "gld_broken" in error["text"]
