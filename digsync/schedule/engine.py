"""Digdag's ``schedule:`` block: validation, normalisation and the exact run times.

Sources (treasure-data/digdag): ``SchedulerManager.java`` (first ``X>`` key is the
scheduler, unknown type, unused keys with ``EditDistance`` suggestions), the
``*SchedulerFactory.java`` classes (value formats; every directive becomes a cron4j
pattern plus a fixed delay in seconds), ``CronScheduler.java`` (first/next run, start and
end), ``ScheduleConfigHelper.java`` (``start``/``end`` dates), ``Durations.java``
(``skip_delayed_by``) and ``JacksonTimeModule.java`` (``timezone`` is ``ZoneId.of``).

* ``hourly>: MM:SS`` is ``0 * * * *`` + MM*60+SS s; ``daily>: HH:MM:SS`` is ``0 0 * * *``
  + seconds; ``weekly>: DAY,HH:MM:SS`` is ``0 0 * * DAY``; ``monthly>: D,HH:MM:SS`` is
  ``0 0 D * *``; ``minutes_interval>: N`` is the pattern ``*/N * * * *`` (N=45 fires at
  :00 and :45, N>=60 only at :00); ``cron>`` runs at the matched minute.
  ``seconds_interval>: N`` (``SecondsIntervalSchedulerFactory.java``; used by Digdag's own
  acceptance tests) runs at every multiple of N seconds since the Unix epoch. Numbers are Java
  ints and are not range-checked (``daily>: 25:00:00`` runs at 01:00 the next day).
* The session time is the matched instant; the run time is session + delay, so wall-clock
  run times move on days when the UTC offset changes between midnight and the run.
* The first session is the first whose run time is at or after ``from``. ``start``
  and ``end`` are local dates; a session whose run is at or after the day after ``end``
  ends the schedule; one whose run is before ``start`` is replaced by the first session
  at or after ``start`` (and Digdag does not re-check ``end`` for that one).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from itertools import islice
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from digsync.errors import ScheduleError, close_matches
from digsync.schedule.cron4j import NEVER, CronPattern, java_int, local, tokens

KINDS = ("hourly", "daily", "weekly", "monthly", "minutes_interval", "cron", "seconds_interval")
OPTIONS = ("skip_on_overtime", "skip_delayed_by", "start", "end")
DELAY_KINDS = ("cron", "minutes_interval")
"""The factories that read ``delay:`` (seconds added to each session time)."""
_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_REGION = re.compile(r"[A-Za-z][A-Za-z0-9~/._+-]+")
_OFFSET = re.compile(r"[+-]([0-9]{2})(?:([0-9]{2})([0-9]{2})?|:([0-9]{2})(?::([0-9]{2}))?)?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DURATION = re.compile(
    r"\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*",
    re.ASCII | re.IGNORECASE,
)
_ZONE_HINTS = dict.fromkeys(("PST", "PDT"), "America/Los_Angeles") | {
    "JST": "Asia/Tokyo", "KST": "Asia/Seoul", "IST": "Asia/Kolkata", "CDT": "America/Chicago",
    "EDT": "America/New_York", "CEST": "Europe/Paris", "BST": "Europe/London",
}  # fmt: skip
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z, the end of Python's datetime range


class Schedule(NamedTuple):
    """A validated ``schedule:`` block; ``value`` is what :meth:`directive` writes back."""

    kind: str
    value: str | int
    timezone: str
    skip_on_overtime: bool = False
    skip_delayed_by: str | None = None
    start: date | None = None
    end: date | None = None
    delay: int = 0
    """cron> and minutes_interval> only: seconds from the session time to the run."""

    def directive(self) -> dict[str, object]:
        """The mapping to put under ``schedule:`` in a .dig, options in Digdag's order."""
        out: dict[str, object] = {f"{self.kind}>": self.value}
        if self.skip_on_overtime:
            out["skip_on_overtime"] = True
        if self.skip_delayed_by is not None:
            out["skip_delayed_by"] = self.skip_delayed_by
        if self.start is not None:
            out["start"] = self.start.isoformat()
        if self.end is not None:
            out["end"] = self.end.isoformat()
        if self.delay:
            out["delay"] = self.delay
        return out


class Run(NamedTuple):
    """One scheduled session: its session time and the time it starts running."""

    session_time: datetime
    run_time: datetime


# --- time zones -------------------------------------------------------------------------


