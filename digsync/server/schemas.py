"""The answers of the API as pydantic models, and the rest of /openapi.json.

Endpoints build their JSON as plain data (docs/api.md); these models describe it so
schemathesis and clients can check every answer against the document. config.yaml's
schema is one component, ``Config`` (``CONFIG``, a $ref, wherever it is used); the writes
that need the token say so with ``NEEDS_TOKEN``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from digsync.config.schema import json_schema


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


class RolledBackOut(_Model):
    """The rollback the server runs: to the revision ``to``, from ``from`` (the revision
    it replaced), pushed as ``revision``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    to: str | None
    from_: str | None = Field(alias="from")
    revision: str | None


class ErrorOut(_Model):
    error: str | list[str]
    code: str
    details: str | None = None
    problems: list[ProblemOut] | None = None
    etag: str | None = None
    pending: bool | None = None
    rolled_back: RolledBackOut | None = None  # 409 undoes_rollback


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
    rolled_back: RolledBackOut | None


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
    status: str  # pushed | unchanged (the server already ran that content)
    config_restored: bool
    config_path: str | None
    config_backup: str | None


class AcceptedOut(_Model):
    accepted: bool


CONFIG: dict[str, Any] = {"$ref": "#/components/schemas/Config"}
BEARER = "bearerAuth"
SECURITY_SCHEMES: dict[str, Any] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "a token of DIGSYNC_API_TOKEN; needed by the writes when it is set",
    }
}
NEEDS_TOKEN: dict[str, Any] = {"security": [{BEARER: []}]}
IF_MATCH: dict[str, Any] = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "the ETag the change is based on (*, W/ and lists accepted); "
    "412 when config.yaml has changed since",
    "schema": {"type": "string"},
}
ETAG: dict[str, Any] = {
    "ETag": {"description": "the config file's version", "schema": {"type": "string"}}
}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Add the components the operations refer to: the Config schema, the Bearer scheme."""
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Config"] = config_schema()
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    return document


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
    "properties": {
        "revision": {"type": "string", "minLength": 1},
        "restore_config": {"type": "boolean"},
    },
    "additionalProperties": False,
}
WEBHOOK_BODY: dict[str, Any] = {"type": "object", "description": "any JSON; it is signed"}
