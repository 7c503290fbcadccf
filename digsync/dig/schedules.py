"""Schedules read from project files: what each workflow runs and when, next."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, NamedTuple

from digsync.errors import DigsyncError, InputError, ScheduleError
from digsync.schedule.engine import Run, Schedule, next_runs, parse_schedule
from digsync.schedule.words import describe


class WorkflowSchedule(NamedTuple):
    workflow: str
    schedule: Schedule | None
    timezone: str

    def description(self) -> str:
        if self.schedule is None:
            return f"manual runs only ({self.timezone})" if self.timezone else "manual runs only"
        return describe(self.schedule)

    def runs(self, start: dt.datetime, count: int = 5) -> list[Run]:
        return next_runs(self.schedule, start, count) if self.schedule else []


def workflow_schedules(files: dict[str, bytes]) -> dict[str, WorkflowSchedule]:
    """The schedule of every workflow (root .dig file) in a project's files."""
    return {
        path[: -len(".dig")]: _schedule_of(path, files[path])
        for path in sorted(files)
        if "/" not in path and path.endswith(".dig")
    }


@functools.lru_cache(maxsize=64)
def _schedule_of(path: str, data: bytes) -> WorkflowSchedule:
    """One .dig file's schedule; a push reads the same file for its plan, its check of
    the server's next run and the local target's answer, so each is loaded once."""
    from digsync.dig.loader import load_dig

    name = path[: -len(".dig")]
    try:
        doc = load_dig(data.decode("utf-8"), path).data
    except (DigsyncError, UnicodeDecodeError):
        return WorkflowSchedule(name, None, "")
    tz = str(doc.get("timezone", "UTC")) if isinstance(doc, dict) else "UTC"
    block = doc.get("schedule") if isinstance(doc, dict) else None
    schedule = None
    if isinstance(block, dict):
        try:
            schedule = parse_schedule(block, tz)
        except ScheduleError:
            schedule = None
    return WorkflowSchedule(name, schedule, tz)


def iso_z(when: dt.datetime) -> str:
    """An instant as Digdag writes nextRunTime: UTC with Z."""
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def server_style_schedules(files: dict[str, bytes], now: dt.datetime) -> list[dict[str, Any]]:
    """What GET /schedules would answer for these files (used by the local target)."""
    out = []
    for ws in workflow_schedules(files).values():
        runs = ws.runs(now, 1)
        if ws.schedule is None or not runs:
            continue
        out.append(
            {
                "id": ws.workflow,
                "workflow": {"id": ws.workflow, "name": ws.workflow},
                "nextRunTime": iso_z(runs[0].run_time),
                "nextScheduleTime": runs[0].session_time.isoformat(),
                "disabledAt": None,
            }
        )
    return out


class Preview(NamedTuple):
    data: dict[str, Any]
    warnings: list[str]
    config_warnings: tuple[str, ...] = ()
    """The config's own warnings (say, an hourly HH:MM:SS time that is ignored)."""


def parse_instant(text: str | None, tz: dt.tzinfo, flag: str = "--from") -> dt.datetime:
    """ISO-8601 instant; a time without offset is read in the workflow's time zone."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{flag}: expected an ISO-8601 time such as 2026-03-08T00:00:00Z; got {text!r}"
        ) from None
    value = value if value.tzinfo else value.replace(tzinfo=tz)
    if not dt.datetime(1970, 1, 1, tzinfo=dt.UTC) <= value < dt.datetime(9999, 1, 1, tzinfo=dt.UTC):
        raise InputError(f"{flag}: expected a time from 1970 to 9998; got {text!r}")
    return value


def schedule_preview(
    config: str | None = None, dig: str | None = None, start: str | None = None, count: int = 5
) -> Preview:
    """Description and next runs of the schedule in a config or a .dig file."""
    from digsync.schedule.engine import next_runs, parse_schedule, parse_timezone
    from digsync.schedule.words import dst_warnings, schedule_to_json

    if count < 0 or count > 10_000:
        raise InputError("--next: expected a number from 0 to 10000")
    block, tz_name, notes = _schedule_source(config, dig)
    tz = parse_timezone(tz_name)
    begin = parse_instant(start, tz)
    if block is None:
        return Preview(
            {"description": "manual runs only (no schedule)", "timezone": tz_name, "next_runs": []},
            [],
            notes,
        )
    schedule = parse_schedule(block, tz_name)
    runs = next_runs(schedule, begin, count)
    data = schedule_to_json(schedule, runs, pad_to=count)
    return Preview(data, dst_warnings(schedule, begin), notes)


def _schedule_source(
    config: str | None, dig: str | None
) -> tuple[dict[str, Any] | None, str, tuple[str, ...]]:
    if dig is None:
        from digsync.config.model import load_config

        loaded = load_config(config or "config.yaml")
        notes = tuple(str(w) for w in loaded.warnings)
        return loaded.schedule.directive, loaded.schedule.timezone, notes
    from digsync.dig.loader import load_dig

    try:
        text = Path(dig).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{dig}: {exc.strerror}") from None
    data = load_dig(text, dig, Path(dig).parent).data
    if not isinstance(data, dict):
        raise DigsyncError(f"{dig}: not a workflow (the top level is not a mapping)")
    tz = data.get("timezone", "UTC")
    block = data.get("schedule")
    if block is not None and not isinstance(block, dict):
        raise DigsyncError(f"{dig}: schedule: expected a mapping")
    return block, str(tz), ()