def parse_timezone(name: str) -> tzinfo:
    """Java ``ZoneId.of``: IANA names, ``Z``, ``±hh[:mm[:ss]]``, ``UTC``/``GMT``/``UT`` ± offset."""
    if not isinstance(name, str):
        raise ScheduleError(f"Unknown time zone name: {name!r} (expected a string)")
    if len(name) <= 1 or name[0] in "+-":
        return _offset_zone(name, name)
    for prefix in ("UTC", "GMT", "UT"):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if not rest:
                return UTC
            if rest[0] in "+-":
                return _offset_zone(rest, name)
            break
    return _region_zone(name)


def _offset_zone(text: str, name: str) -> tzinfo:
    """Java ``ZoneOffset.of``: Z, ±h, ±hh, ±hhmm, ±hh:mm, ±hhmmss, ±hh:mm:ss up to ±18:00."""
    if text == "Z":
        return UTC
    if len(text) == 2:
        text = text[0] + "0" + text[1]
    match = _OFFSET.fullmatch(text)
    if match is None:
        raise ScheduleError(
            f"Unknown time zone name: {name} (an offset is written like +09:00 or -05:30)"
        )
    hh, mm, ss, mm2, ss2 = (int(g or 0) for g in match.groups())
    hours, minutes, seconds = hh, mm or mm2, ss or ss2
    total = hours * 3600 + minutes * 60 + seconds
    if minutes > 59 or seconds > 59 or total > 18 * 3600:
        raise ScheduleError(f"Unknown time zone name: {name} (offsets go up to ±18:00)")
    return timezone(timedelta(seconds=-total if text[0] == "-" else total))


@functools.cache
def _zone_names() -> frozenset[str]:
    """The tz database names available (scanning them is slow, so once)."""
    return frozenset(available_timezones()) - {"Factory", "localtime"}


def _region_zone(name: str) -> tzinfo:
    """A tz database region such as ``Asia/Tokyo``; a hint for abbreviations and case."""
    if _REGION.fullmatch(name) and name in _zone_names():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    hint = _ZONE_HINTS.get(name.upper())
    if hint is None:
        hint = next((z for z in sorted(_zone_names()) if z.lower() == name.lower()), None)
    suggestion = f"did you mean '{hint}'?" if hint else "use an IANA name such as 'Asia/Tokyo'"
    raise ScheduleError(f"Unknown time zone name: {name} ({suggestion})")


# --- parsing ----------------------------------------------------------------------------


def parse_schedule(block: Mapping[str, object], timezone: str = "UTC") -> Schedule:
    """Validate a .dig ``schedule:`` mapping the way Digdag does; ScheduleError otherwise."""
    if not isinstance(block, Mapping):
        raise ScheduleError("Schedule config must be a mapping such as {daily>: 07:00:00}")
    parse_timezone(timezone)
    keys = [str(k) for k in block]
    op = next((k for k in keys if k.endswith(">")), None)
    if op is None or "_type" in keys:
        why = "'_type' is not supported" if "_type" in keys else "no key ends in '>'"
        raise ScheduleError(
            f"Schedule config requires 'type>: at' parameter, e.g. 'daily>: 07:00:00' ({why})"
        )
    kind = op[:-1]
    if kind not in KINDS:
        raise ScheduleError(f"Unknown scheduler type: {kind} (use one of {', '.join(KINDS)})")
    takes_delay = kind in DELAY_KINDS
    _check_unused(keys, op, ("delay",) if takes_delay else ())
    values = {str(k): v for k, v in block.items()}
    value = _normalise(kind, values[op])
    _plan(kind, value)
    start, end = _date(values.get("start"), "start"), _date(values.get("end"), "end")
    if start is not None and end is not None and start > end:
        raise ScheduleError("The schedule of end is earlier than start")
    return Schedule(
        kind,
        value,
        timezone,
        _flag(values.get("skip_on_overtime")),
        _duration(values.get("skip_delayed_by")),
        start,
        end,
        _delay(values.get("delay")) if takes_delay else 0,
    )


def _delay(raw: object) -> int:
    """``delay``: CronSchedulerFactory's ``config.get("delay", long.class, 0L)``."""
    if raw is None:
        return 0
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", raw):
        value = int(raw)
    if value is None or not -(2**63) <= value < 2**63:
        raise ScheduleError(f"delay: expected a whole number of seconds such as 300; got {raw!r}")
    return value


def _check_unused(keys: list[str], op: str, extra: tuple[str, ...] = ()) -> None:
    """SchedulerManager: every key other than the scheduler, the options and the keys its
    factory reads (``extra``) is an error."""
    known = (*OPTIONS, *extra)
    candidates = [op, *known]
    lines = []
    for key in keys:
        if key == op or key in known:
            continue
        line = f"Parameter '{key}' is not used at schedule. "
        near = close_matches(key, candidates)
        if near:
            line += f"> Did you mean '[{', '.join(near)}]'?"
        lines.append(line.rstrip())
    if lines:
        raise ScheduleError("\n".join(lines))


