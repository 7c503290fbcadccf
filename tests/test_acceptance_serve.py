"""Acceptance checks of ``digsync serve`` (issue #4) found by an independent review.

Each test is a case the issue text or HTTP itself implies and that the other server tests
did not pin down.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fake_digdag import fake_digdag
from tests.server_fixtures import API, PROJECT, WEBHOOK, live_server, prepare_workdir

TD_KEY = "1/td-api-key-echoed-by-a-broken-server"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return prepare_workdir(tmp_path, monkeypatch)


def test_a_target_that_echoes_secrets_leaks_none_through_any_endpoint(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """status, history, preview and rollback relay the target's message: masked too."""
    monkeypatch.setenv("TD_API_KEY", TD_KEY)
    monkeypatch.setenv("DIGSYNC_RETRY_TOTAL", "0.2")
    with (
        fake_digdag(auth=f"TD1 {TD_KEY}") as td,
        live_server(config, target="td", endpoint=td.url) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        data = http.get(f"{API}/config").json()
        assert http.post(f"{API}/config", json=data).status_code == 200
        assert td.secrets(PROJECT)  # the webhook URL went to the server as a secret
        echo = f"cannot read: webhook {WEBHOOK} key {TD_KEY}"
        td.fail(None, "/api/projects", status=500, times=None, message=echo)
        data["sync"]["sync_mode"] = "full"
        answers = {
            "status": http.get(f"{API}/status"),
            "history": http.get(f"{API}/history"),
            "preview": http.post(f"{API}/preview", json=data),
            "rollback": http.post(f"{API}/rollback", json={}),
            "save": http.post(f"{API}/config", json=data),
        }
    assert {k: r.status_code for k, r in answers.items()} == {
        "status": 200,
        "history": 502,
        "preview": 502,
        "rollback": 500,
        "save": 500,
    }
    for name, answer in answers.items():
        assert "cannot read: webhook ******** key ********" in answer.text, name
        assert WEBHOOK not in answer.text and TD_KEY not in answer.text, name


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", f"{API}/config", {"GET", "HEAD", "POST"}),
        ("PUT", f"{API}/config", {"GET", "HEAD", "POST"}),
        ("GET", f"{API}/rollback", {"POST"}),
        ("POST", "/healthz", {"GET", "HEAD"}),
        ("POST", "/static/app.js", {"GET", "HEAD"}),
    ],
)
def test_405_allow_names_every_method_of_the_resource(
    config: Path, method: str, path: str, allowed: set[str]
) -> None:
    """RFC 9110: Allow lists the methods the resource supports, not those of one route."""
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        answer = http.request(method, path, headers={"content-type": "application/json"})
    assert answer.status_code == 405
    assert answer.json()["code"] == "method_not_allowed"
    assert {m.strip() for m in answer.headers["allow"].split(",")} == allowed


@pytest.mark.parametrize("path", ["/healthz", f"{API}/config", "/", "/static/app.js"])
def test_head_answers_as_get_without_a_body(config: Path, path: str) -> None:
    """Monitors and ``curl -I`` use HEAD; a GET resource answers it (RFC 9110 9.3.2)."""
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        got = http.get(path)
        head = http.head(path)
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "x-content-type-options"):
        assert head.headers.get(name) == got.headers.get(name), name


