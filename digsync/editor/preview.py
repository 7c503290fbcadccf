"""Preview a candidate config without writing anything: the .dig, the diff against what
the target runs, the schedule before and after with the next runs, and the lint findings."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePath
from typing import Any

from digsync.config.model import Config
from digsync.deploy.plan import RUNS_SHOWN, diff_files, make_plan
from digsync.deploy.targets.base import Target
from digsync.dig.lint.core import lint_text
from digsync.dig.schedules import WorkflowSchedule, workflow_schedules


def preview(config: Config, target: Target, now: dt.datetime | None = None) -> dict[str, Any]:
    """The preview document of docs/api.md (warnings are added by the caller)."""
    now = now or dt.datetime.now(dt.UTC)
    plan = make_plan(config, target, now, describe=False)
    files = plan.files
    if plan.remote is None:
        remote_files: dict[str, bytes] = {}
    elif plan.changed:
        remote_files = target.files(plan.remote)
    else:
        remote_files = files
    # schedule-only mode sends the hand-written .dig's folder: that .dig is the workflow
    dig_path = PurePath(config.source).name if config.source else f"{config.workflow_name}.dig"
    workflow = dig_path[: -len(".dig")] if dig_path.endswith(".dig") else dig_path
    dig = files[dig_path].decode("utf-8", "replace")
    before = workflow_schedules(remote_files).get(workflow)
    after = workflow_schedules(files).get(workflow) or WorkflowSchedule(workflow, None, "UTC")
    return {
        "valid": True,
        "project": config.project,
        "dig": dig,
        "files": sorted(files),
        "changed": plan.changed,
        "diff": "".join(change.diff for change in diff_files(remote_files, files)),
        "schedule": {
            "before": _schedule(before, now) if before is not None else None,
            "after": _schedule(after, now),
        },
        "lint": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "code": f.code,
                "severity": f.severity,
                "message": f.message,
            }
            for f in lint_text(dig, dig_path, "td")
        ],
    }


def _schedule(ws: WorkflowSchedule, now: dt.datetime) -> dict[str, Any]:
    return {
        "description": ws.description(),
        "timezone": ws.timezone,
        "next_runs": [
            {"session_time": r.session_time.isoformat(), "run_time": r.run_time.isoformat()}
            for r in ws.runs(now, RUNS_SHOWN)
        ],
    }