def _java_text(value: object, op: str) -> str:
    """Jackson's String conversion of a scalar; other shapes are an error."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    raise ScheduleError(f"{op}: expected a string value; got {type(value).__name__}")


def _java_split(text: str, sep: str) -> list[str]:
    """Java ``String.split(sep)``: trailing empty strings are dropped."""
    if sep not in text:
        return [text]
    parts = text.split(sep)
    while parts and not parts[-1]:
        parts.pop()
    return parts


def _clock(text: str, parts: int, kind: str, form: str) -> tuple[int, ...]:
    """Digdag ``parseAt``: exactly ``parts`` Java ints separated by ':'."""
    fragments = _java_split(text, ":")
    try:
        if len(fragments) != parts:
            raise ValueError(text)
        return tuple(java_int(f) for f in fragments)
    except ValueError:
        example = "07:00:00" if parts == 3 else "30:00"
        raise ScheduleError(
            f"{kind} scheduler requires {form} format: {text} (e.g. {example})"
        ) from None


def _i32(value: int) -> int:
    """Java int arithmetic wraps around."""
    return (value + 2**31) % 2**32 - 2**31


def _hms(text: str, kind: str) -> tuple[str, int]:
    """HH:MM:SS: the normalised text and the delay in seconds."""
    h, m, s = _clock(text, 3, kind, "hh:mm:ss")
    return f"{h:02d}:{m:02d}:{s:02d}", _i32(_i32(_i32(h * 3600) + _i32(m * 60)) + s)


def _normalise(kind: str, raw: object) -> str | int:
    """Validate the directive's value and return it in a canonical, equivalent form."""
    if kind.endswith("_interval"):
        return _interval(raw, kind)
    text = _java_text(raw, f"{kind}>")
    if kind == "cron":
        return "|".join(" ".join(tokens(p, " \t")) for p in tokens(text, "|")) or text
    if kind == "hourly":
        m, s = _clock(text, 2, "hourly>:", "mm:ss")
        return f"{m:02d}:{s:02d}"
    if kind == "daily":
        return _hms(text, "daily>")[0]
    fragments = text.split(",", 1)
    if len(fragments) != 2:
        raise ScheduleError(f"{kind}>: scheduler requires day,hh:mm:ss format: {text}")
    if kind == "weekly":
        return _weekly(text, fragments)
    try:
        day = java_int(fragments[0])
    except ValueError:
        raise ScheduleError(f"monthly>: scheduler requires day,hh:mm:ss format: {text}") from None
    return f"{day},{_hms(fragments[1], 'monthly>')[0]}"


def _weekly(text: str, fragments: list[str]) -> str:
    """WeeklySchedulerFactory: trimmed day (name, 0-7 or any cron day-of-week) and time."""
    day, at = (f.strip("".join(map(chr, range(33)))) for f in fragments)
    try:
        if java_int(day) < 0:
            raise ScheduleError(f"weekly>: invalid day: {day}")
    except ValueError:
        pass
    clock = _hms(at, "weekly>")[0]
    try:
        CronPattern.parse(f"0 0 * * {day}")
    except ScheduleError:
        raise ScheduleError(
            f"weekly>: scheduler requires day,hh:mm:ss format: {text} "
            "(the day is sun..sat or 0-7, e.g. Mon,07:00:00)"
        ) from None
    lower = day.lower()
    if lower in (d.lower() for d in _DAY_NAMES):
        day = lower.capitalize()
    return f"{day},{clock}"


