"""The push contract, on the fake Digdag and (e2e tier) on a real Digdag server: upload,
revision names, an unchanged push makes no revision, secrets set (keys listed, values
never printed), a schedule change, disabling the schedule removes it, rollback, and
status/drift. The server is read back only through its REST API."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from digsync.cli import main
from digsync.config.model import load_config
from digsync.deploy.archive import pack
from digsync.dig.schedules import iso_z
from digsync.render.project import render_project
from digsync.schedule.engine import next_runs, parse_schedule
from tests.conftest import BASE
from tests.digdag_servers import DigdagServer, write_config
from tests.push_helpers import TARGET_ENV, PushJson

WEBHOOK = "https://hooks.slack.com/services/T9/B9/ContractTestWebhookSecret"
SLACK = f"""\
notifications:
  on_error:
    enabled: true
    channels: [{{type: slack, channel: "{WEBHOOK}"}}]
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in TARGET_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DIGSYNC_USER", "contract")
    monkeypatch.setenv("DIGSYNC_RETRY_BASE", "0.05")
    monkeypatch.setenv("DIGSYNC_RETRY_TOTAL", "30")
    return tmp_path


def config_for(env: Path, digdag: DigdagServer, label: str, extra: str = "") -> Path:
    project = digdag.project_name(label)
    text = BASE.replace("project: semantic_layer_sync", f"project: {project}") + extra
    return write_config(env, text)


def run(
    capsys: pytest.CaptureFixture[str], digdag: DigdagServer, config: Path, *args: str
) -> tuple[int, str]:
    code = main([*args, "--config", str(config), "--target", "digdag", "--endpoint", digdag.url])
    out, err = capsys.readouterr()
    assert WEBHOOK not in out + err  # a secret value is never printed
    return code, out


def push(capsys: pytest.CaptureFixture[str], digdag: DigdagServer, config: Path) -> PushJson:
    code, out = run(capsys, digdag, config, "push", "--json")
    results: list[PushJson] = json.loads(out)["results"]
    (result,) = results
    assert code == (1 if result["status"] == "failed" else 0), result
    return result


def test_upload_names_the_revision_by_content_and_an_unchanged_push_makes_none(
    env: Path, digdag: DigdagServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(env, digdag, "upload")
    project = load_config(config).project
    first = push(capsys, digdag, config)
    assert first["status"] == "pushed"
    assert first["revision"] is not None
    assert re.fullmatch(r"digsync-[0-9a-f]{12}", first["revision"])
    assert first["warnings"] == []  # the server's next run is the local preview's
    assert digdag.view.revision_names(project) == [first["revision"]]
    assert digdag.view.files(project) == render_project(load_config(config)).files
    again = push(capsys, digdag, config)
    assert (again["status"], again["revision"]) == ("unchanged", first["revision"])
    assert digdag.view.revision_names(project) == [first["revision"]]


def test_webhook_secrets_are_set_and_only_their_keys_are_listed(
    env: Path, digdag: DigdagServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(env, digdag, "secrets", SLACK)
    project = load_config(config).project
    assert push(capsys, digdag, config)["status"] == "pushed"
    assert digdag.view.secret_keys(project) == {"digsync.on_error.slack_0"}
    listing = digdag.view.http.get(f"/api/projects/{digdag.view._id(project)}/secrets")
    assert WEBHOOK not in listing.text


def test_a_schedule_change_lands_as_the_preview_says_and_disabling_removes_it(
    env: Path, digdag: DigdagServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(env, digdag, "schedule")
    project = load_config(config).project
    assert push(capsys, digdag, config)["status"] == "pushed"
    config.write_text(config.read_text().replace('"03:00:00"', '"05:45:00"'), encoding="utf-8")
    before = dt.datetime.now(dt.UTC)
    changed = push(capsys, digdag, config)
    assert changed["status"] == "pushed" and changed["warnings"] == []
    (schedule,) = digdag.view.schedules(project)
    expected = next_runs(parse_schedule({"daily>": "05:45:00"}, "UTC"), before, 2)
    assert schedule["nextRunTime"] in [iso_z(r.run_time) for r in expected]
    assert schedule["disabledAt"] is None
    config.write_text(
        config.read_text().replace("frequency: daily", "frequency: daily\n    enabled: false"),
        encoding="utf-8",
    )
    off = push(capsys, digdag, config)
    assert off["status"] == "pushed" and off["warnings"] == []
    assert digdag.view.schedules(project) == []  # deleted, not disabled


def test_rollback_makes_a_revision_with_the_earlier_files(
    env: Path, digdag: DigdagServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(env, digdag, "rollback")
    project = load_config(config).project
    first = push(capsys, digdag, config)["revision"]
    old_files = digdag.view.files(project)
    config.write_text(config.read_text().replace("frequency: daily", "frequency: hourly"))
    second = push(capsys, digdag, config)["revision"]
    code, out = run(capsys, digdag, config, "rollback", "--json")
    result = json.loads(out)
    assert code == 0 and (result["from_revision"], result["to_revision"]) == (second, first)
    assert digdag.view.revision_names(project) == [result["new_revision"], second, first]
    assert digdag.view.files(project) == old_files


def test_status_is_in_sync_after_a_push_and_names_a_hand_push_as_drift(
    env: Path, digdag: DigdagServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(env, digdag, "status")
    project = load_config(config).project
    assert push(capsys, digdag, config)["status"] == "pushed"
    code, out = run(capsys, digdag, config, "status", "--json")
    assert code == 0, out
    files = dict(digdag.view.files(project))
    files["extra.dig"] = b"+hello:\n  echo>: hand-made\n"
    assert digdag.view.put_project(project, "hand-1", pack(files)).status_code == 200
    code, out = run(capsys, digdag, config, "status", "--json")
    assert code == 1
    (report,) = json.loads(out)["projects"]
    assert report["server_revision"] == "hand-1"
    assert any("hand-1" in line for line in report["drift"]), report["drift"]
    refused = push(capsys, digdag, config)  # a revision digsync did not make
    assert refused["status"] == "failed" and refused["needs_adopt"]
