from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from digsync.cli import main
from tests.conftest import BASE, EXAMPLE


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_console_script_runs() -> None:
    exe = Path(sys.executable).parent / "digsync"
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "digsync 0.1.0"


def test_init_writes_example_and_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "config.yaml"
    assert main(["init", "--config", str(target)]) == 0
    text = target.read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=./digsync.schema.json"
    assert text == EXAMPLE.read_text()
    assert json.loads((tmp_path / "digsync.schema.json").read_text())["title"]
    assert main(["init", "--config", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["init", "--config", str(target), "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "files": [str(target), str(tmp_path / "digsync.schema.json")]
    }


def test_validate_ok_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good.yaml", BASE)
    assert main(["validate", "--config", str(good)]) == 0
    bad = write(tmp_path / "bad.yaml", BASE.replace("daily", "dayly"))
    assert main(["validate", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:8:16: sync.schedule.frequency: expected one of" in err
    assert main(["validate", "--config", str(bad), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    (problem,) = report["configs"][0]["problems"]
    assert problem["line"] == 8
    assert problem["key"] == "sync.schedule.frequency"
    assert problem["hint"] == "did you mean 'daily'?"


def test_generate_writes_project_and_check_detects_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    out = tmp_path / "out"
    args = ["generate", "--config", str(config), "--project-dir", str(out)]
    assert main(args) == 0
    dig = out / "semantic_layer_sync" / "semantic_layer_sync.dig"
    sql = out / "semantic_layer_sync" / "queries" / "delta_report.sql"
    assert dig.is_file() and sql.is_file()
    assert main([*args, "--check"]) == 0
    capsys.readouterr()
    write(config, BASE.replace("03:00:00", "04:00:00"))
    assert main([*args, "--check"]) == 1
    captured = capsys.readouterr()
    assert "update" in captured.out and '+  daily>: "04:00:00"' in captured.out
    assert 'daily>: "03:00:00"' in dig.read_text()  # --check wrote nothing
    assert main(args) == 0
    assert 'daily>: "04:00:00"' in dig.read_text()


def test_generate_output_flag_is_compatible(tmp_path: Path) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    target = tmp_path / "flows" / "custom.dig"
    assert main(["generate", "--config", str(config), "--output", str(target)]) == 0
    assert target.is_file()
    assert (tmp_path / "flows" / "queries" / "delta_report.sql").is_file()


def test_generate_many_configs_into_project_folders(tmp_path: Path) -> None:
    args = ["generate", "--project-dir", str(tmp_path / "out")]
    for name in ("alpha", "beta"):
        path = write(
            tmp_path / f"{name}.yaml",
            BASE.replace("project: semantic_layer_sync", f"project: {name}"),
        )
        args += ["--config", str(path)]
    assert main(args) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["alpha", "beta"]


def test_generate_refuses_duplicate_projects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write(tmp_path / "a.yaml", BASE)
    b = write(tmp_path / "b.yaml", BASE)
    code = main(["generate", "--config", str(a), "--config", str(b), "--project-dir", "o"])
    assert code == 2
    assert "both render project 'semantic_layer_sync'" in capsys.readouterr().err


def test_generate_project_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                "--config",
                str(config),
                "--project-dir",
                str(out),
                "--project",
                "other_project",
            ]
        )
        == 0
    )
    assert (out / "other_project" / "semantic_layer_sync.dig").is_file()
    assert main(["generate", "--config", str(config), "--project", "9bad"]) == 2
    assert "--project: expected" in capsys.readouterr().err


def test_generate_config_error_writes_nothing(tmp_path: Path) -> None:
    config = write(tmp_path / "config.yaml", BASE.replace("gld_*", "GLD*/"))
    assert main(["generate", "--config", str(config), "--project-dir", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_schedule_only_mode_rewrites_the_named_dig(tmp_path: Path) -> None:
    hand = write(tmp_path / "mine.dig", "# mine\ntimezone: UTC\n\n+a:\n  echo>: hi # keep\n")
    config = write(tmp_path / "config.yaml", BASE + "  source: mine.dig\n")
    assert main(["generate", "--config", str(config), "--check"]) == 1
    assert main(["generate", "--config", str(config)]) == 0
    assert hand.read_text() == (
        '# mine\ntimezone: UTC\nschedule:\n  daily>: "03:00:00"\n\n+a:\n  echo>: hi # keep\n'
    )
    assert main(["generate", "--config", str(config), "--check"]) == 0


def test_schedule_command_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    assert (
        main(
            [
                "schedule",
                "--config",
                str(config),
                "--from",
                "2026-03-01T00:00:00Z",
                "--next",
                "2",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["timezone"] == "UTC"
    assert data["next_runs"] == [
        {
            "session_time": "2026-03-01T00:00:00+00:00",
            "run_time": "2026-03-01T03:00:00+00:00",
            "run_time_utc": "2026-03-01T03:00:00Z",
        },
        {
            "session_time": "2026-03-02T00:00:00+00:00",
            "run_time": "2026-03-02T03:00:00+00:00",
            "run_time_utc": "2026-03-02T03:00:00Z",
        },
    ]


def test_schedule_json_writes_runs_as_digdag_does_and_its_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run_time_utc is Digdag's nextRunTime; a schedule past its end answers, as Digdag
    does, 9999-01-01T00:00:00Z for every further run."""
    dig = write(
        tmp_path / "w.dig",
        "timezone: America/Los_Angeles\nschedule:\n  daily>: 02:30:00\n  end: 2024-03-11\n"
        "+a:\n  echo>: x\n",
    )
    args = ["schedule", "--dig", str(dig), "--from", "2024-03-10T00:00:00Z", "--next", "3"]
    assert main([*args, "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["next_runs"]
    assert [r["run_time_utc"] for r in runs] == [
        "2024-03-10T10:30:00Z",  # 02:30 does not exist that day: 03:30 PDT
        "2024-03-11T09:30:00Z",
        "9999-01-01T00:00:00Z",
    ]
    assert runs[2]["session_time"] == "9998-12-31T16:00:00-08:00" and runs[2]["end_of_schedule"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "no more runs: the schedule has ended (Digdag shows 9999-01-01T00:00:00Z)" in out


def test_schedule_from_a_dig_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dig = write(
        tmp_path / "w.dig",
        'timezone: America/Los_Angeles\nschedule:\n  daily>: "10:00:00"\n+a:\n  echo>: hi\n',
    )
    assert (
        main(
            [
                "schedule",
                "--dig",
                str(dig),
                "--from",
                "2016-03-13T00:00:00-08:00",
                "--next",
                "1",
                "--json",
            ]
        )
        == 0
    )
    (run,) = json.loads(capsys.readouterr().out)["next_runs"]
    assert run["run_time"] == "2016-03-13T11:00:00-07:00"


def test_schedule_manual(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "config.yaml", BASE.replace("frequency: daily", "enabled: false"))
    assert main(["schedule", "--config", str(config)]) == 0
    assert "manual runs only" in capsys.readouterr().out


def test_schedule_bad_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    assert main(["schedule", "--config", str(config), "--from", "tomorrow"]) == 2
    assert "--from: expected an ISO-8601 time" in capsys.readouterr().err


def test_schema_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    frequency = schema["properties"]["sync"]["properties"]["schedule"]["properties"]["frequency"]
    assert frequency["enum"] == [
        "manual",
        "hourly",
        "daily",
        "weekly",
        "monthly",
        "interval",
        "custom",
    ]
    assert schema["properties"]["workflow"]["additionalProperties"] is False


def test_lint_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good.dig", "timezone: UTC\n+a:\n  echo>: hi\n")
    bad = write(tmp_path / "bad.dig", "+a:\n  sh>: echo hi\n")
    assert main(["lint", str(good)]) == 0
    assert main(["lint", "--profile", "td", str(bad)]) == 1
    assert main(["lint", "--profile", "digdag", str(bad)]) == 0
    capsys.readouterr()
    assert main(["lint", "--json", str(bad)]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert set(finding) == {"path", "line", "column", "code", "severity", "message"}
    assert (finding["line"], finding["column"]) == (2, 3)
    assert main(["lint", str(tmp_path / "missing.dig")]) == 2


def test_make_run_example_lints_clean(tmp_path: Path) -> None:
    out = tmp_path / "workflows"
    assert main(["generate", "--config", str(EXAMPLE), "--project-dir", str(out)]) == 0
    dig = out / "semantic_layer_sync" / "semantic_layer_sync.dig"
    assert main(["lint", "--profile", "td", str(dig)]) == 0


def test_usage_without_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: digsync" in capsys.readouterr().out
