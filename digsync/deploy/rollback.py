"""Roll a project back to an earlier revision by re-pushing its archive as a new one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from digsync.config.model import Config
from digsync.deploy.archive import content_hash, revision_name
from digsync.deploy.push import push_files, scrub
from digsync.deploy.targets.base import RemoteProject, Target
from digsync.errors import DigsyncError, InputError
from digsync.history.ledger import Ledger, LedgerEntry


class RollbackResult(NamedTuple):
    project: str
    from_revision: str
    to_revision: str
    new_revision: str
    advice: str
    status: str = "pushed"  # pushed | unchanged (the server already runs that content)
    config_restored: bool = False
    config_path: str | None = None  # config.yaml, when it was restored
    config_backup: str | None = None  # where config.yaml was kept before it was restored


class NoConfigCopy(InputError):
    """--restore-config, but no copy of the config that revision was pushed from is kept."""


def last_rollback(ledger: Ledger) -> LedgerEntry | None:
    """The newest rollback that reached the server, or None."""
    for entry in reversed(ledger.entries()):
        if entry.get("action") == "rollback" and entry.get("result") == "pushed":
            return entry.copy()
    return None


def rolled_back(ledger: Ledger, server_revision: str | None) -> dict[str, Any] | None:
    """``{"to", "from", "revision"}`` when the server runs the last rollback's new
    revision (a push since would have replaced it), else None."""
    entry = last_rollback(ledger)
    if entry is None or server_revision is None or entry.get("revision") != server_revision:
        return None
    return {
        "to": entry.get("rolled_back_to"),
        "from": entry.get("previous_revision"),
        "revision": entry.get("revision"),
    }


def rollback(
    config: Config,
    target: Target,
    ledger: Ledger,
    revision: str | None,
    author: str | None = None,
    restore_config: bool = False,
    lock: bool = True,
) -> RollbackResult:
    """Re-push ``revision`` (default: the one before the current) under a fresh name.

    ``author`` names who the ledger records (the API's token name); default: who().
    A revision with the content the server already runs is not pushed again (status
    ``unchanged``, nothing recorded), as push does. ``restore_config`` then writes the
    config copy the ledger kept for that revision over config.yaml (atomically, the old
    file kept under backups/), taking the config's write lock unless ``lock`` is False
    (the caller holds it); with no copy kept it refuses before anything is changed."""
    remote = target.current(config.project)
    if remote is None:
        raise InputError(f"{config.project}: the project does not exist on {target.location}")
    names = [str(r.get("revision")) for r in target.revisions(remote)]
    if revision is None:
        older = [n for n in names if n != remote.revision]
        if not older:
            raise InputError(f"{config.project}: there is no earlier revision to roll back to")
        revision = older[0]
        files = target.files(remote, revision)
    elif revision in names:
        files = target.files(remote, revision)
    else:
        files = _older(config, target, remote, revision, names)
    config_hash = _config_hash_of(ledger, revision)
    copy = ledger.config_copy(config_hash) if config_hash else None
    if restore_config and copy is None:
        raise NoConfigCopy(
            f"{config.project}: cannot restore {config.path}: revision {revision} was not "
            "pushed from here, so no copy of its config is kept; nothing was changed "
            "(roll back without --restore-config, then edit config.yaml to match)"
        )
    hashed = content_hash(files)
    if revision == remote.revision or hashed == _current_hash(target, remote, ledger):
        result = RollbackResult(
            config.project,
            remote.revision,
            revision,
            remote.revision,
            f"the server already runs the content of {revision} (as {remote.revision}); "
            "nothing pushed",
            status="unchanged",
        )
    else:
        result = _push(config, target, ledger, revision, files, remote, config_hash, author)
    if restore_config:
        assert copy is not None
        backup = restore_config_file(Path(config.path), copy, ledger, lock)
        return result._replace(
            config_restored=True,
            config_path=str(config.path),
            config_backup=str(backup) if backup else None,
            advice=f"{config.path} was restored from {copy}, the config revision "
            f"{revision} was pushed from; config and server agree again.",
        )
    return result


def _push(
    config: Config,
    target: Target,
    ledger: Ledger,
    revision: str,
    files: dict[str, bytes],
    remote: RemoteProject,
    config_hash: str | None,
    author: str | None,
) -> RollbackResult:
    fresh = f"{revision_name(files)}-rollback"
    base: LedgerEntry = {
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
            "config_hash": config_hash,
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


def _current_hash(target: Target, remote: RemoteProject, ledger: Ledger) -> str | None:
    """The content hash of what the server runs: from the ledger when it recorded that
    revision, else from the server's files (None when they cannot be read)."""
    for entry in reversed(ledger.entries()):
        recorded = entry.get("revision") == remote.revision and entry.get("content_hash")
        if recorded and entry.get("result") in ("pushed", "unchanged"):
            return str(entry["content_hash"])
    try:
        return content_hash(target.files(remote))
    except (DigsyncError, OSError):
        return None


def restore_config_file(path: Path, copy: Path, ledger: Ledger, lock: bool = True) -> Path | None:
    """Write ``copy`` over config.yaml atomically, keeping the old file under the
    ledger's backups/ first; under the config's write lock (the server's saves take it)
    unless the caller holds it. Returns the backup (None: there was no config.yaml)."""
    from contextlib import nullcontext

    from digsync.config import files as configfile

    data = copy.read_bytes()
    with configfile.locked(path) if lock else nullcontext():
        old = configfile.read(path).data
        backup = None
        if old is not None:
            backup = ledger.backup(path.name, old, ledger.backup_stamp())
        configfile.save(path, data)
    return backup


def _older(
    config: Config, target: Target, remote: RemoteProject, revision: str, names: list[str]
) -> dict[str, bytes]:
    """A revision the list does not show. Digdag lists only a project's newest 100
    revisions (and has no lookup by name), but serves any revision's archive by name:
    ask for it, and a 404 means there is no such revision."""
    from digsync.deploy.digdag_api import RemoteError

    known = ", ".join(names[:5]) or "none"
    missing = InputError(f"{config.project}: no revision {revision!r} (newest: {known})")
    if len(names) < SERVER_LIST_LIMIT:
        raise missing  # the list is complete
    try:
        return target.files(remote, revision)
    except RemoteError as exc:
        if exc.status == 404:
            raise missing from exc
        raise
    except (FileNotFoundError, InputError) as exc:
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
