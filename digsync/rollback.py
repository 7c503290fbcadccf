"""Roll a project back to an earlier revision by re-pushing its archive as a new one."""

from __future__ import annotations

from typing import NamedTuple

from digsync.config import Config
from digsync.errors import UsageError
from digsync.history import Ledger
from digsync.project import content_hash, revision_name
from digsync.push import push_files, scrub
from digsync.targets import RemoteProject, Target


class RollbackResult(NamedTuple):
    project: str
    from_revision: str
    to_revision: str
    new_revision: str
    advice: str


def rollback(
    config: Config,
    target: Target,
    ledger: Ledger,
    revision: str | None,
    author: str | None = None,
) -> RollbackResult:
    """Re-push ``revision`` (default: the one before the current) under a fresh name.

    ``author`` names who the ledger records (the API's token name); default: who()."""
    remote = target.current(config.project)
    if remote is None:
        raise UsageError(f"{config.project}: the project does not exist on {target.location}")
    names = [str(r.get("revision")) for r in target.revisions(remote)]
    if revision is None:
        older = [n for n in names if n != remote.revision]
        if not older:
            raise UsageError(f"{config.project}: there is no earlier revision to roll back to")
        revision = older[0]
        files = target.files(remote, revision)
    elif revision in names:
        files = target.files(remote, revision)
    else:
        files = _older(config, target, remote, revision, names)
    fresh = f"{revision_name(files)}-rollback"
    base = {
        "action": "rollback",
        "project": config.project,
        "target": target.kind,
        "location": target.location,
        "content_hash": content_hash(files),
        "previous_revision": remote.revision,
        "rolled_back_to": revision,
    }
    if author is not None:
        base["who"] = author
    try:
        pushed, warnings = push_files(
            target, config.project, files, fresh, remote, config.secrets()
        )
    except Exception as exc:
        message = scrub(str(exc), config.secrets().values())
        ledger.append({**base, "result": "failed", "message": message})
        raise
    ledger.append(
        {
            **base,
            "result": "pushed",
            "revision": pushed.revision,
            "config_hash": _config_hash_of(ledger, revision),
            "schedule_check": warnings or "ok",
        }
    )
    return RollbackResult(
        config.project,
        remote.revision,
        revision,
        pushed.revision,
        _advice(config, ledger, revision),
    )


def _older(
    config: Config, target: Target, remote: RemoteProject, revision: str, names: list[str]
) -> dict[str, bytes]:
    """A revision the list does not show. Digdag lists only a project's newest 100
    revisions (and has no lookup by name), but serves any revision's archive by name:
    ask for it, and a 404 means there is no such revision."""
    from digsync.digdag_api import RemoteError

    known = ", ".join(names[:5]) or "none"
    missing = UsageError(f"{config.project}: no revision {revision!r} (newest: {known})")
    if len(names) < SERVER_LIST_LIMIT:
        raise missing  # the list is complete
    try:
        return target.files(remote, revision)
    except RemoteError as exc:
        if exc.status == 404:
            raise missing from exc
        raise
    except (FileNotFoundError, UsageError) as exc:
        raise missing from exc


SERVER_LIST_LIMIT = 100
"""Digdag's GET /api/projects/{id}/revisions returns at most this many, newest first."""


def _config_hash_of(ledger: Ledger, revision: str) -> str | None:
    for entry in reversed(ledger.entries()):
        if entry.get("revision") == revision and entry.get("config_hash"):
            return str(entry["config_hash"])
    return None


def _advice(config: Config, ledger: Ledger, revision: str) -> str:
    """How to bring config.yaml in line; config.yaml itself is never changed here."""
    keep = (
        f"{config.path} was not changed and still describes the newer workflow; "
        "the next digsync push would undo this rollback."
    )
    config_hash = _config_hash_of(ledger, revision)
    copy = ledger.config_copy(config_hash) if config_hash else None
    if copy is not None:
        return (
            f"{keep} To keep the rollback, restore the config it was pushed from: "
            f"cp {copy} {config.path}"
        )
    return (
        f"{keep} To keep the rollback, edit {config.path} to match revision {revision} "
        "(its config was not pushed from here, so no copy is kept)."
    )
