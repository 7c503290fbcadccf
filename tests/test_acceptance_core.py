"""Acceptance checks of the core contract (issue #2) found missing in review, run
through the CLI as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digsync.cli import main
from tests.conftest import BASE


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def with_schedule(schedule: str) -> str:
    """BASE with its schedule block replaced (indented lines under schedule:)."""
    head, rest = BASE.split("  schedule:\n")
    tail = rest[rest.index("workflow:") :]
    return head + "  schedule:\n" + schedule + tail


@pytest.mark.parametrize(("given", "short"), [("0", "Sun"), ("3", "Wed"), ("7", "Sun")])
def test_weekly_day_of_week_as_a_quoted_number_is_that_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str, short: str
) -> None:
    path = write_config(
        tmp_path,
        with_schedule(f'    frequency: weekly\n    day_of_week: "{given}"\n    time: "03:00:00"\n'),
    )
    out = tmp_path / "out.dig"
    assert main(["generate", "--config", path, "--output", str(out)]) == 0
    assert f'weekly>: "{short},03:00:00"' in out.read_text(encoding="utf-8")


def test_a_channel_of_unknown_type_gets_one_error_not_email_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(
        tmp_path,
        BASE + "notifications:\n  on_error:\n    enabled: true\n    channels: [{type: teams}]\n",
    )
    assert main(["validate", "--config", path, "--json"]) == 2
    (entry,) = json.loads(capsys.readouterr().out)["configs"]
    assert [p["message"] for p in entry["problems"]] == [
        "expected one of slack, email; got 'teams'"
    ]


def test_schedule_command_shows_that_an_hourly_hh_mm_ss_time_is_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, with_schedule('    frequency: hourly\n    time: "02:00:00"\n'))
    code = main(["schedule", "--config", path, "--from", "2026-01-05T00:00:00Z", "--next", "1"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == (
        "every hour at :00 (UTC)\n"
        "  2026-01-05T00:00:00+00:00   (session 2026-01-05T00:00:00+00:00)\n"
    )
    assert err == (
        f"{path}:9:11: warning: sync.schedule.time: hourly runs ignore an HH:MM:SS time "
        "('02:00:00'); the run is at :00 (write MM:SS, e.g. \"15:00\", to pick the minute)\n"
    )


def test_generate_gives_the_same_bytes_however_the_config_path_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    write_config(tmp_path / "conf", BASE)
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--config", "conf/config.yaml", "--output", "a/w.dig"]) == 0
    monkeypatch.chdir(tmp_path / "conf")
    assert main(["generate", "--config", "config.yaml", "--output", "../b/w.dig"]) == 0
    first, second = (tmp_path / "a" / "w.dig").read_bytes(), (tmp_path / "b" / "w.dig").read_bytes()
    assert first == second
    assert b"# Command: digsync generate --config config.yaml\n" in first


def test_an_empty_config_file_is_reported_with_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, "")
    assert main(["validate", "--config", path]) == 2
    assert capsys.readouterr().err == (
        f"{path}:1:1: expected a mapping of sections; got nothing (null)\n"
    )


def test_generate_removes_a_workflow_it_no_longer_renders_and_check_sees_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, BASE)
    out = tmp_path / "out"
    assert main(["generate", "--config", path, "--project-dir", str(out)]) == 0
    project = out / "semantic_layer_sync"
    (project / "hand_written.dig").write_text("+a:\n  echo>: mine\n", encoding="utf-8")
    write_config(tmp_path, BASE.replace("name: semantic_layer_sync", "name: renamed"))
    capsys.readouterr()

    assert main(["generate", "--config", path, "--project-dir", str(out), "--check"]) == 1
    assert f"   remove  {project / 'semantic_layer_sync.dig'}\n" in capsys.readouterr().out
    assert (project / "semantic_layer_sync.dig").exists()  # --check writes nothing

    assert main(["generate", "--config", path, "--project-dir", str(out)]) == 0
    assert sorted(p.name for p in project.glob("*.dig")) == ["hand_written.dig", "renamed.dig"]
    backups = list((tmp_path / ".digsync" / "semantic_layer_sync" / "backups").rglob("*.dig"))
    assert [b.name for b in backups] == ["semantic_layer_sync.dig"]
    assert main(["generate", "--config", path, "--project-dir", str(out), "--check"]) == 0


def test_two_generates_in_one_second_keep_both_backups(tmp_path: Path) -> None:
    path = write_config(tmp_path, BASE)
    out = str(tmp_path / "w.dig")
    versions = []
    for time in ("04:00:00", "05:00:00", "06:00:00"):
        assert main(["generate", "--config", path, "--output", out]) == 0
        versions.append((tmp_path / "w.dig").read_bytes())
        write_config(tmp_path, BASE.replace("03:00:00", time))
    assert main(["generate", "--config", path, "--output", out]) == 0
    backups = sorted((tmp_path / ".digsync" / "semantic_layer_sync" / "backups").rglob("w.dig"))
    assert sorted(b.read_bytes() for b in backups) == sorted(versions)


def write_dig(tmp_path: Path, schedule: str, timezone: str = "UTC") -> str:
    path = tmp_path / "w.dig"
    path.write_text(f"timezone: {timezone}\nschedule:\n{schedule}+a:\n  echo>: hi\n", "utf-8")
    return str(path)


def test_schedule_with_end_in_the_year_9999_runs_without_a_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dig = write_dig(tmp_path, "  daily>: 01:00:00\n  end: 9999-12-31\n")
    assert main(["schedule", "--dig", dig, "--from", "2026-01-01T00:00:00Z", "--next", "1"]) == 0
    assert capsys.readouterr().out == (
        "every day at 01:00 (UTC), until 9999-12-31\n"
        "  2026-01-01T01:00:00+00:00   (session 2026-01-01T00:00:00+00:00)\n"
    )


def test_schedule_with_start_in_the_year_1_starts_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dig = write_dig(tmp_path, "  daily>: 01:00:00\n  start: 0001-01-01\n", "America/Los_Angeles")
    assert main(["schedule", "--dig", dig, "--from", "2026-01-01T00:00:00Z", "--next", "1"]) == 0
    assert "  2026-01-01T01:00:00-08:00   (session 2026-01-01T00:00:00-08:00)\n" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "9999-06-01T00:00:00Z"])
def test_from_outside_1970_to_9998_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], when: str
) -> None:
    dig = write_dig(tmp_path, "  daily>: 01:00:00\n")
    assert main(["schedule", "--dig", dig, "--from", when]) == 2
    assert capsys.readouterr().err == (
        f"error: --from: expected a time from 1970 to 9998; got '{when}'\n"
    )
