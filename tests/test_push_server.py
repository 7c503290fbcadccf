"""push / plan / status / history / rollback against a real HTTP server speaking the
Digdag REST API (tests/fake_digdag.py), with fault injection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from digsync.cli import main
from tests.conftest import BASE
from tests.fake_digdag import FakeDigdag, fake_digdag
from tests.push_helpers import PushJson, cli, fake_time, push_workdir

WEBHOOK = "https://hooks.slack.com/services/T1/B1/TOPSECRETWEBHOOK"
CONFIG = (
    BASE
    + f"""\
notifications:
  on_error:
    enabled: true
    channels: [{{type: slack, channel: "{WEBHOOK}"}}]
"""
)
PROJECT = "semantic_layer_sync"


@pytest.fixture
def server() -> Iterator[FakeDigdag]:
    with fake_digdag() as fake:
        yield fake


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return push_workdir(tmp_path, monkeypatch, CONFIG, retry_total="20", http_timeout="1")


def push_json(capsys: pytest.CaptureFixture[str], server: FakeDigdag) -> tuple[int, PushJson]:
    code, out, _ = cli(capsys, server, "push", "--json")
    results: list[PushJson] = json.loads(out)["results"]
    (result,) = results
    return code, result


def puts(server: FakeDigdag) -> list[str]:
    return [
        r.query.get("revision", "")
        for r in server.requests
        if r.method == "PUT" and r.path == "/api/projects"
    ]


def test_first_push_creates_project_then_sets_secrets(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = push_json(capsys, server)
    assert code == 0 and result["status"] == "pushed"
    assert result["warnings"] == []  # the server's next run matched the local preview
    calls = [(r.method, r.path) for r in server.requests if r.method == "PUT"]
    assert calls == [
        ("PUT", "/api/projects"),
        ("PUT", "/api/projects/1/secrets/digsync.on_error.slack_0"),
    ]
    (put,) = [r for r in server.requests if r.path == "/api/projects" and r.method == "PUT"]
    assert put.headers["Content-Type"] == "application/gzip"
    assert int(put.headers["Content-Length"]) == len(put.body)
    assert server.secrets(PROJECT) == {"digsync.on_error.slack_0": WEBHOOK}
    dig = server.files(PROJECT)[f"{PROJECT}.dig"].decode()
    assert WEBHOOK not in dig and "${secret:digsync.on_error.slack_0}" in dig


def test_unchanged_content_makes_no_put(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert push_json(capsys, server)[0] == 0
    server.clear_requests()
    code, result = push_json(capsys, server)
    assert (code, result["status"]) == (0, "unchanged")
    assert puts(server) == []
    # the archive checksum matched, so nothing was downloaded either
    assert [r.path for r in server.requests] == ["/api/projects"]
    assert cli(capsys, server, "plan")[0] == 0


def test_schedule_change_reaches_the_server_with_secrets_first(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert push_json(capsys, server)[0] == 0
    (workdir / "config.yaml").write_text(CONFIG.replace("frequency: daily", "frequency: hourly"))
    code, out, _ = cli(capsys, server, "plan")
    assert code == 1
    assert "every day at 03:00 (UTC) -> every hour at :00 (UTC)" in out
    server.clear_requests()
    code, result = push_json(capsys, server)
    assert (code, result["status"]) == (0, "pushed")
    paths = [r.path for r in server.requests if r.method == "PUT"]
    assert paths == ["/api/projects/1/secrets/digsync.on_error.slack_0", "/api/projects"]
    assert 'hourly>: "00:00"' in server.files(PROJECT)[f"{PROJECT}.dig"].decode()
    assert len(server.revisions(PROJECT)) == 2


def test_disabling_the_schedule_removes_it_on_the_server(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert push_json(capsys, server)[0] == 0
    assert len(server.schedules(PROJECT)) == 1
    (workdir / "config.yaml").write_text(CONFIG.replace("frequency: daily", "enabled: false"))
    code, result = push_json(capsys, server)
    assert (code, result["status"], result["warnings"]) == (0, "pushed", [])
    assert server.schedules(PROJECT) == []


def test_server_400_message_is_shown_verbatim_and_not_retried(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    server.fail("PUT", "/api/projects", status=400, message="Parameter 'x' is not used")
    code, result = push_json(capsys, server)
    assert code == 2
    revision = result["message"].split("revision=")[1].split(":")[0]
    assert result["message"] == (
        f"push failed: 400 from PUT {server.url}/api/projects?project={PROJECT}"
        f"&revision={revision}: Parameter 'x' is not used"
    )
    assert len(puts(server)) == 1
    ledger = (workdir / ".digsync" / PROJECT / "ledger.jsonl").read_text()
    assert '"result": "failed"' in ledger and WEBHOOK not in ledger


def test_5xx_and_429_are_retried(
    workdir: Path,
    server: FakeDigdag,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = fake_time(monkeypatch)
    server.fail("PUT", "/api/projects", status=500, times=1)
    server.fail("PUT", "/api/projects", status=429, times=1)
    code, result = push_json(capsys, server)
    assert (code, result["status"]) == (0, "pushed")
    assert len(puts(server)) == 3
    assert len(server.revisions(PROJECT)) == 1
    # A backoff before each retry, with full jitter up to 0.01 * 2^attempt s (the 429
    # asks no Retry-After).
    first, second = clock.sleeps
    assert 0 <= first <= 0.02 and 0 <= second <= 0.04


def test_retries_are_bounded_and_the_failure_names_status_and_url(
    workdir: Path,
    server: FakeDigdag,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIGSYNC_RETRY_ATTEMPTS", "3")
    server.fail("GET", "/api/projects", status=503, times=None, message="maintenance")
    code, result = push_json(capsys, server)
    assert code == 2
    assert result["message"] == (
        f"find project failed: 503 from GET {server.url}/api/projects?name={PROJECT}: "
        "maintenance (after 3 attempts)"
    )


@pytest.mark.slow
def test_timeouts_and_resets_are_retried(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    server.delay("GET", "/api/projects", seconds=2.5, times=1)  # client timeout is 1 s
    server.reset_connection("PUT", "/api/projects", times=1)
    code, result = push_json(capsys, server)
    assert (code, result["status"]) == (0, "pushed")
    assert len(server.revisions(PROJECT)) == 1


def test_reset_after_the_server_stored_the_push_is_not_a_failure(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    server.reset_connection("PUT", "/api/projects", times=1, after_processing=True)
    code, result = push_json(capsys, server)
    assert (code, result["status"]) == (0, "pushed")
    assert [r.name for r in server.revisions(PROJECT)] == [result["revision"]]


def test_someone_elses_push_between_plan_and_push_stops_it(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert push_json(capsys, server)[0] == 0
    _, out, _ = cli(capsys, server, "plan", "--json")
    seen = json.loads(out)["plans"][0]["server_revision"]
    server.push_directly(
        PROJECT, {f"{PROJECT}.dig": b"timezone: UTC\n+a:\n  echo>: hi\n"}, "their-revision"
    )
    (workdir / "config.yaml").write_text(CONFIG.replace("03:00:00", "04:00:00"))
    server.clear_requests()
    code, out, _ = cli(capsys, server, "push", "--expect-revision", seen, "--json")
    assert code == 1
    (result,) = json.loads(out)["results"]
    assert "not " + seen + " that was planned; nothing was pushed" in result["message"]
    assert puts(server) == []
    assert server.revisions(PROJECT)[-1].name == "their-revision"


def test_status_reports_console_edits_and_disabled_schedules(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert push_json(capsys, server)[0] == 0
    assert cli(capsys, server, "status")[0] == 0
    server.disable_schedule(PROJECT, PROJECT)
    code, out, _ = cli(capsys, server, "status", "--json")
    assert code == 1
    assert json.loads(out)["projects"][0]["drift"] == [
        f"{PROJECT}: the schedule is disabled on the server"
    ]
    server.enable_schedule(PROJECT, PROJECT)
    server.push_directly(
        PROJECT, {f"{PROJECT}.dig": b"timezone: UTC\n+a:\n  echo>: hi\n"}, "console-edit"
    )
    code, out, _ = cli(capsys, server, "status", "--json")
    drift = json.loads(out)["projects"][0]["drift"]
    assert drift[0].startswith("the server runs revision console-edit, not digsync-")


def test_history_and_rollback_against_the_server(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    assert push_json(capsys, server)[0] == 0
    first_files = dict(server.files(PROJECT))
    (workdir / "config.yaml").write_text(CONFIG.replace("frequency: daily", "frequency: hourly"))
    assert push_json(capsys, server)[0] == 0
    code, out, _ = cli(capsys, server, "history", "--json")
    rows = json.loads(out)["revisions"]
    assert [(r["current"], r["who"], r["result"]) for r in rows] == [
        (True, "tester", "pushed"),
        (False, "tester", "pushed"),
    ]
    code, out, _ = cli(capsys, server, "rollback", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["to_revision"] == rows[1]["revision"]
    assert dict(server.files(PROJECT)) == first_files
    assert len(server.revisions(PROJECT)) == 3
    assert server.revisions(PROJECT)[-1].name == result["new_revision"]


@pytest.mark.slow
def test_rollback_reaches_a_revision_older_than_the_servers_list_of_100(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    """Digdag lists only the newest 100 revisions; an older one is fetched by name."""
    assert push_json(capsys, server)[0] == 0
    oldest = server.revisions(PROJECT)[0].name
    first_files = dict(server.files(PROJECT))
    newer = server.files(PROJECT)
    for i in range(100):
        edited = {**newer, f"{PROJECT}.dig": newer[f"{PROJECT}.dig"] + f"# {i}\n".encode()}
        server.push_directly(PROJECT, edited, f"digsync-edit-{i:03d}")
    code, out, _ = cli(capsys, server, "history", "--json")
    listed = [r["revision"] for r in json.loads(out)["revisions"] if r["result"] != "pushed"]
    assert oldest not in listed[:100] and len(listed) == 100
    code, out, _ = cli(capsys, server, "rollback", oldest, "--json")
    assert code == 0, out
    assert json.loads(out)["to_revision"] == oldest
    assert dict(server.files(PROJECT)) == first_files
    code, out, err = cli(capsys, server, "rollback", "digsync-nope", "--json")
    assert code == 2
    assert "no revision 'digsync-nope'" in out + err


@pytest.mark.slow
def test_switching_between_two_configs_keeps_pushing_past_the_servers_list_of_100(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    """Revision names come from the content, so content A pushed again is digsync-A-N.
    Once the older A-N fall out of the server's list of 100, a name the server refuses
    (409) is taken too, and the next N goes past the highest one seen."""
    a, b = CONFIG, CONFIG.replace("03:00:00", "04:00:00")
    for i in range(110):
        (workdir / "config.yaml").write_text(a if i % 2 == 0 else b)
        code, result = push_json(capsys, server)
        assert code == 0 and result["status"] == "pushed", (i, result)
    names = [r.name for r in server.revisions(PROJECT)]
    assert len(names) == len(set(names)) == 110
    assert names[-1].endswith("-55")  # b's 55th push


def test_td_target_sends_td1_header(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_digdag(auth="TD1 1/goodkey") as td:
        monkeypatch.setenv("TD_API_KEY", "1/goodkey")
        assert main(["push", "--target", "td", "--endpoint", td.url]) == 0
        assert {r.headers["Authorization"] for r in td.requests} == {"TD1 1/goodkey"}
        monkeypatch.setenv("TD_API_KEY", "1/badkey")
        (workdir / "config.yaml").write_text(CONFIG.replace("03:00:00", "04:00:00"))
        capsys.readouterr()
        assert main(["push", "--target", "td", "--endpoint", td.url]) == 2
        out, err = capsys.readouterr()
        assert "401 from GET" in out
        assert "badkey" not in out + err


def test_many_projects_one_failure_does_not_stop_the_others(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    args = []
    for name in ("alpha", "beta", "gamma"):
        path = workdir / f"{name}.yaml"
        path.write_text(CONFIG.replace(f"project: {PROJECT}", f"project: {name}"))
        args += ["--config", str(path)]
    (workdir / "beta.yaml").write_text("scope: [\n")
    code, out, _ = cli(capsys, server, "push", *args, "--jobs", "2", "--json")
    assert code == 2
    results = json.loads(out)["results"]
    assert [r["status"] for r in results] == ["pushed", "failed", "pushed"]
    assert sorted(server.projects) == ["alpha", "gamma"]
    assert WEBHOOK not in out


def test_schedule_from_is_passed_as_an_instant(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(
        capsys, server, "push", "--json", "--schedule-from", "2030-01-01T09:00:00+09:00"
    )
    assert code == 0
    assert json.loads(out)["results"][0]["warnings"] == []  # read back from 2030 on
    assert server.schedules(PROJECT)[0]["nextRunTime"] == "2030-01-01T03:00:00Z"
    (put,) = [r for r in server.requests if r.method == "PUT" and r.path == "/api/projects"]
    assert put.query["schedule_from"] == "2030-01-01T00:00:00Z"
    code, _, err = cli(capsys, server, "push", "--schedule-from", "soon")
    assert code == 2
    assert "--schedule-from: expected an ISO-8601 time" in err


def test_push_rechecks_the_server_revision_right_before_the_put(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    from digsync.config.model import load_config
    from digsync.deploy.plan import make_plan
    from digsync.deploy.push import ConcurrentChange, push_plan
    from digsync.deploy.targets.rest import RestTarget
    from digsync.history.ledger import Ledger

    assert push_json(capsys, server)[0] == 0
    (workdir / "config.yaml").write_text(CONFIG.replace("03:00:00", "04:00:00"))
    config = load_config(workdir / "config.yaml")
    target = RestTarget("digdag", server.url, {})
    plan = make_plan(config, target)
    assert plan.changed
    server.push_directly(
        PROJECT, {f"{PROJECT}.dig": b"timezone: UTC\n+a:\n  echo>: hi\n"}, "someone-else"
    )
    server.clear_requests()
    with pytest.raises(ConcurrentChange, match="changed since the plan"):
        push_plan(plan, target, Ledger(workdir / ".digsync", PROJECT), b"")
    assert puts(server) == []
    assert [r.method for r in server.requests] == ["GET"]
    target.close()


@pytest.mark.parametrize("command", [("push",), ("push", "--json"), ("plan",), ("status",)])
def test_a_credential_a_server_echoes_is_never_printed(
    workdir: Path,
    server: FakeDigdag,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
) -> None:
    token = "s3cr3t-digdag-token-42"
    monkeypatch.setenv("DIGDAG_AUTHORIZATION", f"Bearer {token}")
    echoed = f"denied: Authorization: Bearer {token}; also seen: TD1 9999/abcdefghijkl"
    server.fail(status=403, times=None, message=echoed)
    code, out, err = cli(capsys, server, *command)
    assert code != 0
    printed = out + err
    assert "denied: Authorization: ********" in printed, printed
    assert token not in printed and "9999/abcdefghijkl" not in printed
    assert "TD1 ********" in printed


def test_a_hand_made_revision_on_the_server_needs_adopt(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    server.push_directly(PROJECT, {"theirs.dig": b"+a:\n  echo>: mine\n"}, "hand-made-1")
    code, result = push_json(capsys, server)
    assert code == 1 and result["needs_adopt"] is True
    assert result["message"].startswith(
        "semantic_layer_sync on the digdag target holds revision 'hand-made-1' that digsync "
        "did not make; pushing would replace a project someone else owns."
    )
    assert puts(server) == []
    code, out, _ = cli(capsys, server, "push", "--adopt", "--json")
    assert code == 0 and json.loads(out)["results"][0]["status"] == "pushed"
    assert server.revisions(PROJECT)[0].name == "hand-made-1"


@pytest.mark.slow
def test_a_push_ends_by_one_deadline_however_many_requests_it_makes(
    workdir: Path,
    server: FakeDigdag,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each request retries within DIGSYNC_RETRY_TOTAL, but a push makes many: the whole
    push stops at DIGSYNC_PUSH_TIMEOUT and says so."""
    monkeypatch.setenv("DIGSYNC_PUSH_TIMEOUT", "1")
    monkeypatch.setenv("DIGSYNC_HTTP_TIMEOUT", "30")
    server.delay(seconds=0.4, times=None)  # every request is slow, none fails
    code, result = push_json(capsys, server)
    assert code == 2 and result["status"] == "failed"
    assert result["message"].endswith(
        "stopped: the push took longer than 1 s (DIGSYNC_PUSH_TIMEOUT)"
    ), result["message"]


