"""cron4j 2.2.5 pattern rules and Predictor behaviour, as Digdag uses them."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digsync.errors import ScheduleError
from digsync.schedule.cron4j import NEVER, CronPattern
from digsync.schedule.words import describe_cron

LA = ZoneInfo("America/Los_Angeles")


def values(expr: str, index: int) -> tuple[int, ...] | None:
    """The value list of one field of the first group."""
    g = CronPattern.parse(expr).groups[0]
    return (g.minute, g.hour, g.day, g.month, g.weekday)[index].values


# --- what cron4j accepts, and what it makes of it ---------------------------------------

ACCEPTED = [
    ("* * * * *", 0, None),
    ("0 */6 * * *", 1, (0, 6, 12, 18)),
    ("3-18/5 * * * *", 0, (3, 8, 13, 18)),
    ("0-59/15 * * * *", 0, (0, 15, 30, 45)),
    ("*/90 * * * *", 0, (0,)),  # minutes_interval>: 90 only fires at :00
    ("*/45 * * * *", 0, (0, 45)),
    ("0 22-2 * * *", 1, (22, 23, 0, 1, 2)),  # ranges wrap
    ("0 0 L * *", 2, (32,)),
    ("0 0 l * *", 2, (32,)),
    ("0 0 1-L * *", 2, tuple(range(1, 33))),
    ("0 0 * jan,JUL *", 3, (1, 7)),
    ("0 0 * Dec-feb *", 3, (12, 1, 2)),
    ("0 0 * * SUN", 4, (0,)),
    ("0 0 * * 7", 4, (0,)),  # 7 is Sunday
    ("0 0 * * 0-7", 4, (0,)),  # quirk: 7 reads as 0, so 0-0 is Sunday only
    ("0 0 * * 1-7", 4, (1, 2, 3, 4, 5, 6, 7, 0)),
    ("0 0 * * mon-fri", 4, (1, 2, 3, 4, 5)),
    ("0 0 * * */2", 4, (0, 2, 4, 6)),
    ("-5 * * * *", 0, (5,)),  # quirk: '-' is a separator, so -5 is 5
    ("/5 * * * *", 0, (5,)),  # quirk: '/' likewise
    ("1- * * * *", 0, (1,)),
    ("*//5 * * * *", 0, (0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55)),
    ("1,,2 * * * *", 0, (1, 2)),
    ("+5 * * * *", 0, (5,)),
    ("05 * * * *", 0, (5,)),
    ("5,5,1 * * * *", 0, (5, 1)),
    ("  0   0 * * *  ", 1, (0,)),
    ("0\t0\t*\t*\t*", 1, (0,)),
]


@pytest.mark.parametrize(("expr", "index", "expected"), ACCEPTED)
def test_cron4j_accepts(expr: str, index: int, expected: tuple[int, ...] | None) -> None:
    assert values(expr, index) == expected


REJECTED = [
    ("", "empty"),
    ("|", "empty"),
    ("0 0 * *", "has 4 fields"),
    ("0 0 * * * *", "has 6 fields"),
    ("0 0 0 * * * 2026", "has 7 fields"),
    ("60 * * * *", "out of range 0-59"),
    ("* 24 * * *", "out of range 0-23"),
    ("* * 0 * *", "out of range 1-31"),
    ("* * 32 * *", "out of range 1-31"),
    ("* * * 0 *", "out of range 1-12"),
    ("* * * 13 *", "out of range 1-12"),
    ("* * * * 8", "out of range 0-7"),
    ("0 0 ? * *", "'?' is not a number"),
    ("0 0 * * ?", "'?' is not a number"),
    ("0 0 * * MON#1", "not a number"),
    ("0 0 * * 5L", "not a number"),
    ("0 0 * * L", "not a number"),
    ("0 0 15W * *", "not a number"),
    ("0 0 LW * *", "not a number"),
    ("@daily", "has 1 fields"),
    ("*/0 * * * *", "step 0 must be 1 or more"),
    ("*/-1 * * * *", "step -1 must be 1 or more"),
    ("*/x * * * *", "step 'x' is not a number"),
    ("1-2-3 * * * *", "not a value or a range"),
    ("*/2/3 * * * *", "more than one '/'"),
    ("0 0 * * Monday", "not a number or a name"),
    ("0 0 * * mo", "not a number or a name"),
    ("0 0 * january *", "not a number or a name"),
    ("0 0 * * *\n", "days of week '*\\n'"),  # a newline is not a field separator
    ("a * * * *", "'a' is not a number"),
    ("0 , * * *", "no values"),
    ("2147483648 * * * *", "not a number"),  # beyond a Java int
    ("0 0 * * *|0 0 *", "has 3 fields"),
]


@pytest.mark.parametrize(("expr", "why"), REJECTED)
def test_cron4j_rejects(expr: str, why: str) -> None:
    with pytest.raises(ScheduleError) as info:
        CronPattern.parse(expr)
    assert str(info.value).startswith(f"invalid cron pattern {expr!r}: ")
    assert why in str(info.value)


def test_pipe_joins_patterns_and_empty_pieces_vanish() -> None:
    pattern = CronPattern.parse("0 5 * * *||8 10 * * *|")
    assert [g.text for g in pattern.groups] == ["0 5 * * *", "8 10 * * *"]
    assert pattern.matches(8, 10, 1, 1, 3, 31)
    assert pattern.matches(0, 5, 1, 1, 3, 31)
    assert not pattern.matches(0, 10, 1, 1, 3, 31)


def test_day_of_month_and_day_of_week_must_both_match() -> None:
    pattern = CronPattern.parse("0 12 13 * 5")  # Vixie cron would OR these
    assert pattern.matches(0, 12, 13, 9, 5, 30)
    assert not pattern.matches(0, 12, 13, 9, 4, 30)
    assert not pattern.matches(0, 12, 20, 9, 5, 30)


def test_last_day_of_month() -> None:
    pattern = CronPattern.parse("0 0 L * *")
    assert pattern.matches(0, 0, 29, 2, 4, 29)
    assert not pattern.matches(0, 0, 28, 2, 3, 29)
    assert pattern.matches(0, 0, 28, 2, 3, 28)
    assert pattern.matches(0, 0, 30, 4, 0, 30)


def test_impossible_dates_are_detected() -> None:
    assert not CronPattern.parse("0 0 31 2 *").can_match()
    assert not CronPattern.parse("0 0 30,31 feb *").can_match()
    assert not CronPattern.parse("0 0 31 4,6,9,11 *").can_match()
    assert CronPattern.parse("0 0 29 2 *").can_match()
    assert CronPattern.parse("0 0 31 2 *|0 0 1 * *").can_match()
    assert CronPattern.parse("0 0 L 2 *").can_match()


# --- Predictor.nextMatchingTime ---------------------------------------------------------


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def iso(value: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(value, tz).isoformat()


def test_next_is_strictly_after_the_start_minute() -> None:
    pattern = CronPattern.parse("*/15 * * * *")
    assert iso(pattern.next_after(epoch("2026-01-01T10:15:00+00:00"), UTC), UTC) == (
        "2026-01-01T10:30:00+00:00"
    )
    assert iso(pattern.next_after(epoch("2026-01-01T10:14:59+00:00"), UTC), UTC) == (
        "2026-01-01T10:15:00+00:00"
    )


def test_wall_time_in_spring_forward_gap_reads_with_the_old_offset() -> None:
    pattern = CronPattern.parse("30 2 * * *")
    found = pattern.next_after(epoch("2016-03-12T12:00:00-08:00"), LA)
    assert iso(found, LA) == "2016-03-13T03:30:00-07:00"


def test_repeated_wall_time_on_fall_back_day_is_the_later_instant() -> None:
    pattern = CronPattern.parse("30 1 * * *")
    found = pattern.next_after(epoch("2016-11-05T12:00:00-07:00"), LA)
    assert iso(found, LA) == "2016-11-06T01:30:00-08:00"


def test_the_earlier_copy_is_used_only_when_checked_as_an_instant() -> None:
    # Predictor first checks the very next minute as a real instant.
    pattern = CronPattern.parse("30 1 * * *")
    found = pattern.next_after(epoch("2016-11-06T01:29:00-07:00"), LA)
    assert iso(found, LA) == "2016-11-06T01:30:00-07:00"


def test_rolling_over_30_february_skips_1_march() -> None:
    # cron4j sets 30 Feb leniently (2 March), then searches on from 2 March.
    pattern = CronPattern.parse("0 0 1,30 * *")
    found = pattern.next_after(epoch("2025-02-15T00:00:00+00:00"), UTC)
    assert iso(found, UTC) == "2025-03-30T00:00:00+00:00"
    leap = pattern.next_after(epoch("2024-02-15T00:00:00+00:00"), UTC)
    assert iso(leap, UTC) == "2024-03-01T00:00:00+00:00"  # 30 Feb 2024 is 1 March


def test_day_31_skips_short_months() -> None:
    pattern = CronPattern.parse("0 0 31 * *")
    found = pattern.next_after(epoch("2026-04-01T00:00:00+00:00"), UTC)
    assert iso(found, UTC) == "2026-05-31T00:00:00+00:00"


def test_29_february_on_a_monday_is_years_away() -> None:
    pattern = CronPattern.parse("0 0 29 2 1")
    found = pattern.next_after(epoch("2026-01-01T00:00:00+00:00"), UTC)
    assert iso(found, UTC) == "2044-02-29T00:00:00+00:00"


def test_a_skipped_calendar_day_restarts_from_the_real_date() -> None:
    # Samoa skipped 30 December 2011; midnight that day reads as 31 December.
    apia = ZoneInfo("Pacific/Apia")
    pattern = CronPattern.parse("0 0 * * *")
    found = pattern.next_after(epoch("2011-12-29T00:00:00-10:00"), apia)
    assert iso(found, apia) == "2011-12-31T00:00:00+14:00"


def test_a_pattern_that_never_matches_returns_never() -> None:
    assert CronPattern.parse("0 0 30 2 *").next_after(0, UTC) == NEVER


# --- descriptions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("0 */6 * * *", "at minute 0 of every 6th hour"),
        ("0 3 * * *", "at 03:00"),
        ("* * * * *", "every minute"),
        ("*/15 * * * *", "every 15 minutes"),
        ("5 * * * *", "at minute 5 of every hour"),
        ("*/15 9-17 * * mon-fri", "every 15 minutes of hours 9-17 on Monday to Friday"),
        ("0 0 L * *", "at 00:00 on the last day of the month"),
        ("0 12 13 * 5", "at 12:00 on day 13 of the month if it is a Friday"),
        ("30 8 * jan,jul *", "at 08:30 in January and July"),
        ("0 9,17 * * *", "at 09:00 and 17:00"),
        ("0 5 * * *|8 10 * * *", "at 05:00; or at 10:08"),
    ],
)
def test_describe(expr: str, text: str) -> None:
    assert describe_cron(CronPattern.parse(expr)) == text


# --- the search agrees with a brute-force walk where cron4j has no quirks ---------------


def _field(draw: st.DrawFn, low: int, high: int, star: bool = True) -> str:
    kind = draw(st.sampled_from(["star", "value", "list", "range", "step"] if star else ["value"]))
    if kind == "star":
        return "*"
    if kind == "value":
        return str(draw(st.integers(low, high)))
    if kind == "list":
        return ",".join(
            str(v) for v in draw(st.lists(st.integers(low, high), min_size=1, max_size=4))
        )
    a, b = sorted(draw(st.lists(st.integers(low, high), min_size=2, max_size=2)))
    return f"{a}-{b}" if kind == "range" else f"{a}-{b}/{draw(st.integers(1, 5))}"


@st.composite
def _patterns(draw: st.DrawFn) -> str:
    parts = [_field(draw, 0, 59), _field(draw, 0, 23), _field(draw, 1, 28)]
    return " ".join([*parts, _field(draw, 1, 12), _field(draw, 0, 6)])


def _brute_force(pattern: CronPattern, after: datetime) -> datetime:
    """Walk day by day, then minute by minute on days whose date fields match."""
    day = after.date()
    while True:
        last = calendar.monthrange(day.year, day.month)[1]
        weekday = (day.weekday() + 1) % 7
        if any(
            g.day.match_day(day.day, last) and g.month.match(day.month) and g.weekday.match(weekday)
            for g in pattern.groups
        ):
            for minute in range(24 * 60):
                when = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                    minutes=minute
                )
                fields = (when.minute, when.hour, day.day, day.month, weekday, last)
                if when > after and pattern.matches(*fields):
                    return when
        day += timedelta(days=1)


@settings(max_examples=150, deadline=None)
@given(_patterns(), st.integers(0, 40 * 365 * 24 * 60))
def test_search_matches_brute_force(expr: str, minutes: int) -> None:
    pattern = CronPattern.parse(expr)
    after = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    found = pattern.next_after(int(after.timestamp()), UTC)
    assert datetime.fromtimestamp(found, UTC) == _brute_force(pattern, after)
