"""Digdag schedule semantics: validation, run times, DST, bounds, descriptions."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from digsync.errors import ScheduleError
from digsync.schedule.engine import Run, Schedule, next_runs, parse_schedule, parse_timezone
from digsync.schedule.words import describe, dst_warnings, schedule_to_json

LA = "America/Los_Angeles"


def runs(block: Mapping[str, object], tz: str, start: str, count: int = 5) -> list[tuple[str, str]]:
    """(session, run) ISO pairs of the next runs from ``start``."""
    found = next_runs(parse_schedule(block, tz), datetime.fromisoformat(start), count)
    return [(r.session_time.isoformat(), r.run_time.isoformat()) for r in found]


def sessions(block: Mapping[str, object], tz: str, start: str, count: int = 5) -> list[str]:
    return [s for s, _ in runs(block, tz, start, count)]


def error(block: Mapping[str, object], tz: str = "UTC") -> str:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(block, tz)
    return str(info.value)


# --- run times and daylight saving time -------------------------------------------------


def test_daily_on_spring_forward_day_adds_seconds_to_midnight() -> None:
    # Digdag ran daily>: 10:00:00 at 11:00 local on 2016-03-13 (midnight PST + 36000 s).
    assert runs({"daily>": "10:00:00"}, LA, "2016-03-13T00:00:00-08:00", 2) == [
        ("2016-03-13T00:00:00-08:00", "2016-03-13T11:00:00-07:00"),
        ("2016-03-14T00:00:00-07:00", "2016-03-14T10:00:00-07:00"),
    ]


def test_daily_on_fall_back_day_runs_an_hour_early() -> None:
    assert runs({"daily>": "10:00:00"}, LA, "2016-11-06T00:00:00-07:00", 1) == [
        ("2016-11-06T00:00:00-07:00", "2016-11-06T09:00:00-08:00"),
    ]


def test_hourly_on_fall_back_day_has_no_pdt_one_oclock_slot() -> None:
    assert sessions({"hourly>": "00:00"}, LA, "2016-11-06T00:00:00-07:00", 3) == [
        "2016-11-06T00:00:00-07:00",
        "2016-11-06T01:00:00-08:00",
        "2016-11-06T02:00:00-08:00",
    ]


def test_hourly_in_spring_forward_gap() -> None:
    assert runs({"hourly>": "30:00"}, LA, "2016-03-13T00:00:00-08:00", 3) == [
        ("2016-03-13T00:00:00-08:00", "2016-03-13T00:30:00-08:00"),
        ("2016-03-13T01:00:00-08:00", "2016-03-13T01:30:00-08:00"),
        ("2016-03-13T03:00:00-07:00", "2016-03-13T03:30:00-07:00"),
    ]


def test_cron_in_spring_forward_gap_runs_at_0330_pdt() -> None:
    assert sessions({"cron>": "30 2 * * *"}, LA, "2016-03-12T12:00:00-08:00", 2) == [
        "2016-03-13T03:30:00-07:00",
        "2016-03-14T02:30:00-07:00",
    ]


def test_minutes_interval_on_fall_back_day_skips_the_first_one_oclock_hour() -> None:
    assert sessions({"minutes_interval>": 30}, LA, "2016-11-06T00:00:00-07:00", 4) == [
        "2016-11-06T00:00:00-07:00",
        "2016-11-06T00:30:00-07:00",
        "2016-11-06T01:00:00-08:00",
        "2016-11-06T01:30:00-08:00",
    ]


def test_weekly() -> None:
    # 2026-05-17 is a Sunday.
    assert runs({"weekly>": "mon,03:00:00"}, "UTC", "2026-05-17T12:00:00+00:00", 2) == [
        ("2026-05-18T00:00:00+00:00", "2026-05-18T03:00:00+00:00"),
        ("2026-05-25T00:00:00+00:00", "2026-05-25T03:00:00+00:00"),
    ]
    assert sessions({"weekly>": "1,03:00:00"}, "UTC", "2026-05-17T12:00:00+00:00", 1) == [
        "2026-05-18T00:00:00+00:00"
    ]
    assert sessions({"weekly>": "7,03:00:00"}, "UTC", "2026-05-17T12:00:00+00:00", 1) == [
        "2026-05-24T00:00:00+00:00"
    ]


def test_monthly_day_31_skips_short_months() -> None:
    assert runs({"monthly>": "31,03:00:00"}, "Asia/Tokyo", "2024-01-01T00:00:00+09:00", 4) == [
        ("2024-01-31T00:00:00+09:00", "2024-01-31T03:00:00+09:00"),
        ("2024-03-31T00:00:00+09:00", "2024-03-31T03:00:00+09:00"),
        ("2024-05-31T00:00:00+09:00", "2024-05-31T03:00:00+09:00"),
        ("2024-07-31T00:00:00+09:00", "2024-07-31T03:00:00+09:00"),
    ]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (30, ["10:00", "10:30", "11:00", "11:30"]),
        (45, ["10:00", "10:45", "11:00", "11:45"]),  # */45 restarts at every hour
        (90, ["10:00", "11:00", "12:00", "13:00"]),  # */90 is minute 0 only
        (1, ["10:00", "10:01", "10:02", "10:03"]),
    ],
)
def test_minutes_interval_is_a_cron_step(minutes: int, expected: list[str]) -> None:
    found = sessions({"minutes_interval>": minutes}, "UTC", "2026-01-01T10:00:00+00:00", 4)
    assert [s[11:16] for s in found] == expected


def test_seconds_interval_counts_from_the_epoch() -> None:
    # Digdag's SecondsIntervalSchedulerTest: interval 3, first from 3 s is 3 s, from 4 s is 6 s.
    block = {"seconds_interval>": 3}
    assert sessions(block, "UTC", "1970-01-01T00:00:03+00:00", 2) == [
        "1970-01-01T00:00:03+00:00",
        "1970-01-01T00:00:06+00:00",
    ]
    assert sessions(block, "UTC", "1970-01-01T00:00:04+00:00", 1) == ["1970-01-01T00:00:06+00:00"]
    assert sessions(block, "Asia/Tokyo", "2026-01-01T00:00:00.5+09:00", 1) == [
        "2026-01-01T00:00:03+09:00"
    ]


def test_from_exactly_at_a_run_time_includes_it() -> None:
    block = {"daily>": "03:00:00"}
    assert runs(block, "UTC", "2026-01-01T03:00:00+00:00", 1) == [
        ("2026-01-01T00:00:00+00:00", "2026-01-01T03:00:00+00:00")
    ]
    assert sessions(block, "UTC", "2026-01-01T03:00:00.000001+00:00", 1) == [
        "2026-01-02T00:00:00+00:00"
    ]
    assert sessions(block, "UTC", "2026-01-01T02:59:59.5+00:00", 1) == ["2026-01-01T00:00:00+00:00"]


def test_fixed_offset_zone() -> None:
    assert runs({"daily>": "03:00:00"}, "+09:00", "2026-01-01T00:00:00+00:00", 1) == [
        ("2026-01-02T00:00:00+09:00", "2026-01-02T03:00:00+09:00")
    ]
    assert sessions({"hourly>": "00:00"}, "UTC-05:30", "2026-01-01T00:10:00+00:00", 1) == [
        "2025-12-31T19:00:00-05:30"
    ]


def test_end_is_inclusive_and_compared_with_the_run_time() -> None:
    bounded = {"daily>": "23:30:00", "end": "2026-01-03"}
    assert [r for _, r in runs(bounded, "UTC", "2026-01-01T00:00:00+00:00")] == [
        "2026-01-01T23:30:00+00:00",
        "2026-01-02T23:30:00+00:00",
        "2026-01-03T23:30:00+00:00",
    ]
    late = {"daily>": "25:00:00", "end": "2026-01-03"}  # runs at 01:00 the next day
    assert runs(late, "UTC", "2026-01-01T00:00:00+00:00") == [
        ("2025-12-31T00:00:00+00:00", "2026-01-01T01:00:00+00:00"),
        ("2026-01-01T00:00:00+00:00", "2026-01-02T01:00:00+00:00"),
        ("2026-01-02T00:00:00+00:00", "2026-01-03T01:00:00+00:00"),
    ]


def test_start_skips_to_the_first_session_on_or_after_it() -> None:
    block = {"hourly>": "30:00", "start": "2026-01-05"}
    assert sessions(block, "UTC", "2026-01-04T23:10:00+00:00", 2) == [
        "2026-01-05T00:00:00+00:00",
        "2026-01-05T01:00:00+00:00",
    ]
    assert sessions(
        {"daily>": "10:00:00", "start": "2026-01-05"}, LA, "2026-01-01T00:00:00Z", 1
    ) == ["2026-01-05T00:00:00-08:00"]


def test_start_is_compared_with_the_run_time() -> None:
    # The session of 4 January runs on 5 January at 01:00, so it is kept.
    block = {"daily>": "25:00:00", "start": "2026-01-05"}
    assert runs(block, "UTC", "2026-01-04T05:00:00+00:00", 2) == [
        ("2026-01-04T00:00:00+00:00", "2026-01-05T01:00:00+00:00"),
        ("2026-01-05T00:00:00+00:00", "2026-01-06T01:00:00+00:00"),
    ]


def test_start_and_end_are_local_dates() -> None:
    block = {"daily>": "00:00:00", "start": "2026-03-02", "end": "2026-03-03"}
    assert sessions(block, "Asia/Tokyo", "2026-01-01T00:00:00+00:00") == [
        "2026-03-02T00:00:00+09:00",
        "2026-03-03T00:00:00+09:00",
    ]


def test_a_session_moved_to_start_is_not_checked_against_end() -> None:
    # CronScheduler.nextWithStartEnd checks end before moving to start, not after.
    block = {"monthly>": "1,00:00:00", "start": "2026-01-05", "end": "2026-01-20"}
    assert sessions(block, "UTC", "2026-01-01T00:00:00+00:00") == ["2026-02-01T00:00:00+00:00"]


def test_from_after_end_gives_no_runs() -> None:
    assert runs({"daily>": "03:00:00", "end": "2020-01-01"}, "UTC", "2026-01-01T00:00Z") == []


def test_negative_and_overflowing_delays_are_kept() -> None:
    assert runs({"hourly>": "-5:00"}, "UTC", "2026-01-01T09:50:00+00:00", 1) == [
        ("2026-01-01T10:00:00+00:00", "2026-01-01T09:55:00+00:00")
    ]


def test_next_runs_needs_an_aware_start() -> None:
    with pytest.raises(ValueError):
        next_runs(parse_schedule({"daily>": "03:00:00"}), datetime(2026, 1, 1), 1)


def test_next_runs_is_fast() -> None:
    schedule = parse_schedule({"daily>": "03:00:00"}, LA)
    begin = datetime(2026, 5, 17, 13, 27, tzinfo=UTC)
    took = time.perf_counter()
    for _ in range(50):
        assert len(next_runs(schedule, begin, 5)) == 5
    assert (time.perf_counter() - took) / 50 < 0.001


# --- parsing: what Digdag accepts --------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "directive"),
    [
        ({"hourly>": "30:00"}, {"hourly>": "30:00"}),
        ({"hourly>": "5:7"}, {"hourly>": "05:07"}),
        ({"daily>": "3:0:0"}, {"daily>": "03:00:00"}),
        ({"daily>": "03:00:00:"}, {"daily>": "03:00:00"}),  # Java split drops the empty tail
        ({"daily>": "25:00:00"}, {"daily>": "25:00:00"}),  # not range-checked
        ({"weekly>": "mon,03:00:00"}, {"weekly>": "Mon,03:00:00"}),
        ({"weekly>": "MON,03:00:00"}, {"weekly>": "Mon,03:00:00"}),
        ({"weekly>": "Mon, 03:00:00"}, {"weekly>": "Mon,03:00:00"}),  # weekly trims
        ({"weekly>": "1,03:00:00"}, {"weekly>": "1,03:00:00"}),
        ({"weekly>": "7,3:00:00"}, {"weekly>": "7,03:00:00"}),
        ({"weekly>": "mon-fri,03:00:00"}, {"weekly>": "mon-fri,03:00:00"}),
        ({"monthly>": "1,09:00:00"}, {"monthly>": "1,09:00:00"}),
        ({"monthly>": "01,9:00:00"}, {"monthly>": "1,09:00:00"}),
        ({"minutes_interval>": 30}, {"minutes_interval>": 30}),
        ({"minutes_interval>": "15"}, {"minutes_interval>": 15}),
        ({"cron>": "0  */6 * * *"}, {"cron>": "0 */6 * * *"}),
        (
            {"seconds_interval>": 2, "skip_on_overtime": True},
            {"seconds_interval>": 2, "skip_on_overtime": True},
        ),
        ({"cron>": "42 4 1 * *"}, {"cron>": "42 4 1 * *"}),
        (
            {
                "end": "2026-12-31",
                "daily>": "07:00:00",
                "start": "2026-01-01",
                "skip_delayed_by": "1h 30m",
                "skip_on_overtime": True,
            },
            {
                "daily>": "07:00:00",
                "skip_on_overtime": True,
                "skip_delayed_by": "1h 30m",
                "start": "2026-01-01",
                "end": "2026-12-31",
            },
        ),
    ],
)
def test_accepted_and_normalised(block: dict[str, object], directive: dict[str, object]) -> None:
    schedule = parse_schedule(block)
    assert schedule.directive() == directive
    assert list(schedule.directive()) == list(directive)
    assert parse_schedule(schedule.directive()) == schedule


def test_schedule_fields() -> None:
    schedule = parse_schedule(
        {"weekly>": "sun,09:00:00", "start": "2026-01-01", "skip_delayed_by": "30m"}, "Asia/Tokyo"
    )
    assert schedule == Schedule(
        "weekly", "Sun,09:00:00", "Asia/Tokyo", False, "30m", date(2026, 1, 1), None
    )


@pytest.mark.parametrize("duration", ["10s", "30m", "1h", "1d", "1h 30m", "1H30M", " 2d 3h 4m 5s "])
def test_skip_delayed_by_durations(duration: str) -> None:
    block = {"daily>": "03:00:00", "skip_delayed_by": duration}
    assert parse_schedule(block).skip_delayed_by == duration


# --- parsing: what Digdag rejects, with its words ------------------------------------------


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"hourly>": "10:11:12"}, "hourly>: scheduler requires mm:ss format: 10:11:12"),
        ({"hourly>": "30"}, "hourly>: scheduler requires mm:ss format: 30"),
        ({"daily>": "03:00"}, "daily> scheduler requires hh:mm:ss format: 03:00"),
        ({"daily>": "3h"}, "daily> scheduler requires hh:mm:ss format: 3h"),
        ({"daily>": 3}, "daily> scheduler requires hh:mm:ss format: 3"),
        ({"daily>": " 03:00:00"}, "daily> scheduler requires hh:mm:ss format:  03:00:00"),
        ({"weekly>": "Monday,03:00:00"}, "weekly>: scheduler requires day,hh:mm:ss format"),
        ({"weekly>": "Mon 03:00:00"}, "weekly>: scheduler requires day,hh:mm:ss format"),
        ({"weekly>": "8,03:00:00"}, "weekly>: scheduler requires day,hh:mm:ss format"),
        ({"weekly>": "-1,03:00:00"}, "weekly>: invalid day: -1"),
        ({"weekly>": "mon,03:00"}, "weekly> scheduler requires hh:mm:ss format: 03:00"),
        ({"monthly>": "1, 09:00:00"}, "monthly> scheduler requires hh:mm:ss format:  09:00:00"),
        ({"monthly>": "x,09:00:00"}, "monthly>: scheduler requires day,hh:mm:ss format"),
        ({"monthly>": "09:00:00"}, "monthly>: scheduler requires day,hh:mm:ss format"),
        ({"monthly>": "0,09:00:00"}, "out of range 1-31"),
        ({"monthly>": "32,09:00:00"}, "out of range 1-31"),
        ({"minutes_interval>": 0}, "step 0 must be 1 or more"),
        ({"minutes_interval>": "abc"}, "minutes_interval>: expected a whole number"),
        ({"minutes_interval>": True}, "minutes_interval>: expected a whole number"),
        ({"seconds_interval>": 0}, "seconds_interval>: expected a whole number of seconds"),
        ({"cron>": "0 0 * *"}, "invalid cron pattern"),
        ({"cron>": "0 0 31 2 *"}, "matches no date"),
        ({"daily>": ["03:00:00"]}, "daily>: expected a string value"),
        ({"no_such_scheduler>": "x"}, "Unknown scheduler type: no_such_scheduler"),
        ({"cron>": "0 0 * * *", "wrong>": "x"}, "Parameter 'wrong>' is not used at schedule."),
        (
            {"daily>": "07:00:00", "skip_on_over_time": True},
            "Parameter 'skip_on_over_time' is not used at schedule. "
            "> Did you mean '[skip_on_overtime]'",
        ),
        ({"daily>": "07:00:00", "delay": 60}, "Parameter 'delay' is not used at schedule."),
        ({"skip_on_overtime": True}, "Schedule config requires 'type>: at' parameter"),
        ({}, "Schedule config requires 'type>: at' parameter"),
        ({"_type": "daily", "daily>": "07:00:00"}, "requires 'type>: at' parameter"),
        ({"daily>": "07:00:00", "start": "2026-02-30"}, "Invalid start: 2026-02-30"),
        ({"daily>": "07:00:00", "end": "2026/12/31"}, "Invalid end: 2026/12/31"),
        ({"daily>": "07:00:00", "end": "2026-1-31"}, "Invalid end: 2026-1-31"),
        (
            {"daily>": "07:00:00", "start": "2026-02-01", "end": "2026-01-31"},
            "The schedule of end is earlier than start",
        ),
        ({"daily>": "07:00:00", "skip_on_overtime": "true"}, "skip_on_overtime: expected"),
        ({"daily>": "07:00:00", "skip_delayed_by": "30"}, "skip_delayed_by: expected"),
        ({"daily>": "07:00:00", "skip_delayed_by": "30m1h"}, "skip_delayed_by: expected"),
        ({"daily>": "07:00:00", "skip_delayed_by": 30}, "skip_delayed_by: expected"),
    ],
)
def test_rejected_with_digdag_words(block: dict[str, object], message: str) -> None:
    assert message in error(block)


def test_only_the_first_operator_key_counts() -> None:
    assert "Parameter 'daily>' is not used" in error({"hourly>": "00:00", "daily>": "1:0:0"})


def test_same_start_and_end_is_one_day() -> None:
    block = {"daily>": "07:00:00", "start": "2026-01-01", "end": "2026-01-01"}
    assert len(next_runs(parse_schedule(block), datetime(2025, 1, 1, tzinfo=UTC), 5)) == 1


# --- time zones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("UTC", 0),
        ("GMT", 0),
        ("UT", 0),
        ("Z", 0),
        ("+09:00", 540),
        ("+0900", 540),
        ("+9", 540),
        ("-05:30", -330),
        ("UTC+9", 540),
        ("GMT-05:00", -300),
        ("Asia/Tokyo", 540),
        ("EST", -300),
        ("Etc/GMT+9", -540),
    ],
)
def test_time_zones_java_accepts(name: str, offset: int) -> None:
    zone = parse_timezone(name)
    assert datetime(2026, 1, 15, tzinfo=zone).utcoffset() == timedelta(minutes=offset)


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("JST", "did you mean 'Asia/Tokyo'?"),
        ("asia/tokyo", "did you mean 'Asia/Tokyo'?"),
        ("PST", "did you mean 'America/Los_Angeles'?"),
        ("Mars/Olympus", "use an IANA name"),
        ("", "offset is written like"),
        ("+9:00", "offset is written like"),
        ("+19:00", "up to ±18:00"),
        ("+09:60", "up to ±18:00"),
        ("UTC+", "offset is written like"),
        ("utc", "did you mean 'UTC'?"),
    ],
)
def test_time_zones_java_rejects(name: str, hint: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_timezone(name)
    assert str(info.value).startswith(f"Unknown time zone name: {name}")
    assert hint in str(info.value)


def test_unknown_workflow_timezone_fails_parse_schedule() -> None:
    assert "Unknown time zone name: JST" in error({"daily>": "07:00:00"}, "JST")


# --- descriptions, DST warnings, JSON -------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "tz", "text"),
    [
        ({"weekly>": "Mon,03:00:00"}, "UTC", "every Monday at 03:00 (UTC)"),
        ({"daily>": "03:00:00"}, "UTC", "every day at 03:00 (UTC)"),
        ({"daily>": "03:00:15"}, "UTC", "every day at 03:00:15 (UTC)"),
        ({"hourly>": "30:00"}, "UTC", "every hour at :30 (UTC)"),
        ({"hourly>": "30:05"}, "UTC", "every hour at :30:05 (UTC)"),
        ({"monthly>": "1,03:00:00"}, "Asia/Tokyo", "on day 1 of every month at 03:00 (Asia/Tokyo)"),
        ({"minutes_interval>": 30}, "UTC", "every 30 minutes (UTC)"),
        (
            {"seconds_interval>": 2},
            "UTC",
            "every 2 seconds (counted from 1970-01-01 00:00 UTC) (UTC)",
        ),
        (
            {"cron>": "0 */6 * * *"},
            "UTC",
            "cron '0 */6 * * *': at minute 0 of every 6th hour (UTC)",
        ),
        ({"weekly>": "mon-fri,09:00:00"}, "UTC", "every Monday to Friday at 09:00 (UTC)"),
        ({"daily>": "25:00:00"}, "UTC", "every day at 01:00 (+1 day from the session date) (UTC)"),
        (
            {"monthly>": "31,03:00:00"},
            "UTC",
            "on day 31 of every month at 03:00 (months without day 31 have no run) (UTC)",
        ),
        (
            {"minutes_interval>": 45},
            "UTC",
            "every hour at minutes 0 and 45 (minutes_interval 45 is the cron pattern */45, "
            "which restarts each hour) (UTC)",
        ),
        (
            {"daily>": "03:00:00", "start": "2026-01-01", "end": "2026-12-31"},
            "UTC",
            "every day at 03:00 (UTC), from 2026-01-01 until 2026-12-31",
        ),
        (
            {"daily>": "03:00:00", "end": "2026-12-31"},
            "UTC",
            "every day at 03:00 (UTC), until 2026-12-31",
        ),
    ],
)
def test_describe(block: dict[str, object], tz: str, text: str) -> None:
    assert describe(parse_schedule(block, tz)) == text


def test_dst_warnings_for_daily_in_los_angeles() -> None:
    schedule = parse_schedule({"daily>": "03:00:00"}, LA)
    assert dst_warnings(schedule, datetime(2026, 1, 1, tzinfo=UTC)) == [
        "on 2026-03-08: the clocks in America/Los_Angeles spring forward from 02:00 to 03:00 "
        "(UTC-08:00 to UTC-07:00); Digdag adds 10800 s to local midnight, so daily> 03:00:00 "
        "runs at 04:00 PDT instead of 03:00",
        "on 2026-11-01: the clocks in America/Los_Angeles fall back from 02:00 to 01:00 "
        "(UTC-07:00 to UTC-08:00); Digdag adds 10800 s to local midnight, so daily> 03:00:00 "
        "runs at 02:00 PST instead of 03:00",
    ]


def test_dst_warnings_for_gap_and_repeat() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    gap = dst_warnings(parse_schedule({"daily>": "02:30:00"}, LA), start)
    assert gap[0] == (
        "on 2026-03-08: 02:30 does not exist in America/Los_Angeles: the clocks spring forward "
        "from 02:00 to 03:00 (UTC-08:00 to UTC-07:00); daily> 02:30:00 runs at 03:30 PDT "
        "(local midnight + 9000 s)"
    )
    repeat = dst_warnings(parse_schedule({"daily>": "01:30:00"}, LA), start)
    assert repeat == [
        "on 2026-11-01: 01:30 happens twice in America/Los_Angeles; daily> 01:30:00 runs at "
        "the first of the two, 01:30 PDT"
    ]


def test_dst_warnings_only_within_the_window_and_kinds() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    weekly = parse_schedule({"weekly>": "Sun,03:00:00"}, LA)
    assert [w[:13] for w in dst_warnings(weekly, start)] == ["on 2026-03-08", "on 2026-11-01"]
    assert [w[:13] for w in dst_warnings(weekly, start, days=90)] == ["on 2026-03-08"]
    assert dst_warnings(parse_schedule({"weekly>": "Mon,03:00:00"}, LA), start) == []
    assert dst_warnings(parse_schedule({"daily>": "03:00:00"}, "UTC"), start) == []
    assert dst_warnings(parse_schedule({"hourly>": "00:00"}, LA), start) == []


def test_schedule_to_json() -> None:
    schedule = parse_schedule({"daily>": "10:00:00"}, LA)
    found = next_runs(schedule, datetime(2016, 3, 13, tzinfo=timezone(timedelta(hours=-8))), 1)
    assert found == [
        Run(
            datetime.fromisoformat("2016-03-13T00:00:00-08:00"),
            datetime.fromisoformat("2016-03-13T11:00:00-07:00"),
        )
    ]
    assert schedule_to_json(schedule, found) == {
        "description": "every day at 10:00 (America/Los_Angeles)",
        "timezone": LA,
        "next_runs": [
            {
                "session_time": "2016-03-13T00:00:00-08:00",
                "run_time": "2016-03-13T11:00:00-07:00",
                "run_time_utc": "2016-03-13T18:00:00Z",
            }
        ],
    }


def test_delay_moves_cron_and_minutes_interval_runs_only() -> None:
    """CronSchedulerFactory and MinutesIntervalSchedulerFactory read delay: (seconds);
    the other factories never do, so there it is an unused key."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cron = parse_schedule({"cron>": "0 * * * *", "delay": 300}, "UTC")
    (run,) = next_runs(cron, start, 1)
    assert (run.session_time.hour, run.run_time.minute) == (0, 5)
    every = parse_schedule({"minutes_interval>": 30, "delay": "60"}, "UTC")
    assert [r.run_time.minute for r in next_runs(every, start, 2)] == [1, 31]
    assert cron.directive() == {"cron>": "0 * * * *", "delay": 300}
    with pytest.raises(ScheduleError, match="Parameter 'delay' is not used at schedule"):
        parse_schedule({"daily>": "07:00:00", "delay": 60}, "UTC")
    with pytest.raises(ScheduleError, match="delay: expected a whole number of seconds"):
        parse_schedule({"cron>": "0 * * * *", "delay": 1.5}, "UTC")
