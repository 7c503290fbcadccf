"""The answers of the API as pydantic models, for /openapi.json only.

Endpoints build their JSON as plain data (docs/api.md); these models describe it so
schemathesis and clients can check every answer against the document.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from digsync.configschema import json_schema


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemOut(_Model):
    key_path: str
    message: str
    hint: str | None
    severity: str
    line: int | None
    column: int | None
    text: str


class ErrorOut(_Model):
    error: str | list[str]
    code: str
    details: str | None = None
    problems: list[ProblemOut] | None = None
    etag: str | None = None
    pending: bool | None = None


class HealthOut(_Model):
    status: str
    version: str


class SaveOut(_Model):
    success: bool
    workflowUpdated: bool  # the original design's name
    revision: str | None
    message: str
    etag: str
    warnings: list[ProblemOut]
    scheduleCheck: list[str]


class ValidateOut(_Model):
    valid: bool
    errors: list[ProblemOut]
    warnings: list[ProblemOut]


class RunOut(_Model):
    session_time: str
    run_time: str


class ScheduleOut(_Model):
    description: str
    timezone: str
    next_runs: list[RunOut]


class SchedulePair(_Model):
    before: ScheduleOut | None
    after: ScheduleOut


class LintOut(_Model):
    path: str
    line: int
    column: int
    code: str
    severity: str
    message: str


class PreviewOut(_Model):
    valid: bool
    project: str
    dig: str
    files: list[str]
    changed: bool
    diff: str
    schedule: SchedulePair
    lint: list[LintOut]
    warnings: list[ProblemOut]


class PendingOut(_Model):
    since: str
    error: str
    attempts: int


class StatusOut(_Model):
    project: str
    in_sync: bool
    server_revision: str | None
    drift: list[str]
    pending: PendingOut | None
    target: str


class AuditOut(_Model):
    time: str | None
    who: str | None
    action: str | None
    diff: str | None
    result: str | None
    revision: str | None
    message: str | None


class RevisionOut(_Model):
    revision: str | None
    created_at: str | None
    who: str | None
    action: str | None
    config_hash: str | None
    result: str | None
    current: bool


class HistoryOut(_Model):
    project: str
    audit: list[AuditOut]
    revisions: list[RevisionOut]


class RollbackOut(_Model):
    success: bool
    project: str
    from_revision: str
    to_revision: str
    new_revision: str
    advice: str


class AcceptedOut(_Model):
    accepted: bool


def config_schema() -> dict[str, Any]:
    """config.yaml's JSON Schema as an OpenAPI 3.1 schema object."""
    schema = json_schema()
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return schema


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


ROLLBACK_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"revision": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
WEBHOOK_BODY: dict[str, Any] = {"type": "object", "description": "any JSON; it is signed"}