def test_a_failed_rollback_is_in_the_audit_log(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit log records every change and its push result: a rollback whose push
    failed too, with who asked for it and the target's (masked) message."""
    monkeypatch.setenv("DIGSYNC_RETRY_TOTAL", "0.2")
    with (
        fake_digdag() as digdag,
        live_server(config, target="digdag", endpoint=digdag.url, token="alice:t1") as url,
        httpx.Client(base_url=url, headers={"Authorization": "Bearer t1"}, timeout=30) as http,
    ):
        data = http.get(f"{API}/config").json()
        assert http.post(f"{API}/config", json=data).status_code == 200
        data["sync"]["sync_mode"] = "full"
        assert http.post(f"{API}/config", json=data).status_code == 200
        digdag.fail("PUT", "/api/projects", status=500, times=None, message=f"no: {WEBHOOK}")
        failed = http.post(f"{API}/rollback", json={})
        audit = http.get(f"{API}/history").json()["audit"]
    assert failed.status_code == 500
    assert failed.json()["code"] == "rollback_failed"
    newest = audit[0]
    assert (newest["action"], newest["who"], newest["result"]) == ("rollback", "alice", "failed")
    assert newest["message"] == failed.json()["details"]
    assert "no: ********" in newest["message"] and WEBHOOK not in newest["message"]


def test_status_names_the_pending_push_when_the_target_is_not_set_up(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target that cannot be used (the td target without TD_API_KEY) is a drift line in
    status, as an unreachable one is, so the pending push the failed save left shows."""
    monkeypatch.delenv("TD_API_KEY", raising=False)
    with live_server(config, target="td") as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config").json()
        data["sync"]["sync_mode"] = "full"
        saved = http.post(f"{API}/config", json=data)
        status = http.get(f"{API}/status")
    assert saved.status_code == 500
    assert saved.json()["pending"] is True
    assert status.status_code == 200
    body = status.json()
    assert (body["target"], body["in_sync"], body["server_revision"]) == ("td", False, None)
    assert body["pending"]["attempts"] == 1
    needs_key = "the td target needs TD_API_KEY in the environment (or use --target local)"
    assert body["drift"][0].startswith("a push is pending since ")
    assert body["drift"][1:] == [f"cannot read the target's state: {needs_key}"]


@pytest.mark.parametrize("endpoint", ["/config", "/config/validate", "/preview"])
def test_a_workflow_source_that_is_not_there_is_a_config_problem(
    config: Path, endpoint: str
) -> None:
    """Schedule-only mode reads the hand-written .dig beside config.yaml: a save, a
    validation or a preview naming one that does not exist is a 400 at workflow.source
    (not a 502 from the target), and nothing is written."""
    text = config.read_text(encoding="utf-8")
    assert "  name: semantic_layer_sync\n" in text
    config.write_text(  # the API cannot set workflow.source: a file edit did
        text.replace(
            "  name: semantic_layer_sync\n",
            "  name: semantic_layer_sync\n  source: flows/missing.dig\n",
            1,
        ),
        encoding="utf-8",
    )
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config").json()
        before = config.read_bytes()
        data["sync"]["sync_mode"] = "full"
        answer = http.post(f"{API}{endpoint}", json=data)
        (config.parent / "flows").mkdir()
        (config.parent / "flows" / "missing.dig").write_text(
            'timezone: UTC\n\n+hello:\n  echo>: "hi"\n', encoding="utf-8"
        )
        present = http.post(f"{API}{endpoint}", json=data)
    problem = (
        "workflow.source: flows/missing.dig: no such file (the path is relative to "
        "config.yaml's folder)"
    )
    if endpoint == "/config/validate":
        assert answer.status_code == 200
        assert [p["text"] for p in answer.json()["errors"]] == [problem]
        assert present.json()["valid"] is True
    else:
        assert answer.status_code == 400
        assert answer.json()["error"] == [problem]
        assert present.status_code == 200, present.text
    if endpoint == "/preview":  # the hand-written .dig, its schedule rewritten
        shown = present.json()
        assert shown["files"] == ["missing.dig"]
        assert 'daily>: "03:00:00"' in shown["dig"] and "+hello:" in shown["dig"]
        assert shown["schedule"]["after"]["description"] == "every day at 03:00 (UTC)"
    if endpoint != "/config":
        assert config.read_bytes() == before


def test_a_refused_cors_preflight_names_the_allowed_methods_too(config: Path) -> None:
    """A 405 must carry Allow (RFC 9110 15.5.6), the preflight refused while CORS is off
    as well."""
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        answer = http.options(
            f"{API}/config",
            headers={"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"},
        )
    assert answer.status_code == 405
    assert answer.json() == {
        "error": "CORS is not enabled for this origin",
        "code": "method_not_allowed",
    }
    assert answer.headers["allow"] == "GET, HEAD, POST"
    assert "access-control-allow-origin" not in answer.headers


def test_a_save_through_a_symlinked_config_keeps_the_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """config.yaml kept as a link (dotfiles, a checkout elsewhere): the save replaces the
    file it points to, atomically, and the link stays a link."""
    repo = tmp_path / "repo"
    repo.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    target = prepare_workdir(repo, monkeypatch)  # repo/config.yaml, chdir to repo
    monkeypatch.chdir(work)
    link = work / "config.yaml"
    link.symlink_to(target)
    with live_server(link) as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config").json()
        data["sync"]["sync_mode"] = "full"
        saved = http.post(f"{API}/config", json=data)
    assert saved.status_code == 200, saved.text
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert "sync_mode: full" in target.read_text(encoding="utf-8")
    assert [p.name for p in repo.iterdir() if p.name.endswith(".tmp")] == []


def test_a_crlf_config_is_saved_with_crlf_line_endings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config.yaml written on Windows keeps its line endings: only the edited value's
    text changes, not the end of every other line (nor half of them)."""
    from tests.server_fixtures import CONFIG

    crlf = CONFIG.replace("\n", "\r\n")
    config = prepare_workdir(tmp_path, monkeypatch, crlf)
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config").json()
        data["sync"]["sync_mode"] = "full"
        assert http.post(f"{API}/config", json=data).status_code == 200
    expected = crlf.replace("sync_mode: delta    ", "sync_mode: full     ")
    assert config.read_bytes().decode("utf-8") == expected


def test_a_config_with_a_byte_order_mark_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows editors start UTF-8 files with a BOM: the save changes the edited line only."""
    from tests.server_fixtures import CONFIG

    config = prepare_workdir(tmp_path, monkeypatch, "\ufeff" + CONFIG)
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config").json()
        data["sync"]["sync_mode"] = "full"
        assert http.post(f"{API}/config", json=data).status_code == 200
    expected = "\ufeff" + CONFIG.replace("sync_mode: delta    ", "sync_mode: full     ")
    assert config.read_bytes().decode("utf-8") == expected