def _interval(raw: object, kind: str) -> int:
    """``minutes_interval>``/``seconds_interval>`` take a Java int (numeric text converts)."""
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif (isinstance(raw, float) and raw.is_integer()) or (
        isinstance(raw, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", raw)
    ):
        value = int(raw)
    unit = kind.split("_")[0]
    low = 1 if unit == "seconds" else -(2**31)  # 0 seconds divides by zero in Digdag
    if value is None or not low <= value < 2**31:
        raise ScheduleError(f"{kind}>: expected a whole number of {unit} such as 30; got {raw!r}")
    return value


def _date(raw: object, key: str) -> date | None:
    """ScheduleConfigHelper: strict ``uuuu-MM-dd``."""
    if raw is None:
        return None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    match = _DATE.fullmatch(raw) if isinstance(raw, str) else None
    try:
        if match is None:
            raise ValueError(raw)
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        raise ScheduleError(f"Invalid {key}: {raw} (expected a date like 2026-01-31)") from None


def _flag(raw: object) -> bool:
    """``skip_on_overtime`` must be a real boolean."""
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise ScheduleError(f"skip_on_overtime: expected true or false; got {raw!r}")
    return raw


def _duration(raw: object) -> str | None:
    """``skip_delayed_by``: Digdag's Durations format, e.g. ``30s``, ``10m``, ``1h 30m``, ``1d``."""
    if raw is None:
        return None
    match = _DURATION.fullmatch(raw) if isinstance(raw, str) else None
    if match is None or not any(match.groups()) or len(match.string) > 80:
        raise ScheduleError(
            f"skip_delayed_by: expected a duration such as '30s', '10m', '1h 30m' or '1d' "
            f"(units in the order d h m s); got {raw!r}"
        )
    return match.string


# --- run times --------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _plan(kind: str, value: str | int) -> tuple[CronPattern | None, int]:
    """The cron4j pattern and delay (seconds) that Digdag's factory builds."""
    if kind == "seconds_interval":
        return None, 0  # SecondsIntervalScheduler: epoch-aligned, no cron pattern
    if kind in ("cron", "minutes_interval"):
        text = str(value) if kind == "cron" else f"*/{value} * * * *"
        pattern, delay = _pattern(text, f"{kind}>"), 0
    elif kind == "hourly":
        m, s = (int(p) for p in str(value).split(":"))
        pattern, delay = _pattern("0 * * * *", "hourly>"), _i32(_i32(m * 60) + s)
    elif kind == "daily":
        pattern, delay = _pattern("0 0 * * *", "daily>"), _hms(str(value), "daily>")[1]
    else:
        day, at = str(value).split(",", 1)
        text = f"0 0 * * {day}" if kind == "weekly" else f"0 0 {day} * *"
        pattern, delay = _pattern(text, f"{kind}>"), _hms(at, f"{kind}>")[1]
    return pattern, delay


def _pattern(text: str, op: str) -> CronPattern:
    """Parse a pattern for ``op``; reject ones that never match (cron4j would hang)."""
    try:
        pattern = CronPattern.parse(text)
    except ScheduleError as exc:
        raise ScheduleError(f"{op}: {exc}") from None
    if not pattern.can_match():
        raise ScheduleError(
            f"{op}: cron pattern {text!r} matches no date at all "
            "(Digdag's cron library would search forever)"
        )
    return pattern


def _local_midnight(day: date, tz: tzinfo) -> int:
    """``ZonedDateTime.of(day 00:00, zone)``: fold 0 (in a gap the offset before it)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


def _stepper(schedule: Schedule, tz: tzinfo) -> Callable[[int], int]:
    """The next session time (epoch seconds) strictly after a given one."""
    pattern = cron_pattern(schedule)
    if pattern is None:
        every = int(schedule.value)
        return lambda t: t - t % every + every
    return lambda t: pattern.next_after(t, tz)


def iter_runs(schedule: Schedule, start: datetime) -> Iterator[Run]:
    """Every run from ``start`` on, exactly as Digdag's CronScheduler computes them."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be a timezone-aware datetime")
    tz = parse_timezone(schedule.timezone)
    delay, step = delay_seconds(schedule), _stepper(schedule, tz)
    # A start before 1970 bounds nothing from 1970 on (and would step out of range).
    first = None if schedule.start is None else max(_local_midnight(schedule.start, tz), 0)
    after = None  # an end in the year 9999 is past Digdag's SCHEDULE_END: no bound at all
    if schedule.end is not None and schedule.end.year < 9999:
        after = _local_midnight(schedule.end + timedelta(days=1), tz)
    micros = (start - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    last = micros // 10**6 - (1 if micros % 10**6 == 0 else 0) - delay
    if schedule.kind == "seconds_interval":  # getFirstScheduleTime(t) is next(t - 1 ns)
        last = (micros * 1000 - 1) // 10**9
    while True:
        session = step(last)
        if after is not None and after <= session + delay:
            return
        if first is not None and first > session + delay:
            session = step(first - 1)
        if session >= NEVER or session + delay > _MAX_EPOCH:
            return
        yield Run(local(session, tz), local(session + delay, tz))
        last = session


def next_runs(schedule: Schedule, start: datetime, count: int) -> list[Run]:
    """The next ``count`` runs whose run time is at or after ``start``."""
    return list(islice(iter_runs(schedule, start), max(count, 0)))


def delay_seconds(schedule: Schedule) -> int:
    """Seconds from the session time to the run time."""
    return _plan(schedule.kind, schedule.value)[1] + schedule.delay


def cron_pattern(schedule: Schedule) -> CronPattern | None:
    """The cron4j pattern Digdag matches session times against (None for seconds_interval)."""
    return _plan(schedule.kind, schedule.value)[0]
