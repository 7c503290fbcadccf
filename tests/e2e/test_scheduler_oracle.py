"""Digdag's own scheduler is the oracle: ``POST /api/schedules/{id}/skip`` with
``{"fromTime": T, "count": k, "dryRun": true}`` answers the (k+1)-th run at or after T.
Every schedule kind, with start/end and skip options, in 11 time zones, from-times on
both DST changes of the coming year, is compared with ``digsync schedule --dig FILE
--from T --json`` (the library call behind it): every run must agree.

Skip refuses (409) a result that is not after the schedule's current next session, so
from-times lie after today; such a refusal is checked to be consistent, not counted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from digsync.dig.schedules import schedule_preview
from digsync.yamlio.emit import dump
from tests.digdag_servers import ServerView

ZONES = (
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Pacific/Chatham",
    "America/Santiago",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "UTC",
)
BLOCKS: tuple[dict[str, object], ...] = (
    {"hourly>": "15:00"},
    {"hourly>": "45:30", "skip_on_overtime": True},
    {"daily>": "02:30:00"},
    {"daily>": "01:30:00", "skip_delayed_by": "1h"},
    {"weekly>": "Sun,02:30:00"},
    {"monthly>": "1,01:30:00"},
    {"cron>": "30 1 * * *"},
    {"cron>": "*/20 0-3 * * *"},
    {"minutes_interval>": 30},
    {"minutes_interval>": 15, "delay": 120},
    {"daily>": "03:00:00", "start": "2027-03-01", "end": "2027-11-30"},
    {"cron>": "0 */6 * * *", "start": "2027-06-01"},
)
COUNTS = (0, 1, 3)
MIN_COMPARISONS = 500


def dst_changes(zone: str, after: dt.datetime, days: int = 400) -> list[dt.datetime]:
    """The instants the zone's UTC offset changes within ``days`` after ``after``."""
    tz = ZoneInfo(zone)
    found = []
    step = dt.timedelta(minutes=30)
    t = after
    offset = t.astimezone(tz).utcoffset()
    while t < after + dt.timedelta(days=days):
        t += step
        now = t.astimezone(tz).utcoffset()
        if now != offset:
            found.append(t)
            offset = now
    return found


def from_times(zone: str, today: dt.datetime) -> list[dt.datetime]:
    """Around each DST change: 3 h and 40 min before, the change, 40 min and 3 h after;
    plus two ordinary days."""
    times = [today + dt.timedelta(days=40), today + dt.timedelta(days=200, hours=7)]
    for change in dst_changes(zone, today + dt.timedelta(days=2)):
        for minutes in (-180, -40, 0, 40, 180):
            times.append(change + dt.timedelta(minutes=minutes))
    return times


def iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_run_agrees_with_digdags_scheduler(real: ServerView, tmp_path: Path) -> None:
    today = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    folder = tmp_path / "oracle"
    folder.mkdir()
    files: dict[str, bytes] = {}
    cases: dict[str, tuple[str, Path]] = {}
    for z, zone in enumerate(ZONES):
        for b, block in enumerate(BLOCKS):
            name = f"w_{z}_{b}"
            text = dump({"timezone": zone, "schedule": block, "+run": {"echo>": "x"}})
            path = folder / f"{name}.dig"
            path.write_text(text, encoding="utf-8")
            files[path.name] = text.encode("utf-8")
            cases[name] = (zone, path)
    project = "digsync_scheduler_oracle"
    answer = real.push_files(project, f"oracle-{today:%Y%m%d%H%M%S}", files)
    assert answer.status_code == 200, answer.text
    schedules = {s["workflow"]["name"]: s for s in real.schedules(project)}
    assert set(schedules) == set(cases), sorted(set(cases) - set(schedules))

    compared, refused, differences = 0, 0, []
    for name, (zone, path) in sorted(cases.items()):
        schedule = schedules[name]
        for start in from_times(zone, today):
            ours = schedule_preview(dig=str(path), start=iso_z(start), count=max(COUNTS) + 1)
            runs = ours.data["next_runs"]
            for k in COUNTS:
                reply = real.http.post(
                    f"/api/schedules/{schedule['id']}/skip",
                    json={"fromTime": iso_z(start), "count": k, "dryRun": True},
                )
                if reply.status_code == 409:  # not after the current next session
                    refused += 1
                    session = dt.datetime.fromisoformat(runs[k]["session_time"])
                    current = dt.datetime.fromisoformat(schedule["nextScheduleTime"])
                    assert session <= current, (name, start, k, reply.text)
                    continue
                assert reply.status_code == 200, reply.text
                compared += 1
                theirs = reply.json()["nextRunTime"]
                if runs[k]["run_time_utc"] != theirs:
                    differences.append((name, zone, iso_z(start), k, runs[k], theirs))
    print(f"\nscheduler oracle: {compared} runs compared, {refused} refused as past")
    assert differences == []
    assert compared >= MIN_COMPARISONS
