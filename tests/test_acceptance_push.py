"""Acceptance checks of the push contract (issue #3) found missing in review: each test
drives the CLI against the fake Digdag server (or a fake tdx) as a user would."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from digsync.cli import main
from tests import fake_tdx
from tests.conftest import BASE
from tests.fake_digdag import FakeDigdag, fake_digdag
from tests.push_helpers import cli, fake_time, push_workdir

WEBHOOK = "https://hooks.slack.com/services/T1/B1/ACCEPTANCEHOOK"
NOTIFY = f"""\
notifications:
  on_error:
    enabled: true
    channels: [{{type: slack, channel: "{WEBHOOK}"}}]
"""
WITH_WEBHOOK = BASE + NOTIFY
PROJECT = "semantic_layer_sync"
SECRET_KEY = "digsync.on_error.slack_0"


@pytest.fixture
def server() -> Iterator[FakeDigdag]:
    with fake_digdag() as fake:
        yield fake


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return push_workdir(tmp_path, monkeypatch, WITH_WEBHOOK, retry_total="5", http_timeout="2")


def project_puts(server: FakeDigdag) -> list[str]:
    return [
        r.query.get("revision", "")
        for r in server.requests
        if r.method == "PUT" and r.path == "/api/projects"
    ]


# --- schedule-only mode: push sends the hand-written workflow ----------------------------

HAND_WRITTEN = """\
# our own workflow
timezone: Asia/Tokyo

schedule:
  daily>: 07:00:00

+load:
  td>: queries/load.sql
