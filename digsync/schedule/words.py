"""Words for schedules: plain-English descriptions, DST warnings and the JSON preview.

Kept apart from :mod:`digsync.schedule.engine` (the engine) so each module stays small; the
engine's ``describe``/``dst_warnings``/``schedule_to_json`` delegate here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo

from digsync.schedule.cron4j import LAST, CronPattern, Field, Group
from digsync.schedule.engine import (
    Run,
    Schedule,
    cron_pattern,
    delay_seconds,
    iter_runs,
    parse_timezone,
)

_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_STAR_STEP = re.compile(r"\*/(\d+)")


# --- cron patterns ----------------------------------------------------------------------


def _join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _runs(values: list[int], name: dict[int, str] | None = None, dash: str = "-") -> str:
    """Sorted values with runs of three or more shortened: 1-5, Monday to Friday."""
    label = name or {v: str(v) for v in values}
    groups: list[list[int]] = []
    for v in sorted(set(values)):
        if groups and v == groups[-1][-1] + 1:
            groups[-1].append(v)
        else:
            groups.append([v])
    parts = []
    for g in groups:
        if len(g) >= 3:
            parts.append(f"{label[g[0]]}{dash}{label[g[-1]]}")
        else:
            parts.extend(label[v] for v in g)
    return _join(parts)


def _step(field: Field, period: int) -> int | None:
    """n for a ``*/n`` field whose values repeat evenly (60 % n == 0 for minutes)."""
    match = _STAR_STEP.fullmatch(field.text)
    step = int(match.group(1)) if match else None
    return step if step and period % step == 0 else None


def _minute_text(field: Field) -> str:
    """'every minute', 'every 15 minutes', 'at minute 5', 'at minutes 0 and 30'."""
    step = _step(field, 60)
    if field.values is None or step == 1:
        return "every minute"
    if step:
        return f"every {step} minutes"
    plural = "s" if len(field.values) > 1 else ""
    return f"at minute{plural} {_runs(list(field.values))}"


def _ordinal(n: int) -> str:
    """2nd, 3rd, 6th, 11th."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _hour_text(field: Field) -> str:
    """'every hour', 'every 6th hour', 'hour 3', 'hours 9-17'."""
    step = _step(field, 24)
    if field.values is None or step == 1:
        return "every hour"
    if step:
        return f"every {_ordinal(step)} hour"
    plural = "s" if len(field.values) > 1 else ""
    return f"hour{plural} {_runs(list(field.values))}"


def _time_text(g: Group) -> str:
    """The time-of-day part of one group."""
    minutes, hours = g.minute.values, g.hour.values
    one_minute = minutes is not None and len(minutes) == 1
    if one_minute and minutes and hours and len(hours) <= 4 and not _step(g.hour, 24):
        return "at " + _join([f"{h:02d}:{minutes[0]:02d}" for h in sorted(hours)])
    if hours is None and (minutes is None or _step(g.minute, 60)):
        return _minute_text(g.minute)
    return f"{_minute_text(g.minute)} of {_hour_text(g.hour)}"


def _day_text(g: Group) -> str:
    """Day of month and day of week (cron4j needs both to match)."""
    parts = []
    if g.day.values is not None:
        numbers = [d for d in g.day.values if d != LAST]
        items = []
        if numbers:
            items.append(("day " if len(numbers) == 1 else "days ") + _runs(numbers))
        if LAST in g.day.values:
            items.append("the last day")
        parts.append(f"on {_join(items)} of the month")
    weekdays = sorted({v for v in g.weekday.values or () if v < 7})
    if g.weekday.values is not None and len(weekdays) < 7:
        names = _runs(weekdays, dict(enumerate(_DAYS)), " to ")
        parts.append(f"if it is a {names}" if parts else f"on {names}")
    if g.month.values is not None:
        parts.append("in " + _runs(list(g.month.values), dict(enumerate(_MONTHS, 1)), " to "))
    return " ".join(parts)


