from __future__ import annotations

import pytest

from digsync.config import config_from_data
from digsync.errors import UsageError
from digsync.schedonly import rewrite_schedule
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
    with pytest.raises(UsageError, match="block mapping"):
        rewrite_schedule("- a\n", "w.dig", config_with(frequency="daily"))
