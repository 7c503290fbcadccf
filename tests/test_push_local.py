"""plan / push / status / history / rollback end to end on the local target (no server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digsync.cli import main
from tests.conftest import BASE


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIGSYNC_TARGET", raising=False)
    monkeypatch.delenv("DIGSYNC_STATE_DIR", raising=False)
    monkeypatch.setenv("DIGSYNC_USER", "tester")
    (tmp_path / "config.yaml").write_text(BASE, encoding="utf-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_plan_push_is_idempotent(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "plan")
    assert code == 1
    assert "new project, 14 file(s) to push" in out  # .dig, query, digsync_tasks/*.py
    code, out = run(capsys, "push", "--json")
    assert code == 0
    (result,) = json.loads(out)["results"]
    assert result["status"] == "pushed"
    assert result["revision"].startswith("digsync-")
    dig = workdir / "workflows" / "semantic_layer_sync" / "semantic_layer_sync.dig"
    assert 'daily>: "03:00:00"' in dig.read_text()
    assert run(capsys, "plan")[0] == 0
    code, out = run(capsys, "push", "--json")
    assert json.loads(out)["results"][0]["status"] == "unchanged"


def test_schedule_change_is_described_before_and_after(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "push")[0] == 0
    (workdir / "config.yaml").write_text(BASE.replace("frequency: daily", "frequency: hourly"))
    code, out = run(capsys, "plan", "--json")
    assert code == 1
    (plan,) = json.loads(out)["plans"]
    (schedule,) = plan["schedules"]
    assert schedule["before"] == "every day at 03:00 (UTC)"
    assert schedule["after"] == "every hour at :00 (UTC)"
    assert len(schedule["runs_before"]) == 5 and len(schedule["runs_after"]) == 5
    assert [f["path"] for f in plan["files"]] == ["semantic_layer_sync.dig"]
    code, out = run(capsys, "plan")
    assert "schedule of semantic_layer_sync: every day at 03:00 (UTC) -> every hour at :00" in out


def test_disabled_schedule_is_pushed_not_skipped(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "push")[0] == 0
    (workdir / "config.yaml").write_text(BASE.replace("frequency: daily", "enabled: false"))
    _code, out = run(capsys, "push", "--json")
    assert json.loads(out)["results"][0]["status"] == "pushed"
    dig = workdir / "workflows" / "semantic_layer_sync" / "semantic_layer_sync.dig"
    assert "schedule:" not in dig.read_text()


def test_status_detects_drift_from_a_hand_edit(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "push")[0] == 0
    assert run(capsys, "status")[0] == 0
    dig = workdir / "workflows" / "semantic_layer_sync" / "semantic_layer_sync.dig"
    dig.write_text(dig.read_text().replace("03:00:00", "05:00:00"))
    code, out = run(capsys, "status", "--json")
    assert code == 1
    (report,) = json.loads(out)["projects"]
    assert report["drift"] == [
        "the server's files differ from the last push (edited on the server)"
    ]
    (workdir / "config.yaml").write_text(BASE.replace("03:00:00", "04:00:00"))
    code, out = run(capsys, "status", "--json")
    assert "config.yaml changed since the last push" in json.loads(out)["projects"][0]["drift"][0]


def test_history_and_rollback(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "push")[0] == 0
    (workdir / "config.yaml").write_text(BASE.replace("frequency: daily", "frequency: hourly"))
    assert run(capsys, "push")[0] == 0
    code, out = run(capsys, "history", "--json")
    rows = json.loads(out)["revisions"]
    assert [r["current"] for r in rows] == [True, False]
    assert {r["who"] for r in rows} == {"tester"}
    first = rows[1]["revision"]
    code, out = run(capsys, "rollback", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["to_revision"] == first
    assert result["new_revision"] == first + "-rollback"
    assert "cp " in result["advice"] and "config.yaml" in result["advice"]
    dig = workdir / "workflows" / "semantic_layer_sync" / "semantic_layer_sync.dig"
    assert 'daily>: "03:00:00"' in dig.read_text()
    assert "hourly" in (workdir / "config.yaml").read_text()  # config left alone
    # the advice works: restoring the kept config makes push a no-op
    copy = Path(result["advice"].split("cp ")[1].split(" ")[0])
    (workdir / "config.yaml").write_bytes(copy.read_bytes())
    code, out = run(capsys, "push", "--json")
    assert json.loads(out)["results"][0]["status"] == "unchanged"


def test_rollback_to_a_named_revision_and_unknown_one(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "push")[0] == 0
    assert main(["rollback", "digsync-000000000000"]) == 2
    assert "no revision 'digsync-000000000000'" in capsys.readouterr().err


def test_generate_push_shares_the_push_path(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["generate", "--project-dir", "out", "--push"])
    assert code == 0
    assert (workdir / "workflows" / "semantic_layer_sync" / "semantic_layer_sync.dig").is_file()
    ledger = workdir / ".digsync" / "semantic_layer_sync" / "ledger.jsonl"
    (entry,) = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert entry["result"] == "pushed" and entry["who"] == "tester"


def test_generate_keeps_a_backup_before_overwriting(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--project-dir", "out"]) == 0
    (workdir / "config.yaml").write_text(BASE.replace("03:00:00", "04:00:00"))
    assert main(["generate", "--project-dir", "out"]) == 0
    backups = list((workdir / ".digsync" / "semantic_layer_sync" / "backups").rglob("*.dig"))
    assert len(backups) == 1
    assert 'daily>: "03:00:00"' in backups[0].read_text()


def test_target_from_config_section_and_env(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "config.yaml").write_text(BASE + "target:\n  type: local\n  workflows_dir: wf\n")
    assert run(capsys, "push")[0] == 0
    assert (workdir / "wf" / "semantic_layer_sync").is_dir()
    monkeypatch.setenv("DIGSYNC_TARGET", "td")
    monkeypatch.delenv("TD_API_KEY", raising=False)
    assert main(["push"]) == 2
    assert "the td target needs TD_API_KEY" in capsys.readouterr().err


def test_api_key_in_config_is_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "config.yaml").write_text(BASE + "target:\n  type: td\n  apikey: 1/abcdef\n")
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert "target.apikey: secrets do not belong in config.yaml" in err
    assert "1/abcdef" not in err


def test_status_names_a_pending_push_and_push_clears_it(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from digsync.history import pending

    assert run(capsys, "push")[0] == 0
    marker = pending.mark(workdir / ".digsync" / "semantic_layer_sync", "push failed: 503 ...")
    code, out = run(capsys, "status")
    assert code == 1
    assert (
        f"  - a push is pending since {marker['since']} (1 failed attempt(s)): "
        "push failed: 503 ...; digsync push retries it"
    ) in out
    assert json.loads(run(capsys, "status", "--json")[1])["projects"][0]["pending"] == marker
    assert run(capsys, "push")[0] == 0  # nothing to push, but the marker is stale now
    assert run(capsys, "status")[0] == 0


def test_pushing_many_configs_draws_progress_on_a_terminal(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    second = workdir / "b.yaml"
    second.write_text(BASE.replace("project: semantic_layer_sync", "project: other"))
    stderr = Tty()
    monkeypatch.setattr("sys.stderr", stderr)
    monkeypatch.delenv("CI", raising=False)
    assert main(["push", "--config", "config.yaml", "--config", str(second)]) == 0
    drawn = stderr.getvalue()
    assert "pushing [" in drawn and "2/2" in drawn
    assert "2 pushed, 0 unchanged, 0 failed" in drawn
    monkeypatch.setenv("CI", "true")
    quiet = Tty()
    monkeypatch.setattr("sys.stderr", quiet)
    assert main(["push", "--config", "config.yaml", "--config", str(second)]) == 0
    assert "pushing [" not in quiet.getvalue()


def test_the_state_folder_is_private(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """.digsync/ holds config copies with webhook URLs: folders 0700, files 0600, and a
    folder an older digsync made 0755 is narrowed."""
    (workdir / ".digsync").mkdir(mode=0o755)
    (workdir / ".digsync").chmod(0o755)
    assert run(capsys, "push")[0] == 0
    config = workdir / "config.yaml"
    config.write_text(config.read_text().replace('"03:00:00"', '"04:00:00"'))
    assert run(capsys, "push")[0] == 0  # a second push writes backups
    state = workdir / ".digsync"
    found = [state, *state.rglob("*")]
    assert any(p.name == "ledger.jsonl" for p in found)
    assert any(p.suffix == ".yaml" for p in found)  # the config copies
    for path in found:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_a_project_digsync_did_not_make_is_not_replaced_without_adopt(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = workdir / "workflows" / "semantic_layer_sync"
    theirs.mkdir(parents=True)
    (theirs / "their_flow.dig").write_text("+a:\n  echo>: mine\n", encoding="utf-8")
    code, out = run(capsys, "push", "--json")
    (result,) = json.loads(out)["results"]
    assert code == 1 and result["status"] == "failed" and result["needs_adopt"] is True
    assert result["message"] == (
        "semantic_layer_sync on the local target holds files that digsync did not make; "
        "pushing would replace a project someone else owns. Check that workflow.project is "
        "right, then push with --adopt to take it over"
    )
    assert sorted(p.name for p in theirs.iterdir()) == ["their_flow.dig"]  # untouched
    code, out = run(capsys, "push", "--adopt", "--json")
    assert code == 0 and json.loads(out)["results"][0]["status"] == "pushed"
    assert not (theirs / "their_flow.dig").exists()
    assert run(capsys, "push", "--json")[0] == 0  # ours now: no --adopt needed