def describe_cron(pattern: CronPattern) -> str:
    """Plain English for a cron4j pattern; ``|`` alternatives joined with "; or "."""
    texts = (" ".join(filter(None, (_time_text(g), _day_text(g)))) for g in pattern.groups)
    return "; or ".join(texts)


# --- schedules --------------------------------------------------------------------------


def _clock(seconds: int) -> str:
    """HH:MM, or HH:MM:SS when the seconds are not zero."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _shift(delay: int, period: int, unit: str, of: str) -> str:
    """' (+1 day from the session date)' when the delay leaves the period."""
    extra = delay // period
    return f" ({extra:+d} {unit}{'s' if abs(extra) > 1 else ''} from {of})" if extra else ""


def _what(schedule: Schedule) -> str:
    """The schedule in words, without time zone and bounds."""
    delay, pattern = delay_seconds(schedule), cron_pattern(schedule)
    if pattern is None:
        return f"every {schedule.value} seconds (counted from 1970-01-01 00:00 UTC)"
    day_clock = _clock(delay % 86400) + _shift(delay, 86400, "day", "the session date")
    if schedule.kind == "hourly":
        return f"every hour at {_clock(delay % 3600)[2:]}" + _shift(
            delay, 3600, "hour", "the session hour"
        )
    if schedule.kind == "daily":
        return f"every day at {day_clock}"
    if schedule.kind == "weekly":
        days = sorted({v for v in pattern.groups[0].weekday.values or range(7) if v < 7})
        if len(pattern.groups) > 1:
            return f"at {day_clock} on days matching cron {pattern.text!r}"
        names = "day" if len(days) == 7 else _runs(days, dict(enumerate(_DAYS)), " to ")
        return f"every {names} at {day_clock}"
    if schedule.kind == "monthly":
        (day,) = pattern.groups[0].day.values or (1,)
        skip = f" (months without day {day} have no run)" if day > 28 else ""
        return f"on day {day} of every month at {day_clock}{skip}"
    if schedule.kind == "minutes_interval":
        return _interval(int(schedule.value), pattern)
    return f"cron {str(schedule.value)!r}: {describe_cron(pattern)}"


def _interval(n: int, pattern: CronPattern) -> str:
    """minutes_interval N is the cron pattern */N, which restarts at every hour."""
    if n == 1:
        return "every minute"
    if 60 % n == 0:
        return f"every {n} minutes"
    minutes = list(pattern.groups[0].minute.values or ())
    return (
        f"every hour at minute{'s' if len(minutes) > 1 else ''} {_runs(minutes)} "
        f"(minutes_interval {n} is the cron pattern */{n}, which restarts each hour)"
    )


def describe(schedule: Schedule) -> str:
    """e.g. "every Monday at 03:00 (UTC)"; start and end are mentioned when set."""
    text = f"{_what(schedule)} ({schedule.timezone})"
    if schedule.start is not None:
        text += f", from {schedule.start.isoformat()}"
    if schedule.end is not None:
        text += f"{',' if schedule.start is None else ''} until {schedule.end.isoformat()}"
    return text


SCHEDULE_END = datetime(9999, 1, 1, tzinfo=UTC)
"""What Digdag shows as the next run (and session) of a schedule with no run left."""


def schedule_to_json(
    schedule: Schedule, runs: list[Run], pad_to: int | None = None
) -> dict[str, object]:
    """The preview as JSON-ready data with ISO-8601 times. Each run also carries
    ``run_time_utc``, the run time as Digdag's API writes ``nextRunTime`` (UTC, ``Z``).
    With ``pad_to``, a schedule that has no more runs (its ``end`` has passed) is filled
    up with the entry Digdag answers then: 9999-01-01T00:00:00Z, ``end_of_schedule``."""
    entries: list[dict[str, object]] = [
        {
            "session_time": r.session_time.isoformat(),
            "run_time": r.run_time.isoformat(),
            "run_time_utc": _utc_z(r.run_time),
        }
        for r in runs
    ]
    if pad_to is not None and len(runs) < pad_to:
        end = SCHEDULE_END.astimezone(parse_timezone(schedule.timezone)).isoformat()
        marker = {
            "session_time": end,
            "run_time": end,
            "run_time_utc": _utc_z(SCHEDULE_END),
            "end_of_schedule": True,
        }
        entries += [dict(marker) for _ in range(pad_to - len(runs))]
    return {
        "description": describe(schedule),
        "timezone": schedule.timezone,
        "next_runs": entries,
    }


def _utc_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- daylight saving time ---------------------------------------------------------------


def _wall_kind(wall: datetime, tz: tzinfo) -> str:
    """'gap' (does not exist), 'repeat' (happens twice) or 'ok' for a local wall time."""
    before, after = (wall.replace(tzinfo=tz, fold=f).utcoffset() for f in (0, 1))
    if before is None or after is None or before == after:
        return "ok"
    return "repeat" if before > after else "gap"


def _offset_text(offset: timedelta) -> str:
    """UTC-08:00."""
    minutes = offset // timedelta(minutes=1)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _change(a: datetime, b: datetime, tz: tzinfo) -> str | None:
    """'spring forward from 02:00 to 03:00 (UTC-08:00 to UTC-07:00)' between a and b."""
    lo, hi = sorted((int(a.timestamp()), int(b.timestamp())))
    old, new = (datetime.fromtimestamp(t, tz).utcoffset() for t in (lo, hi))
    if old is None or new is None or old == new:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if datetime.fromtimestamp(mid, tz).utcoffset() == old else (lo, mid)
    at = datetime(1970, 1, 1) + timedelta(seconds=hi)
    way = "spring forward" if new > old else "fall back"
    return (
        f"{way} from {(at + old):%H:%M} to {(at + new):%H:%M} "
        f"({_offset_text(old)} to {_offset_text(new)})"
    )


def _note(schedule: Schedule, run: Run, delay: int, tz: tzinfo) -> str | None:
    """One warning when this run's wall-clock time is not the one written in the .dig."""
    day = run.session_time.date()
    wanted = datetime.combine(day, time()) + timedelta(seconds=delay)
    actual = run.run_time.replace(tzinfo=None)
    kind = _wall_kind(wanted, tz)
    if actual == wanted and kind != "repeat":
        return None
    label, zone = f"{schedule.kind}> {schedule.value}", schedule.timezone
    when = _clock(delay % 86400)
    got = f"{_clock(actual.hour * 3600 + actual.minute * 60 + actual.second)}"
    got += f" {run.run_time.tzname()}" + (f" on {actual.date()}" if actual.date() != day else "")
    change = _change(run.session_time, run.run_time, tz)
    if run.session_time.replace(tzinfo=None).time() != time():
        start = f"{run.session_time:%H:%M} {run.session_time.tzname()}"
        return (
            f"on {day}: local midnight does not exist in {zone}, so the session starts at "
            f"{start}; {label} runs at {got} instead of {when}"
        )
    if kind == "repeat" and actual == wanted:
        which = "first" if run.run_time.fold == 0 else "second"
        twice = f"on {day}: {when} happens twice in {zone}"
        return f"{twice}; {label} runs at the {which} of the two, {got}"
    if kind == "gap":
        why = f": the clocks {change}" if change else ""
        return (
            f"on {day}: {when} does not exist in {zone}{why}; {label} runs at {got} "
            f"(local midnight + {delay} s)"
        )
    why = f"the clocks in {zone} {change}" if change else f"the UTC offset in {zone} changes"
    return (
        f"on {day}: {why}; Digdag adds {delay} s to local midnight, "
        f"so {label} runs at {got} instead of {when}"
    )


def dst_warnings(schedule: Schedule, start: datetime, days: int = 366) -> list[str]:
    """Daily/weekly/monthly runs in the next ``days`` days whose wall time is not as written."""
    if schedule.kind not in ("daily", "weekly", "monthly"):
        return []
    tz, delay = parse_timezone(schedule.timezone), delay_seconds(schedule)
    limit = start + timedelta(days=days)
    notes = []
    for run in iter_runs(schedule, start):
        if run.session_time > limit:
            break
        note = _note(schedule, run, delay, tz)
        if note:
            notes.append(note)
    return notes
