"""Cron patterns exactly as Digdag reads them: cron4j 2.2.5 ``SchedulingPattern`` + ``Predictor``.

Digdag (digdag-standards ``CronScheduler.java``; ``build.gradle`` pins
``it.sauronsoftware.cron4j:cron4j:2.2.5``) turns every schedule into a cron4j pattern.
Rules read from cron4j's ``SchedulingPattern.java``, ``Predictor.java``,
``DayOfMonthValueMatcher.java`` and ``IntArrayValueMatcher.java``:

* ``|`` joins several patterns; the union of their matches is used. Splitting uses
  ``StringTokenizer``, so empty pieces vanish (``"a||b"`` is ``a|b``); no piece is an error.
* Each pattern has exactly five fields split on spaces and tabs only (a newline is not a
  separator): minute 0-59, hour 0-23, day of month 1-31 or ``L`` (last day), month 1-12
  or ``jan``..``dec``, day of week 0-7 or ``sun``..``sat`` (7 and 0 are Sunday; names
  ignore case; ``Monday`` is rejected).
* A field is ``*`` or a comma list (empty items vanish) of ``v``, ``a-b`` or either with
  ``/n``. ``a-b`` with ``a > b`` wraps (``22-2`` is 22,23,0,1,2); ``/n`` keeps every n-th
  item of that list; ``*/n`` counts from the field minimum. Numbers use Java
  ``Integer.parseInt`` (``+5`` and ``05`` work). Tokenizer quirks kept on purpose:
  ``-5`` and ``/5`` both mean 5, and day-of-week ``0-7`` means Sunday only (7 is read as 0).
* Not supported, so rejected: ``?``, ``W``, ``#``, ``L`` outside the day of month,
  ``@daily`` and other macros, seconds or year fields.
* All five fields must match (cron4j ANDs day of month and day of week; Vixie cron ORs them).
* Matching uses the local wall clock in the workflow time zone (Digdag overrides
  ``match(long)`` to pass the zone). The next time is found by walking wall-clock fields
  and turning the result back into an instant the way Java's lenient
  ``GregorianCalendar`` does: a day past the month's end rolls into the next month, then
  the search restarts from that date (so from February, ``1,30`` skips 1 March: 30 Feb
  becomes 2 March); a wall time inside a spring-forward gap is read with the offset
  before the change (02:30 becomes 03:30 daylight time); a repeated wall time on a
  fall-back day is read with the offset after it (the later instant). Only the minute
  right after the start is checked against the real instant, so the earlier copy of a
  repeated hour is used only when the search starts one minute before it.
* A pattern that can never match (``0 0 31 2 *``) makes cron4j loop forever; we reject it.

Deliberate differences: Java truncates times before 1970 toward zero, and after 2037 it
extrapolates each zone's last rule (``SimpleTimeZone``), which for a few zones whose rules
are irregular (Asia/Gaza) gives other change dates; we use the tz database for every year.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from datetime import date, datetime, timedelta, tzinfo
from typing import NamedTuple

from digsync.errors import ScheduleError

LAST = 32  # cron4j stores "L" (last day of month) as 32
NEVER = 253370764800  # 9999-01-01T00:00:00Z, Digdag's SCHEDULE_END
_SEARCH_YEARS = 450  # more than one 400-year Gregorian cycle
_EPOCH = datetime(1970, 1, 1)
_JAVA_INT = re.compile(r"[+-]?\d+")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class _Bad(Exception):
    """Why one field is invalid; turned into a ScheduleError by CronPattern.parse."""


def java_int(text: str) -> int:
    """Java ``Integer.parseInt``: optional sign, decimal digits, 32-bit range."""
    if not _JAVA_INT.fullmatch(text):
        raise ValueError(text)
    value = int(text)
    if not -(2**31) <= value < 2**31:
        raise ValueError(text)
    return value


def tokens(text: str, delimiters: str) -> list[str]:
    """Java ``StringTokenizer``: split on any delimiter character, dropping empty pieces."""
    return [t for t in re.split(f"[{re.escape(delimiters)}]", text) if t]


def _same_ignoring_case(a: str, b: str) -> bool:
    """Java ``String.equalsIgnoreCase`` (per character, upper then lower case)."""

    def up(c: str) -> str:
        return c.upper() if len(c.upper()) == 1 else c

    return len(a) == len(b) and all(
        x == y or up(x) == up(y) or up(x).lower() == up(y).lower()
        for x, y in zip(a, b, strict=True)
    )


class _Kind(NamedTuple):
    """One of the five fields: its name, range and names (cron4j's ValueParser)."""

    name: str
    low: int
    high: int
    aliases: tuple[str, ...] = ()

    def value(self, text: str) -> int:
        """Parse one value: number in range, else alias (months, days), ``L`` for days."""
        if self.name == "days of month" and text in ("L", "l"):
            return LAST
        try:
            number = java_int(text)
        except ValueError:
            number = None
        if number is not None and self.low <= number <= self.high:
            return number % 7 if self.name == "days of week" else number
        for index, alias in enumerate(self.aliases):
            if _same_ignoring_case(text, alias):
                return index + (1 if self.name == "months" else 0)
        if number is not None:
            raise _Bad(f"value {text!r} is out of range {self.low}-{self.high}")
        names = f" or a name ({self.aliases[0]}-{self.aliases[-1]})" if self.aliases else ""
        extra = " or L" if self.name == "days of month" else ""
        raise _Bad(f"{text!r} is not a number{names}{extra}")


_KINDS = (
    _Kind("minutes", 0, 59),
    _Kind("hours", 0, 23),
    _Kind("days of month", 1, 31),
    _Kind("months", 1, 12, _MONTHS),
    _Kind("days of week", 0, 7, _DAYS),
)


def _parse_range(text: str, kind: _Kind) -> list[int]:
    """``*``, ``v`` or ``a-b`` (wrapping when a > b), as cron4j's parseRange."""
    if text == "*":
        return list(range(kind.low, kind.high + 1))
    ends = tokens(text, "-")
    if len(ends) not in (1, 2):
        raise _Bad(f"{text!r} is not a value or a range a-b")
    first = kind.value(ends[0])
    if len(ends) == 1:
        return [first]
    last = kind.value(ends[1])
    if first <= last:
        return list(range(first, last + 1))
    return list(range(first, kind.high + 1)) + list(range(kind.low, last + 1))


def _parse_element(text: str, kind: _Kind) -> list[int]:
    """One comma item: a range, optionally ``/n`` keeping every n-th value."""
    parts = tokens(text, "/")
    if len(parts) not in (1, 2):
        raise _Bad(f"{text!r} has more than one '/'")
    values = _parse_range(parts[0], kind)
    if len(parts) == 1:
        return values
    try:
        step = java_int(parts[1])
    except ValueError:
        raise _Bad(f"step {parts[1]!r} is not a number") from None
    if step < 1:
        raise _Bad(f"step {step} must be 1 or more")
    return values[::step]


class Field(NamedTuple):
    """One parsed field. ``values`` is None for ``*``; else cron4j's ordered value list.

    ``ordered`` holds the listed values in ascending order (empty for ``*``).
    """

    text: str
    values: tuple[int, ...] | None
    ordered: tuple[int, ...] = ()

    @classmethod
    def of(cls, text: str, values: tuple[int, ...] | None) -> Field:
        return cls(text, values, tuple(sorted(values or ())))

    def match(self, value: int) -> bool:
        """IntArrayValueMatcher / AlwaysTrueValueMatcher."""
        return self.values is None or value in self.values

    def next_from(self, value: int, low: int, high: int) -> int | None:
        """The smallest matching value >= ``value`` within ``low..high``, or None."""
        if self.values is None:
            return max(value, low) if value <= high else None
        index = bisect_left(self.ordered, value)
        return self.ordered[index] if index < len(self.ordered) else None

    def match_day(self, day: int, last_day: int) -> bool:
        """DayOfMonthValueMatcher: the day is listed, or it is the last day and L is listed."""
        if self.values is None:
            return True
        return day in self.values or (day > 27 and LAST in self.values and day == last_day)


def _parse_field(text: str, kind: _Kind) -> Field:
    """cron4j buildValueMatcher: ``*`` or a comma list, duplicates dropped in order."""
    if text == "*":
        return Field.of(text, None)
    values: list[int] = []
    for element in tokens(text, ","):
        values += [v for v in _parse_element(element, kind) if v not in values]
    if not values:
        raise _Bad("no values")
    return Field.of(text, tuple(values))


def month_days(year: int, month: int) -> int:
    """Days in a month (Gregorian)."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def sunday0(day: date) -> int:
    """Day of week with Sunday = 0, as cron4j numbers it."""
    return (day.weekday() + 1) % 7


def wall_to_epoch(wall: datetime, tz: tzinfo) -> int:
    """Java lenient GregorianCalendar: a wall time in a gap or overlap gives the later instant."""
    offsets = [wall.replace(tzinfo=tz, fold=f).utcoffset() or timedelta(0) for f in (0, 1)]
    return (wall - _EPOCH - min(offsets)) // timedelta(seconds=1)


def local(epoch: int, tz: tzinfo) -> datetime:
    """The aware local time of an instant given in epoch seconds."""
    return datetime.fromtimestamp(epoch, tz)


class Group(NamedTuple):
    """One ``|``-separated pattern with its five fields."""

    text: str
    minute: Field
    hour: Field
    day: Field
    month: Field
    weekday: Field

    def matches(self, when: datetime) -> bool:
        """SchedulingPattern.match for one group at a local time."""
        last = month_days(when.year, when.month)
        return (
            self.minute.match(when.minute)
            and self.hour.match(when.hour)
            and self.day.match_day(when.day, last)
            and self.month.match(when.month)
            and self.weekday.match(sunday0(when.date()))
        )

    def can_match(self) -> bool:
        """True when some month/day pair exists (weekday, hour and minute always can)."""
        months = self.month.values or range(1, 13)
        days = self.day.values or range(1, 32)
        return LAST in days or any(d <= month_days(2000, m) for m in months for d in days)

    def _clock(self, hour: int, minute: int, day: int) -> tuple[int, int, int]:
        """Predictor's minute and hour loops: next matching (hour, minute), maybe a day on."""
        while True:
            found = self.minute.next_from(minute, 0, 59)
            if found is None:
                hour, minute = hour + 1, self.minute.next_from(0, 0, 59) or 0
            else:
                minute = found
            if hour > 23:
                hour, day = 0, day + 1
            if self.hour.match(hour):
                return hour, minute, day
            hour, minute = hour + 1, 0

    def search(self, start: datetime, tz: tzinfo) -> int:
        """Predictor.nextMatchingTime's slow path for this group, from local ``start``."""
        y, mo, d, h, mi = start.year, start.month, start.day, start.hour, start.minute
        while True:  # day of week
            while True:  # month
                while True:  # day of month
                    h, mi, d = self._clock(h, mi, d)
                    if d > 31:
                        d, mo = 1, mo + 1
                    if mo > 12:
                        mo, y = 1, y + 1
                    if y >= 9999 or y > start.year + _SEARCH_YEARS:
                        return NEVER
                    if self.day.values is None or self.day.match_day(d, month_days(y, mo)):
                        break
                    d, h, mi = d + 1, 0, 0
                if self.month.match(mo):
                    break
                mo, d, h, mi = mo + 1, 1, 0, 0
            wall = datetime(y, mo, 1, h, mi) + timedelta(days=d - 1)
            epoch = wall_to_epoch(wall, tz)
            found = local(epoch, tz).date()
            if (found.year, found.month, found.day) != (y, mo, d):
                y, mo, d = found.year, found.month, found.day  # "take another spin"
                continue
            if self.weekday.match(sunday0(found)):
                return epoch // 60 * 60
            d, h, mi = d + 1, 0, 0
            if d > 31:
                d, mo = 1, mo + 1
                if mo > 12:
                    mo, y = 1, y + 1


class CronPattern(NamedTuple):
    """A parsed cron4j scheduling pattern (one or more ``|``-joined groups)."""

    text: str
    groups: tuple[Group, ...]

    @classmethod
    def parse(cls, expr: str) -> CronPattern:
        """Parse like ``new SchedulingPattern(expr)``; ScheduleError when cron4j would throw."""
        pieces = tokens(expr, "|")
        if not pieces:
            raise ScheduleError(f"invalid cron pattern {expr!r}: the pattern is empty")
        return cls(expr, tuple(_parse_group(expr, piece) for piece in pieces))

    def matches(
        self,
        minute: int,
        hour: int,
        day: int,
        month: int,
        weekday_sun0: int,
        last_day_of_month: int,
    ) -> bool:
        """True when local wall-clock fields match any group (all five fields must match)."""
        return any(
            g.minute.match(minute)
            and g.hour.match(hour)
            and g.day.match_day(day, last_day_of_month)
            and g.month.match(month)
            and g.weekday.match(weekday_sun0)
            for g in self.groups
        )

    def can_match(self) -> bool:
        """False for patterns such as ``0 0 31 2 *`` that no date satisfies."""
        return any(g.can_match() for g in self.groups)

    def next_after(self, epoch: int, tz: tzinfo) -> int:
        """cron4j ``Predictor(pattern, epoch).nextMatchingTime()`` in zone ``tz``.

        The first match after the minute containing ``epoch`` (epoch seconds in and out);
        :data:`NEVER` when nothing matches before the year 9999.
        """
        time = epoch // 60 * 60 + 60
        start = local(time, tz)
        if any(g.matches(start) for g in self.groups):
            return time
        return min(g.search(start, tz) for g in self.groups)


def _parse_group(expr: str, piece: str) -> Group:
    """One ``|`` piece: five fields, each parsed with its own rules."""
    texts = tokens(piece, " \t")
    if len(texts) != 5:
        raise ScheduleError(
            f"invalid cron pattern {expr!r}: {piece.strip()!r} has {len(texts)} fields; "
            "cron needs 5 (minute hour day-of-month month day-of-week)"
        )
    fields = []
    for text, kind in zip(texts, _KINDS, strict=True):
        try:
            fields.append(_parse_field(text, kind))
        except _Bad as exc:
            why = f"invalid cron pattern {expr!r}: {kind.name} {text!r}: {exc}"
            raise ScheduleError(why) from None
    return Group(piece, *fields)