def _batch(workdir: Path, names: tuple[str, ...]) -> list[str]:
    args = []
    for name in names:
        path = workdir / f"{name}.yaml"
        path.write_text(CONFIG.replace(f"project: {PROJECT}", f"project: {name}"))
        args += ["--config", str(path)]
    return args


def test_a_batch_lists_the_projects_once_and_looks_up_only_those_it_pushes(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _batch(workdir, ("alpha", "beta", "gamma"))
    assert cli(capsys, server, "push", *args, "--json")[0] == 0
    beta = workdir / "beta.yaml"
    beta.write_text(beta.read_text().replace('time: "03:00:00"', 'time: "04:00:00"'))
    server.clear_requests()
    code, out, _ = cli(capsys, server, "push", *args, "--json")
    assert code == 0
    assert [r["status"] for r in json.loads(out)["results"]] == ["unchanged", "pushed", "unchanged"]
    looked_up = [
        r.query.get("name")
        for r in server.requests
        if (r.method, r.path) == ("GET", "/api/projects")
    ]
    assert looked_up.count(None) == 1  # one listing for the batch
    assert {name for name in looked_up if name} == {"beta"}  # rechecked before its PUT
    assert len(puts(server)) == 1


def test_a_batch_recognises_the_servers_content_without_a_history(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _batch(workdir, ("alpha", "beta"))
    assert cli(capsys, server, "push", *args, "--json")[0] == 0
    ledgers = sorted((workdir / ".digsync").glob("*/ledger.jsonl"))
    assert len(ledgers) == 2 and all("archive_md5" in p.read_text() for p in ledgers)
    for ledger in ledgers:
        ledger.unlink()  # say, pushed from another machine: the archive is packed to compare
    server.clear_requests()
    code, out, _ = cli(capsys, server, "push", *args, "--json")
    assert code == 0
    assert [r["status"] for r in json.loads(out)["results"]] == ["unchanged", "unchanged"]
    assert not [r for r in server.requests if r.path.endswith("/archive")]


def test_a_push_over_an_archive_it_pushed_itself_does_not_download_it(
    workdir: Path, server: FakeDigdag, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ledger knows the content of every archive digsync sent (by archiveMd5), so
    a push that changes the project needs no GET of the server's archive; a push over
    an archive it did not send still fetches it to compare."""
    config = workdir / "config.yaml"
    daily = config.read_text(encoding="utf-8")
    assert push_json(capsys, server)[1]["status"] == "pushed"
    config.write_text(daily.replace('time: "03:00:00"', 'time: "04:00:00"'), encoding="utf-8")
    assert config.read_text(encoding="utf-8") != daily
    server.clear_requests()
    code, result = push_json(capsys, server)
    assert code == 0 and result["status"] == "pushed"
    fetched = [r.path for r in server.requests if r.method == "GET" and "archive" in r.path]
    assert fetched == [] and len(puts(server)) == 1

    (workdir / ".digsync" / PROJECT / "ledger.jsonl").unlink()  # the history is gone
    config.write_text(daily, encoding="utf-8")
    server.clear_requests()
    code, result = push_json(capsys, server)
    assert code == 0 and result["status"] == "pushed"
    fetched = [r.path for r in server.requests if r.method == "GET" and "archive" in r.path]
    assert len(fetched) == 1 and len(puts(server)) == 1
