from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from digsync.config.model import config_from_data
from digsync.errors import ConfigError, InputError
from digsync.render.schedule_only import (
    MAX_PROJECT_FILES,
    MAX_SOURCE_BYTES,
    SourceError,
    read_source,
    rewrite_schedule,
    source_project,
)
from tests.conftest import base_data

HAND_WRITTEN = """\
# Our own workflow; only the schedule is managed by digsync.
timezone: Asia/Tokyo   # keep this comment

schedule:
  daily>: 07:00:00     # old time
  skip_on_overtime: true

_export:
  td: {database: mine}   # flow style stays as it is

+step:
  td>: queries/mine.sql
"""


def config_with(**schedule: object):  # type: ignore[no-untyped-def]
    data = base_data()
    data["sync"]["schedule"] = schedule  # type: ignore[index]
    return config_from_data(data)


def test_only_timezone_and_schedule_change() -> None:
    config = config_with(frequency="weekly", day_of_week="friday", time="05:30:00", timezone="UTC")
    assert rewrite_schedule(HAND_WRITTEN, "w.dig", config) == HAND_WRITTEN.replace(
        "Asia/Tokyo", "UTC"
    ).replace(
        "schedule:\n  daily>: 07:00:00     # old time\n  skip_on_overtime: true",
        'schedule:\n  weekly>: "Fri,05:30:00"',
    )


def test_rewrite_is_idempotent() -> None:
    config = config_with(frequency="daily", time="03:00:00", timezone="UTC")
    once = rewrite_schedule(HAND_WRITTEN, "w.dig", config)
    assert rewrite_schedule(once, "w.dig", config) == once


def test_disabled_schedule_removes_the_block() -> None:
    config = config_with(enabled=False, timezone="Asia/Tokyo")
    out = rewrite_schedule(HAND_WRITTEN, "w.dig", config)
    assert "schedule:" not in out
    assert out == HAND_WRITTEN.replace(
        "schedule:\n  daily>: 07:00:00     # old time\n  skip_on_overtime: true\n", ""
    )


def test_missing_keys_are_inserted_after_the_leading_comments() -> None:
    text = "# header\n\n+step:\n  echo>: hi\n"
    config = config_with(frequency="hourly", time="10:00", timezone="UTC")
    assert rewrite_schedule(text, "w.dig", config) == (
        '# header\n\ntimezone: UTC\nschedule:\n  hourly>: "10:00"\n+step:\n  echo>: hi\n'
    )


def test_non_mapping_workflow_is_refused() -> None:
    with pytest.raises(InputError, match="block mapping"):
        rewrite_schedule("- a\n", "w.dig", config_with(frequency="daily"))


# --- workflow.source stays inside config.yaml's folder --------------------------------


def source_config(folder: Path, source: str) -> Any:
    data = base_data()
    data["workflow"]["source"] = source  # type: ignore[index]
    return config_from_data(data, str(folder / "config.yaml"))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/etc/passwd.dig", "workflow.source: must be relative to config.yaml's folder"),
        ("~/flows/a.dig", "workflow.source: must be relative to config.yaml's folder"),
        ("../other/a.dig", "workflow.source: may not leave config.yaml's folder ('..')"),
        ("flows/../../a.dig", "workflow.source: may not leave config.yaml's folder ('..')"),
        ("flows/config.yaml", "workflow.source: expected the path of a .dig file"),
        ("/dev/zero", "workflow.source: must be relative to config.yaml's folder"),
    ],
)
def test_a_source_outside_the_folder_or_not_a_dig_is_a_config_error(
    source: str, message: str
) -> None:
    data = base_data()
    data["workflow"]["source"] = source  # type: ignore[index]
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    assert str(info.value.problems[0]).startswith(message)


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "keys.dig").write_text("timezone: UTC\n", encoding="utf-8")
    home = tmp_path / "home"
    (home / "flows").mkdir(parents=True)
    (home / "flows" / "a.dig").symlink_to(outside / "keys.dig")
    (home / "zero.dig").symlink_to("/dev/zero")
    with pytest.raises(SourceError, match=r"leads out of config\.yaml's folder"):
        read_source(source_config(home, "flows/a.dig"))
    with pytest.raises(SourceError, match=r"leads out of config\.yaml's folder"):
        read_source(source_config(home, "zero.dig"))
    (home / "fifo.dig").unlink(missing_ok=True)
    os.mkfifo(home / "fifo.dig")
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(source_config(home, "fifo.dig"))


def test_a_huge_source_or_project_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.dig").write_bytes(b"# " + b"x" * MAX_SOURCE_BYTES + b"\n")
    with pytest.raises(SourceError, match="larger than 1024 KiB"):
        read_source(source_config(tmp_path, "big.dig"))
    project = tmp_path / "p"
    project.mkdir()
    (project / "w.dig").write_text("timezone: UTC\n+a:\n  echo>: hi\n", encoding="utf-8")
    for i in range(MAX_PROJECT_FILES):
        (project / f"f{i}.txt").write_bytes(b"x")
    config = source_config(tmp_path, "p/w.dig")
    with pytest.raises(SourceError, match=f"more than {MAX_PROJECT_FILES} files or 2 MiB"):
        source_project(config)
    (project / "f0.txt").unlink()  # now exactly at the limit: w.dig plus 1,999 files
    assert len(source_project(config)) == MAX_PROJECT_FILES
