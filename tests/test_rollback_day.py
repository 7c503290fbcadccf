"""A day with a rollback (issue #14 items 4-7): status names the rollback, a rollback to
what the server runs is a no-op, --restore-config / restore_config makes config.yaml match,
and a save that would push over the rollback asks first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from digsync.history.ledger import Ledger
from tests.conftest import BASE
from tests.fake_digdag import FakeDigdag, fake_digdag
from tests.push_helpers import cli, push_workdir
from tests.server_fixtures import API, PROJECT, config_data, live_server, prepare_workdir

HOURLY = BASE.replace("frequency: daily", "frequency: hourly")


@pytest.fixture
def server() -> Iterator[FakeDigdag]:
    with fake_digdag() as fake:
        yield fake


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return push_workdir(tmp_path, monkeypatch, BASE)


def run_json(capsys: pytest.CaptureFixture[str], server: FakeDigdag, *args: str) -> Any:
    code, out, err = cli(capsys, server, *args, "--json")
    return code, json.loads(out), err


def two_pushes(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> tuple[str, str]:
    """Push the daily config, then the hourly one: (first revision, second revision)."""
    assert cli(capsys, server, "push")[0] == 0
    first = server.revisions(PROJECT)[-1].name
    (workdir / "config.yaml").write_text(HOURLY, encoding="utf-8")
    assert cli(capsys, server, "push")[0] == 0
    return first, server.revisions(PROJECT)[-1].name


def ledger(workdir: Path) -> Ledger:
    return Ledger(workdir / ".digsync", PROJECT)


# --- item 4: status after a rollback -----------------------------------------------------


def test_status_after_a_rollback_names_it_instead_of_config_changed(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = two_pushes(workdir, server, capsys)
    code, result, _ = run_json(capsys, server, "rollback")
    assert code == 0
    new = result["new_revision"]
    entry = ledger(workdir).entries()[-1]
    assert (entry["action"], entry["rolled_back_to"], entry["revision"]) == (
        "rollback",
        first,
        new,
    )
    code, doc, _ = run_json(capsys, server, "status")
    (report,) = doc["projects"]
    assert code == 1
    assert report["rolled_back"] == {"to": first, "from": second, "revision": new}
    assert not any("changed since the last push" in line for line in report["drift"])
    assert any(
        f"the server runs {new}, a rollback to revision {first} (rolled back from {second})" in line
        and "is ahead of it" in line
        for line in report["drift"]
    )
    code, out, _ = cli(capsys, server, "status")
    assert f"rolled back: the server runs {new}, revision {first} rolled back from {second}" in out
    # a push since: no rollback is current any more
    (workdir / "config.yaml").write_text(BASE.replace("03:00:00", "04:00:00"))
    assert cli(capsys, server, "push")[0] == 0
    code, doc, _ = run_json(capsys, server, "status")
    assert doc["projects"][0]["rolled_back"] is None


# --- item 5: a rollback to what the server runs ----------------------------------------


def test_rolling_back_to_the_content_the_server_runs_is_a_no_op(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = two_pushes(workdir, server, capsys)
    assert run_json(capsys, server, "rollback", first)[0] == 0
    revisions, entries = len(server.revisions(PROJECT)), len(ledger(workdir).entries())
    current = server.revisions(PROJECT)[-1].name
    for again in (first, current):  # the same content, by either name
        code, result, _ = run_json(capsys, server, "rollback", again)
        assert code == 0
        assert (result["status"], result["new_revision"]) == ("unchanged", current)
        assert len(server.revisions(PROJECT)) == revisions
        assert len(ledger(workdir).entries()) == entries  # as push: nothing appended
    code, out, _ = cli(capsys, server, "rollback", first)
    assert code == 0 and "unchanged" in out and "nothing pushed" in out


# --- item 6: --restore-config ------------------------------------------------------------


def test_rollback_restore_config_writes_the_kept_config_and_status_agrees(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = two_pushes(workdir, server, capsys)
    config = workdir / "config.yaml"
    code, result, _ = run_json(capsys, server, "rollback", "--restore-config")
    assert code == 0, result
    assert result["status"] == "pushed" and result["to_revision"] == first
    assert (result["config_restored"], result["config_path"]) == (True, "config.yaml")
    assert config.read_text() == BASE
    assert Path(result["config_backup"]).read_text() == HOURLY  # the old one is kept
    code, doc, _ = run_json(capsys, server, "status")
    assert code == 0, doc
    report = doc["projects"][0]
    assert report["in_sync"] is True
    assert report["rolled_back"]["to"] == first
    # restoring when the server already runs it: no push, the config is still restored
    config.write_text(HOURLY)
    revisions = len(server.revisions(PROJECT))
    code, result, _ = run_json(capsys, server, "rollback", first, "--restore-config")
    assert (code, result["status"], result["config_restored"]) == (0, "unchanged", True)
    assert config.read_text() == BASE and len(server.revisions(PROJECT)) == revisions
    code, out, _ = cli(capsys, server, "rollback", second, "--restore-config")
    assert code == 0 and "config_restored: true: wrote config.yaml" in out
    assert config.read_text() == HOURLY


def test_restore_config_without_a_kept_copy_refuses_before_rolling_back(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, server, "push")[0] == 0
    files = dict(server.files(PROJECT))
    edited = {**files, f"{PROJECT}.dig": files[f"{PROJECT}.dig"] + b"# by hand\n"}
    server.push_directly(PROJECT, edited, "digsync-by-hand")
    first = server.revisions(PROJECT)[0].name
    (workdir / "config.yaml").write_text(HOURLY)
    assert cli(capsys, server, "push")[0] == 0
    revisions, entries = len(server.revisions(PROJECT)), len(ledger(workdir).entries())
    code, doc, _ = run_json(capsys, server, "rollback", "digsync-by-hand", "--restore-config")
    assert code == 2
    assert "no copy of its config is kept; nothing was changed" in doc["error"]
    assert len(server.revisions(PROJECT)) == revisions
    assert len(ledger(workdir).entries()) == entries
    assert (workdir / "config.yaml").read_text() == HOURLY
    assert first != "digsync-by-hand"


# --- the API: status, restore_config, and a save after a rollback -----------------------


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return prepare_workdir(tmp_path, monkeypatch)


@pytest.fixture
def client(config: Path) -> Iterator[httpx.Client]:
    with live_server(config) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def hourly(data: dict[str, Any]) -> dict[str, Any]:
    new: dict[str, Any] = json.loads(json.dumps(data))
    new["sync"]["schedule"] = {"frequency": "hourly", "time": "15:00", "timezone": "UTC"}
    return new


def saved_twice(client: httpx.Client) -> tuple[dict[str, Any], str, str]:
    data = client.get(f"{API}/config").json()
    first = client.post(f"{API}/config", json=data).json()["revision"]
    second = client.post(f"{API}/config", json=hourly(data)).json()["revision"]
    return data, first, second


def test_api_status_names_the_rollback(client: httpx.Client) -> None:
    _, first, second = saved_twice(client)
    new = client.post(f"{API}/rollback", json={}).json()["new_revision"]
    body = client.get(f"{API}/status").json()
    assert body["rolled_back"] == {"to": first, "from": second, "revision": new}
    assert not any("changed since the last push" in line for line in body["drift"])
    assert any("a rollback to revision" in line for line in body["drift"])


def test_api_rollback_to_the_current_content_is_unchanged(client: httpx.Client) -> None:
    _, first, _ = saved_twice(client)
    new = client.post(f"{API}/rollback", json={"revision": first}).json()["new_revision"]
    again = client.post(f"{API}/rollback", json={"revision": first})
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["new_revision"]) == ("unchanged", new)
    audit = client.get(f"{API}/history").json()["audit"][0]
    assert (audit["action"], audit["result"]) == ("rollback", "unchanged")


def test_api_rollback_restore_config(client: httpx.Client, config: Path) -> None:
    _, first, _ = saved_twice(client)
    r = client.post(f"{API}/rollback", json={"revision": first, "restore_config": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["config_restored"], body["config_path"]) == (True, str(config))
    assert config_data(config)["sync"]["schedule"]["frequency"] == "daily"
    assert "hourly" in Path(body["config_backup"]).read_text()
    assert client.get(f"{API}/status").json()["in_sync"] is True
    bad = client.post(f"{API}/rollback", json={"restore_config": "yes"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_request")


def test_api_restore_config_without_a_copy_is_409_and_changes_nothing(
    client: httpx.Client, config: Path
) -> None:
    _, first, _ = saved_twice(client)
    state = config.parent / ".digsync" / PROJECT / "configs"
    for copy in state.iterdir():
        copy.unlink()
    before = config.read_bytes()
    revisions = client.get(f"{API}/history").json()["revisions"]
    r = client.post(f"{API}/rollback", json={"revision": first, "restore_config": True})
    assert (r.status_code, r.json()["code"]) == (409, "no_config_copy")
    assert config.read_bytes() == before
    assert client.get(f"{API}/history").json()["revisions"] == revisions


def test_a_save_that_would_push_over_a_rollback_needs_confirming(
    client: httpx.Client, config: Path
) -> None:
    data, first, _ = saved_twice(client)
    new = client.post(f"{API}/rollback", json={}).json()["new_revision"]
    stored = client.get(f"{API}/config").json()
    # no change: nothing is pushed, the rollback stays
    same = client.post(f"{API}/config", json=stored)
    assert same.status_code == 200, same.text
    assert (same.json()["workflowUpdated"], same.json()["revision"]) == (False, new)
    assert client.get(f"{API}/status").json()["server_revision"] == new
    # a change would push: refused, nothing written
    before = config.read_bytes()
    edited = json.loads(json.dumps(stored))
    edited["sync"]["sync_mode"] = "full"
    r = client.post(f"{API}/config", json=edited)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "undoes_rollback"
    assert body["rolled_back"]["to"] == first and body["rolled_back"]["revision"] == new
    assert config.read_bytes() == before
    assert client.get(f"{API}/status").json()["server_revision"] == new
    # confirmed: saved and pushed
    ok = client.post(f"{API}/config", params={"confirm_undo_rollback": "true"}, json=edited)
    assert ok.status_code == 200, ok.text
    assert ok.json()["workflowUpdated"] is True
    status = client.get(f"{API}/status").json()
    assert status["server_revision"] == ok.json()["revision"]
    assert status["rolled_back"] is None
    # and with no rollback current, saves are as before
    again = client.post(f"{API}/config", json=hourly(data))
    assert again.status_code == 200 and again.json()["workflowUpdated"] is True


def test_saving_the_rolled_back_config_keeps_the_rollback(
    client: httpx.Client, config: Path
) -> None:
    data, _, _ = saved_twice(client)
    new = client.post(f"{API}/rollback", json={}).json()["new_revision"]
    r = client.post(f"{API}/config", json=data)  # what the rollback runs: not pushed
    assert r.status_code == 200, r.text
    assert (r.json()["workflowUpdated"], r.json()["revision"]) == (False, new)
    assert config_data(config)["sync"]["schedule"]["frequency"] == "daily"
    assert client.get(f"{API}/status").json()["in_sync"] is True
