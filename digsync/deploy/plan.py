"""Local render versus what the target runs now: file diffs and the schedule change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from digsync.config.model import Config
from digsync.deploy.archive import REVISION_PREFIX, archive_md5, content_hash, pack
from digsync.deploy.targets.base import RemoteProject, Target
from digsync.dig.schedules import workflow_schedules
from digsync.render.project import config_label, render_project
from digsync.render.writer import unified_diff
from digsync.schedule.engine import Run

RUNS_SHOWN = 5


class FileChange(NamedTuple):
    path: str
    change: str  # added | removed | changed
    diff: str


class ScheduleChange(NamedTuple):
    workflow: str
    before: str
    after: str
    runs_before: list[Run]
    runs_after: list[Run]

    @property
    def changed(self) -> bool:
        return self.before != self.after or [r.run_time for r in self.runs_before] != [
            r.run_time for r in self.runs_after
        ]


class Plan(NamedTuple):
    config: Config
    project: str
    target: str
    files: dict[str, bytes]
    revision: str
    content: str
    remote: RemoteProject | None
    remote_content: str | None
    changes: list[FileChange]
    schedules: list[ScheduleChange]

    @property
    def changed(self) -> bool:
        return self.remote is None or self.remote_content != self.content

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "target": self.target,
            "changed": self.changed,
            "server_revision": self.remote.revision if self.remote else None,
            "revision": self.revision,
            "files": [c._asdict() for c in self.changes],
            "schedules": [
                {
                    "workflow": s.workflow,
                    "before": s.before,
                    "after": s.after,
                    "runs_before": [_run_json(r) for r in s.runs_before],
                    "runs_after": [_run_json(r) for r in s.runs_after],
                }
                for s in self.schedules
            ],
        }


def _run_json(run: Run) -> dict[str, str]:
    return {"session_time": run.session_time.isoformat(), "run_time": run.run_time.isoformat()}


def diff_files(old: dict[str, bytes], new: dict[str, bytes]) -> list[FileChange]:
    """File-by-file changes from old (the server's) to new (the render), sorted by path."""
    out = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        diff = unified_diff(before or b"", after or b"", path, ("server", "local render"))
        out.append(FileChange(path, change, diff))
    return out


def schedule_changes(
    old: dict[str, bytes], new: dict[str, bytes], now: dt.datetime
) -> list[ScheduleChange]:
    """Per workflow: the schedule in words and the next runs, before and after."""
    before, after = workflow_schedules(old), workflow_schedules(new)
    out = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        out.append(
            ScheduleChange(
                name,
                b.description() if b else "none (a new workflow)",
                a.description() if a else "none (the workflow is removed)",
                b.runs(now, RUNS_SHOWN) if b else [],
                a.runs(now, RUNS_SHOWN) if a else [],
            )
        )
    return out


def make_plan(
    config: Config,
    target: Target,
    now: dt.datetime | None = None,
    describe: bool = True,
    listed: RemoteProject | None = None,
    archives: Mapping[str, str] | None = None,
    files: dict[str, bytes] | None = None,
) -> Plan:
    """Fetch the target's current revision and compare it with a fresh render.

    ``describe=False`` skips the file diffs and schedule previews (push needs neither).
    ``listed``: the project as a listing of all projects showed it; when it runs these
    files the plan is made from it, else the target is asked afresh. ``archives``: the
    content hash of the files in each archive (by its archiveMd5) digsync pushed, so
    that a known archive need not be packed again to be recognised. ``files``: the
    config's render, when the caller has it (generate --push).
    """
    now = now or dt.datetime.now(dt.UTC)
    if files is None:
        files = render_project(config, config_label(config)).files
    content = content_hash(files)
    archives = archives or {}
    remote = (
        listed if listed is not None and _same_archive(listed, files, content, archives) else None
    )
    remote_files: dict[str, bytes] = dict(files) if remote is not None else {}
    known: str | None = None  # the server's content, known from an archive we pushed
    if remote is None:
        remote = target.current(config.project)
        if remote is not None:
            same = _same_archive(remote, files, content, archives)
            known = None if same or describe else archives.get(remote.archive_md5 or "")
            if known is None:
                remote_files = dict(files) if same else target.files(remote)
    if known is not None:  # a push needs only the content: the archive is not fetched
        remote_content: str | None = known
    elif remote is not None:
        remote_content = content if remote_files == files else content_hash(remote_files)
    else:
        remote_content = None
    return Plan(
        config=config,
        project=config.project,
        target=f"{target.kind} {target.location}",
        files=files,
        revision=REVISION_PREFIX + content[:12],
        content=content,
        remote=remote,
        remote_content=remote_content,
        changes=diff_files(remote_files, files) if describe else [],
        schedules=schedule_changes(remote_files, files, now) if describe else [],
    )


def _same_archive(
    remote: RemoteProject, files: dict[str, bytes], content: str, archives: Mapping[str, str]
) -> bool:
    """Whether the server's archive holds these files: an archive digsync pushed of
    the same content, or the same checksum as these files packed."""
    if not remote.archive_md5:
        return False
    if archives.get(remote.archive_md5) == content:
        return True
    return remote.archive_md5 == archive_md5(pack(files))