"""


def test_schedule_only_push_sends_the_hand_written_workflow_with_the_new_schedule(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "mine.dig").write_text(HAND_WRITTEN, encoding="utf-8")
    (workdir / "queries").mkdir()
    (workdir / "queries" / "load.sql").write_text("SELECT 1\n", encoding="utf-8")
    (workdir / ".hidden").write_text("not part of the project\n", encoding="utf-8")
    (workdir / "digsync.schema.json").write_text("{}\n", encoding="utf-8")
    (workdir / "config.yaml").write_text(BASE + "  source: mine.dig\n" + NOTIFY, encoding="utf-8")

    code, out, err = cli(capsys, server, "push")
    assert code == 0, out + err
    files = server.files(PROJECT)
    # The config (it holds a webhook URL), dot files and the schema stay home.
    assert sorted(files) == ["mine.dig", "queries/load.sql"]
    assert files["mine.dig"].decode() == HAND_WRITTEN.replace("Asia/Tokyo", "UTC").replace(
        "daily>: 07:00:00", 'daily>: "03:00:00"'
    )
    assert WEBHOOK.encode() not in b"".join(files.values())
    (schedule,) = server.schedules(PROJECT)
    assert schedule["workflow"]["name"] == "mine"
    # The hand-written file on disk is left as it was: only generate rewrites it.
    assert (workdir / "mine.dig").read_text(encoding="utf-8") == HAND_WRITTEN

    code, out, _ = cli(capsys, server, "plan")
    assert code == 0 and "up to date" in out


def test_schedule_only_local_push_does_not_pack_its_own_output(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "mine.dig").write_text(HAND_WRITTEN, encoding="utf-8")
    (workdir / "queries").mkdir()
    (workdir / "queries" / "load.sql").write_text("SELECT 1\n", encoding="utf-8")
    (workdir / "config.yaml").write_text(BASE + "  source: mine.dig\n", encoding="utf-8")
    assert main(["push"]) == 0
    pushed = workdir / "workflows" / PROJECT
    assert sorted(p.relative_to(pushed).as_posix() for p in pushed.rglob("*.*")) == [
        "mine.dig",
        "queries/load.sql",
    ]
    capsys.readouterr()
    assert main(["plan"]) == 0, capsys.readouterr().out


# --- tdx: every push after the first --------------------------------------------------


def test_tdx_target_plans_and_pushes_again_after_the_first_push(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = workdir / "bin"
    fake_tdx.install(bin_dir)
    log = workdir / "tdx.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TDX_LOG", str(log))
    monkeypatch.setenv("FAKE_TDX_STATE", str(workdir / "tdx-server"))
    (workdir / "config.yaml").write_text(BASE, encoding="utf-8")

    def push() -> dict[str, str]:
        assert main(["push", "--target", "tdx", "--json"]) == 0
        (result,) = json.loads(capsys.readouterr().out)["results"]
        return dict(result)

    first = push()
    assert first["status"] == "pushed"
    log.unlink()
    assert push()["status"] == "unchanged"
    assert not log.exists()  # tdx was not run for content it already pushed

    (workdir / "config.yaml").write_text(BASE.replace("03:00:00", "04:00:00"), encoding="utf-8")
    assert main(["plan", "--target", "tdx"]) == 1
    out = capsys.readouterr().out
    assert "changed  semantic_layer_sync.dig" in out
    assert "every day at 03:00 (UTC) -> every day at 04:00 (UTC)" in out
    second = push()
    assert second["status"] == "pushed" and second["revision"] != first["revision"]
    (call,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert call["args"][:2] == ["wf", "push"] and call["revision"] == second["revision"]

    assert main(["rollback", "--target", "tdx"]) == 0
    assert f"rolled back to {first['revision']}" in capsys.readouterr().out


# --- project secrets the server lacks ------------------------------------------------------


def test_secrets_of_a_new_project_are_set_by_the_next_push_when_setting_them_failed(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    server.fail("PUT", "/api/projects/1/secrets/", status=400, message="secret store is down")
    code, out, _ = cli(capsys, server, "push")
    assert code == 2 and "set secret digsync.on_error.slack_0 failed: 400 from PUT" in out
    assert server.revisions(PROJECT) and server.secrets(PROJECT) == {}  # the PUT had landed

    code, out, _ = cli(capsys, server, "status")
    assert code == 1
    assert (
        f"project secret(s) {SECRET_KEY} not set on the server (the notifications that use "
        "them would fail); run digsync push to set them"
    ) in out

    server.clear_requests()
    code, out, err = cli(capsys, server, "push", "--json")
    assert code == 0, out + err
    (result,) = json.loads(out)["results"]
    assert result["status"] == "unchanged"
    assert result["message"] == (
        "the server already runs this content; set the project secret(s) it lacked: " + SECRET_KEY
    )
    assert project_puts(server) == []  # the workflow itself was not pushed again
    assert server.secrets(PROJECT) == {SECRET_KEY: WEBHOOK}
    assert WEBHOOK not in out + err

    code, out, _ = cli(capsys, server, "status")
    assert code == 0, out


def test_an_unchanged_push_asks_for_secret_keys_only_without_a_push_from_here(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, server, "push")[0] == 0
    server.clear_requests()
    code, out, _ = cli(capsys, server, "push")
    assert code == 0 and "nothing pushed" in out
    assert [r.path for r in server.requests] == ["/api/projects"]  # this push set them

    (workdir / ".digsync" / PROJECT / "ledger.jsonl").unlink()  # say, pushed from CI
    server.clear_requests()
    code, out, _ = cli(capsys, server, "push")
    assert code == 0 and "nothing pushed" in out
    assert [r.path for r in server.requests] == ["/api/projects", "/api/projects/1/secrets"]


# --- the original script's flags: generate --project NAME --push ----------------------------


def test_generate_project_push_pushes_that_project_and_prints_one_json_document(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        capsys,
        server,
        "generate",
        "--project-dir",
        "build",
        "--project",
        "renamed",
        "--push",
        "--json",
    )
    assert code == 0, out + err
    doc = json.loads(out)  # one document, not the generate report and then the push's
    assert (workdir / "build" / "renamed" / "semantic_layer_sync.dig").is_file()
    assert [r["project"] for r in doc["results"]] == ["renamed"]
    assert doc["results"][0]["status"] == "pushed"
    assert "build/renamed/semantic_layer_sync.dig" in [f["path"] for f in doc["files"]]
    assert list(server.projects) == ["renamed"]
    assert server.secrets("renamed") == {SECRET_KEY: WEBHOOK}


# --- many configs: a missing one stops the command before anything is pushed ----------------


def test_push_of_several_configs_with_a_missing_one_pushes_nothing(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "b.yaml").write_text(BASE.replace("project: semantic_layer_sync", "project: b"))
    code, _, err = cli(
        capsys,
        server,
        "push",
        "--config",
        "config.yaml",
        "--config",
        "b.yaml",
        "--config",
        "nope.yaml",
    )
    assert code == 2
    assert err == "error: no such config file: nope.yaml; nothing was pushed\n"
    assert server.requests == []


# --- words: the plan's diff names its sides; history shows a failed push plainly -----------


def test_plan_diff_names_the_server_and_the_local_render(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, server, "push")[0] == 0
    (workdir / "config.yaml").write_text(WITH_WEBHOOK.replace("03:00:00", "05:00:00"))
    code, out, _ = cli(capsys, server, "plan")
    assert code == 1
    assert (
        "--- semantic_layer_sync.dig (server)\n+++ semantic_layer_sync.dig (local render)\n" in out
    )
    assert (
        "schedule of semantic_layer_sync: every day at 03:00 (UTC) -> every day at 05:00 (UTC)"
        in out
    )


def test_history_shows_a_failed_push_without_a_revision_as_a_dash(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    server.fail("PUT", "/api/projects", status=400, message="no")
    assert cli(capsys, server, "push")[0] == 2
    code, out, _ = cli(capsys, server, "history")
    assert code == 0
    (row,) = out.splitlines()[1:]
    assert row.split()[0] == "-" and row.split()[-1] == "failed"
    assert "None" not in out


# --- idempotent whatever the config path is spelled like -------------------------------


def test_push_is_idempotent_however_the_config_path_is_written(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, server, "push")[0] == 0
    for spelling in (
        "./config.yaml",
        str(workdir / "config.yaml"),
        "../" + workdir.name + "/config.yaml",
    ):
        code, out, _ = cli(capsys, server, "push", "--config", spelling)
        assert code == 0 and "unchanged" in out, spelling
    assert len(project_puts(server)) == 1


# --- retries wait what the server asks ---------------------------------------------------


def test_a_429_with_retry_after_is_retried_after_that_many_seconds(
    workdir: Path,
    server: FakeDigdag,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = fake_time(monkeypatch)
    server.fail(
        "GET", "/api/projects", status=429, message="slow down", headers={"Retry-After": "3"}
    )
    code, out, err = cli(capsys, server, "push")
    assert code == 0, out + err
    first, second = server.requests[:2]
    assert (first.status, second.status) == (429, 200)
    # One wait, the push's only one, of what Retry-After asked (the backoff is at most 0.05).
    assert clock.sleeps == [3.0]


def test_a_401_names_the_credential_to_check(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TD_API_KEY", "1/wrongkey")
    with fake_digdag(auth="TD1 1/rightkey") as td:
        code = main(["plan", "--target", "td", "--endpoint", td.url])
        err = capsys.readouterr().err
    assert code == 2  # a failed plan is not "changes" (1)
    assert err == (
        f"error: find project failed: 401 from GET {td.url}/api/projects?name={PROJECT}: "
        "Authentication failed: missing or wrong Authorization (check TD_API_KEY: a master "
        "or write API key of the account this endpoint serves)\n"
    )
    assert "wrongkey" not in err


# --- a schedule whose end date has passed -------------------------------------------------


def test_a_schedule_that_has_ended_pushes_and_reads_back_without_a_crash(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    ended = WITH_WEBHOOK.replace(
        'time: "03:00:00"', 'time: "03:00:00"\n    start: 2019-01-01\n    end: 2020-01-01'
    )
    (workdir / "config.yaml").write_text(ended, encoding="utf-8")
    code, out, err = cli(capsys, server, "push", "--json")
    assert code == 0, out + err
    (result,) = json.loads(out)["results"]
    assert (result["status"], result["warnings"]) == ("pushed", [])
    (schedule,) = server.schedules(PROJECT)
    assert schedule["nextRunTime"] == "9999-01-01T00:00:00Z"
    code, out, _ = cli(capsys, server, "status")
    assert code == 0, out


# --- an endpoint that is not the Digdag API -------------------------------------------------


class _WebPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>Sign in to the console</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("command", ["plan", "push", "status", "history"])
def test_an_endpoint_that_answers_a_web_page_is_a_clear_error_not_a_bug(
    workdir: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _WebPage)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        code = main([command, "--target", "digdag", "--endpoint", url])
    finally:
        httpd.shutdown()
        httpd.server_close()
    out, err = capsys.readouterr()
    assert code in (1, 2), out + err
    assert "Traceback" not in err and "bug" not in err
    assert (
        f"find project failed: 200 from GET {url}/api/projects?name={PROJECT}: the answer is "
        "not the Digdag API's (text/html: '<html><body>Sign in to the console</body></html>'); "
        "check that the endpoint is a workflow API server such as "
        "https://api-workflow.treasuredata.com"
    ) in out + err


def test_plan_of_a_new_project_says_the_workflow_is_new(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, server, "plan")
    assert code == 1
    assert (
        "schedule of semantic_layer_sync: none (a new workflow) -> every day at 03:00 (UTC)\n"
        in out
    )
    assert "  next runs before:  none\n" in out


def test_push_of_an_invalid_config_says_how_many_problems_it_has(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = BASE.replace("frequency: daily", "frequency: dayly").replace(
        "timezone: UTC", "timezone: Mars"
    )
    (workdir / "config.yaml").write_text("approval: {}\n" + bad, encoding="utf-8")
    code, out, _ = cli(capsys, server, "push", "--json")
    assert code == 2
    (result,) = json.loads(out)["results"]
    assert result["message"] == (
        "invalid config: config.yaml:9:16: sync.schedule.frequency: expected one of manual, "
        "hourly, daily, weekly, monthly, interval, custom; got 'dayly' (did you mean 'daily'?) "
        "(and 1 more: digsync validate --config config.yaml)"
    )
    assert server.requests == []
