"""Schedules read from project files: what each workflow runs and when, next."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, NamedTuple

from digsync.errors import DigsyncError, ScheduleError
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
