"""The Config API's contract (docs/api.md), endpoint by endpoint, over real HTTP with the
local target and real files."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from digsync import __version__
from tests.server_fixtures import API, PROJECT, WEBHOOK, config_data, live_server, prepare_workdir

DIG = Path("workflows") / PROJECT / f"{PROJECT}.dig"
SAVE_KEYS = {
    "success",
    "workflowUpdated",
    "revision",
    "message",
    "etag",
    "warnings",
    "scheduleCheck",
}
PROBLEM_KEYS = {"key_path", "message", "hint", "severity", "line", "column", "text"}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return prepare_workdir(tmp_path, monkeypatch)


@pytest.fixture
def client(config: Path) -> Iterator[httpx.Client]:
    with live_server(config) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def fetch(client: httpx.Client) -> tuple[dict[str, Any], str]:
    r = client.get(f"{API}/config")
    assert r.status_code == 200
    return r.json(), r.headers["ETag"]


def hourly(data: dict[str, Any]) -> dict[str, Any]:
    new = copy.deepcopy(data)
    new["sync"]["schedule"] = {"frequency": "hourly", "time": "15:00", "timezone": "UTC"}
    return new


def test_healthz(client: httpx.Client) -> None:
    r = client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "version": __version__})


def test_get_config_is_the_file_as_data_with_a_strong_etag(
    client: httpx.Client, config: Path
) -> None:
    r = client.get(f"{API}/config")
    assert r.status_code == 200
    expected = config_data(config)
    expected["notifications"]["on_error"]["channels"][0]["channel"] = "********"
    assert r.json() == expected
    digest = hashlib.sha256(config.read_bytes()).hexdigest()[:16]
    assert r.headers["ETag"] == f'"{digest}"'
    assert r.headers["Cache-Control"] == "no-store"


def test_save_writes_pushes_and_answers_the_contract(client: httpx.Client, config: Path) -> None:
    data, etag = fetch(client)
    r = client.post(f"{API}/config", json=hourly(data), headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == SAVE_KEYS
    assert body["success"] is True and body["workflowUpdated"] is True
    assert body["revision"].startswith("digsync-")
    assert body["message"] == f"pushed revision {body['revision']}"
    assert body["warnings"] == []
    # the local target has nowhere to keep the webhook secret, and says so
    assert body["scheduleCheck"] == [
        "set these project secrets on the server yourself: digsync.on_error.slack_0"
    ]
    assert (
        body["etag"]
        == r.headers["ETag"]
        == f'"{hashlib.sha256(config.read_bytes()).hexdigest()[:16]}"'
    )
    assert config_data(config)["sync"]["schedule"]["frequency"] == "hourly"
    assert WEBHOOK in config.read_text()  # the masked URL was kept
    assert 'hourly>: "15:00"' in DIG.read_text()


def test_saving_what_the_target_runs_pushes_nothing(client: httpx.Client) -> None:
    data, _ = fetch(client)
    first = client.post(f"{API}/config", json=data).json()
    assert first["workflowUpdated"] is True
    again = client.post(f"{API}/config", json={"config": data})  # the wrapped form
    assert again.status_code == 200
    assert again.json()["workflowUpdated"] is False
    assert again.json()["message"] == "the server already runs this content; nothing pushed"
    assert again.json()["revision"] == first["revision"]


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda d: d["sync"].update(sync_mode="full"), "sync_mode: full"),
        (lambda d: d["scope"].update(databases=["gld_*", "silver_*"]), '"silver_*"'),
        (lambda d: d["notifications"]["on_error"].update(enabled=False), None),
    ],
    ids=["sync-mode", "scope", "notifications"],
)
def test_every_edit_that_changes_the_workflow_is_pushed(
    client: httpx.Client, edit: Any, needle: str | None
) -> None:
    data, _ = fetch(client)
    assert client.post(f"{API}/config", json=data).json()["workflowUpdated"] is True
    before = DIG.read_text()
    edit(data)
    r = client.post(f"{API}/config", json=data)
    assert r.status_code == 200 and r.json()["workflowUpdated"] is True, r.text
    after = DIG.read_text()
    assert after != before
    if needle:
        assert needle in after
    else:
        assert "_error:" in before and "_error:" not in after


def test_an_edit_of_an_ignored_section_is_saved_but_not_pushed(
    client: httpx.Client, config: Path
) -> None:
    data, _ = fetch(client)
    client.post(f"{API}/config", json=data)
    data["team_notes"] = {"owner": "data-team"}
    r = client.post(f"{API}/config", json=data)
    assert r.status_code == 200
    assert r.json()["workflowUpdated"] is False
    assert [w["key_path"] for w in r.json()["warnings"]] == ["team_notes"]
    assert config_data(config)["team_notes"] == {"owner": "data-team"}


def test_invalid_config_is_400_with_every_problem_and_nothing_is_written(
    client: httpx.Client, config: Path
) -> None:
    before = config.read_bytes()
    data, _ = fetch(client)
    data["sync"]["schedule"]["frequency"] = "dayly"
    data["scope"]["databases"] = []
    r = client.post(f"{API}/config", json=data)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid_config"
    assert body["error"] == [
        "scope.databases: expected at least 1 item(s); got an empty list",
        "sync.schedule.frequency: expected one of manual, hourly, daily, weekly, monthly, "
        "interval, custom; got 'dayly' (did you mean 'daily'?)",
    ]
    assert [p["key_path"] for p in body["problems"]] == [
        "scope.databases",
        "sync.schedule.frequency",
    ]
    assert all(set(p) == PROBLEM_KEYS and p["line"] is None for p in body["problems"])
    assert config.read_bytes() == before
    assert not DIG.exists()


def test_a_stale_if_match_is_412_and_nothing_is_written(client: httpx.Client, config: Path) -> None:
    data, etag = fetch(client)
    assert (
        client.post(f"{API}/config", json=hourly(data), headers={"If-Match": etag}).status_code
        == 200
    )
    saved = config.read_bytes()
    r = client.post(f"{API}/config", json=data, headers={"If-Match": etag})
    assert r.status_code == 412
    assert r.json()["code"] == "precondition_failed"
    assert r.json()["etag"] == client.get(f"{API}/config").headers["ETag"]
    assert config.read_bytes() == saved
    assert client.post(f"{API}/config", json=data, headers={"If-Match": "*"}).status_code == 200


def test_validate_reports_key_paths_and_lines_for_yaml(client: httpx.Client, config: Path) -> None:
    before = config.read_bytes()
    data, _ = fetch(client)
    ok = client.post(f"{API}/config/validate", json=data)
    assert ok.json() == {"valid": True, "errors": [], "warnings": []}
    data["sync"]["schedule"]["cron_expression"] = "0 */6 * *"
    data["sync"]["schedule"]["frequency"] = "custom"
    bad = client.post(f"{API}/config/validate", json={"config": data}).json()
    assert bad["valid"] is False
    assert [(p["key_path"], p["line"]) for p in bad["errors"]] == [
        ("sync.schedule.cron_expression", None)
    ]
    text = config.read_text().replace("frequency: daily", "frequency: dayly")
    yaml = client.post(f"{API}/config/validate", json={"yaml": text}).json()
    assert yaml["valid"] is False
    (problem,) = yaml["errors"]
    assert (problem["key_path"], problem["line"], problem["column"]) == (
        "sync.schedule.frequency",
        12,
        16,
    )
    assert problem["text"].startswith(f"{config}:12:16: sync.schedule.frequency: expected")
    assert config.read_bytes() == before


def test_preview_shows_dig_diff_schedules_and_lint_and_writes_nothing(
    client: httpx.Client, config: Path
) -> None:
    data, _ = fetch(client)
    first = client.post(f"{API}/preview", json=data).json()
    assert first["schedule"]["before"] is None  # nothing pushed yet
    assert first["changed"] is True
    client.post(f"{API}/config", json=data)
    saved, dig = config.read_bytes(), DIG.read_bytes()
    r = client.post(f"{API}/preview", json=hourly(data))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "valid", "project", "dig", "files", "changed", "diff", "schedule", "lint", "warnings"
    }  # fmt: skip
    assert (body["valid"], body["project"], body["changed"]) == (True, PROJECT, True)
    assert 'hourly>: "15:00"' in body["dig"]
    assert f"{PROJECT}.dig" in body["files"] and body["files"] == sorted(body["files"])
    assert '-  daily>: "03:00:00"\n+  hourly>: "15:00"\n' in body["diff"]
    before, after = body["schedule"]["before"], body["schedule"]["after"]
    assert before["description"] == "every day at 03:00 (UTC)"
    assert after["description"] == "every hour at :15 (UTC)"
    assert before["timezone"] == after["timezone"] == "UTC"
    assert len(before["next_runs"]) == len(after["next_runs"]) == 5
    assert set(after["next_runs"][0]) == {"session_time", "run_time"}
    assert after["next_runs"][0]["run_time"].endswith("+00:00")
    assert all(
        set(f) == {"path", "line", "column", "code", "severity", "message"} for f in body["lint"]
    )
    assert (config.read_bytes(), DIG.read_bytes()) == (saved, dig)
    same = client.post(f"{API}/preview", json=data).json()
    assert (same["changed"], same["diff"]) == (False, "")


def test_status_reports_sync_and_target(client: httpx.Client) -> None:
    fresh = client.get(f"{API}/status").json()
    assert fresh["in_sync"] is False
    assert fresh["drift"][0] == "nothing has been pushed from here yet"
    data, _ = fetch(client)
    revision = client.post(f"{API}/config", json=data).json()["revision"]
    assert client.get(f"{API}/status").json() == {
        "project": PROJECT,
        "in_sync": True,
        "server_revision": revision,
        "drift": [],
        "pending": None,
        "target": "local",
        "rolled_back": None,
    }


def test_history_lists_the_audit_newest_first_and_the_revisions(
    client: httpx.Client, config: Path
) -> None:
    data, _ = fetch(client)
    first = client.post(f"{API}/config", json=data).json()["revision"]
    audit_file = config.parent / ".digsync" / "audit.jsonl"
    after_first = audit_file.read_bytes()
    second = client.post(f"{API}/config", json=hourly(data)).json()["revision"]
    assert audit_file.read_bytes().startswith(after_first)  # appended, never rewritten
    assert len(audit_file.read_bytes().splitlines()) == 2
    body = client.get(f"{API}/history").json()
    assert body["project"] == PROJECT
    assert [(a["action"], a["who"], a["result"], a["revision"]) for a in body["audit"]] == [
        ("save", "tester", "pushed", second),  # $DIGSYNC_USER, as the CLI records
        ("save", "tester", "pushed", first),
    ]
    assert set(body["audit"][0]) == {
        "time",
        "who",
        "action",
        "diff",
        "result",
        "revision",
        "message",
    }
    assert '-      "frequency": "daily",' in body["audit"][0]["diff"]
    assert '+      "frequency": "hourly",' in body["audit"][0]["diff"]
    assert [(r["revision"], r["current"], r["result"]) for r in body["revisions"]] == [
        (second, True, "pushed"),
        (first, False, "pushed"),
    ]
    assert set(body["revisions"][0]) == {
        "revision", "created_at", "who", "action", "config_hash", "result", "current"
    }  # fmt: skip


def test_rollback_re_pushes_the_previous_revision(client: httpx.Client, config: Path) -> None:
    data, _ = fetch(client)
    first = client.post(f"{API}/config", json=data).json()["revision"]
    second = client.post(f"{API}/config", json=hourly(data)).json()["revision"]
    saved = config.read_bytes()
    r = client.post(f"{API}/rollback", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {
        "success", "project", "from_revision", "to_revision", "new_revision", "advice",
        "status", "config_restored", "config_path", "config_backup",
    }  # fmt: skip
    assert (body["status"], body["config_restored"]) == ("pushed", False)
    assert (body["success"], body["from_revision"], body["to_revision"]) == (True, second, first)
    assert body["new_revision"] == f"{first}-rollback"
    assert 'daily>: "03:00:00"' in DIG.read_text()
    assert config.read_bytes() == saved  # config.yaml is left alone, as the CLI does
    assert body["advice"].startswith(f"{config} was not changed")
    audit = client.get(f"{API}/history").json()["audit"][0]
    assert (audit["action"], audit["revision"]) == ("rollback", body["new_revision"])
    unknown = client.post(f"{API}/rollback", json={"revision": "nope"})
    assert unknown.status_code == 409
    assert unknown.json()["code"] == "rollback_failed"
    assert unknown.json()["error"].startswith(f"{PROJECT}: no revision 'nope' (newest: ")


def test_the_page_is_served_with_the_csp(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"
    missing = client.get("/static/no-such-file.js")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_digsync_serve_prints_the_url_to_open_and_stops_on_ctrl_c(config: Path) -> None:
    import signal

    from tests.server_fixtures import digsync_child, free_port

    port = free_port()
    args = ("serve", "--config", str(config), "--port", str(port))
    with digsync_child(*args, cwd=config.parent) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == f"digsync serve: open http://127.0.0.1:{port}/  (Ctrl-C to stop)\n"
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0


def test_a_busy_port_is_a_usage_error(config: Path) -> None:
    from digsync.errors import InputError
    from digsync.server import listen

    taken = listen("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(InputError, match=f"cannot listen on 127.0.0.1:{port}: "):
            listen("127.0.0.1", port)
    finally:
        taken.close()
