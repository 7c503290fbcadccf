"""Drift between the config, the last push recorded here, and what the server runs."""

from __future__ import annotations

from typing import Any, NamedTuple, NotRequired, TypedDict

from digsync.config.model import Config
from digsync.deploy.archive import content_hash
from digsync.deploy.push import missing_secrets, verify_schedules
from digsync.deploy.targets.base import Target
from digsync.history import pending
from digsync.history.ledger import Ledger, LedgerEntry
from digsync.render.project import config_label, render_project


class Status(NamedTuple):
    project: str
    config_hash: str
    last_push: LedgerEntry | None
    server_revision: str | None
    drift: list[str]
    pending: dict[str, Any] | None = None
    rolled_back: dict[str, Any] | None = None  # {"to", "from", "revision"}: see rolled_back

    @property
    def in_sync(self) -> bool:
        return not self.drift

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "in_sync": self.in_sync,
            "drift": self.drift,
            "server_revision": self.server_revision,
            "last_push": self.last_push,
            "pending": self.pending,
            "rolled_back": self.rolled_back,
        }


def pending_line(marker: dict[str, Any]) -> str:
    """The pending-push marker in words, with the way out."""
    return (
        f"a push is pending since {marker.get('since')} ({marker.get('attempts')} failed "
        f"attempt(s)): {marker.get('error')}; digsync push retries it"
    )


def rolled_back_line(path: str, back: dict[str, Any]) -> str:
    """A rollback the server runs and config.yaml has moved past, in words."""
    return (
        f"the server runs {back['revision']}, a rollback to revision {back['to']} (rolled "
        f"back from {back['from']}); {path} is ahead of it, so digsync push would undo the "
        f"rollback (digsync rollback {back['to']} --restore-config makes {path} match)"
    )


def status(config: Config, target: Target, ledger: Ledger) -> Status:
    """Compare the three states and say, in words, each way they differ."""
    from digsync.deploy.rollback import rolled_back

    files = render_project(config, config_label(config)).files
    local = content_hash(files)
    last = ledger.last_success()
    remote = target.current(config.project)
    marker = pending.read(ledger.dir)
    drift: list[str] = [pending_line(marker)] if marker else []
    back = rolled_back(ledger, remote.revision if remote else None)
    if last is None:
        drift.append("nothing has been pushed from here yet")
    elif back is not None and last.get("revision") == back["revision"]:
        if last.get("content_hash") != local:
            drift.append(rolled_back_line(str(config.path), back))
    elif last.get("content_hash") != local:
        drift.append(
            f"{config.path} changed since the last push ({last.get('time')}); run digsync plan"
        )
    if remote is None:
        drift.append(f"the project does not exist on {target.kind} {target.location}")
        return Status(config.project, config.content_hash, last, None, drift, marker)
    server_files = target.files(remote) if target.kind != "tdx" else None
    if last is not None and last.get("revision") != remote.revision:
        drift.append(
            f"the server runs revision {remote.revision}, not {last.get('revision')} "
            "pushed from here: someone else pushed or edited the workflow"
        )
    elif (
        server_files is not None
        and last is not None
        and content_hash(server_files) != last.get("content_hash")
    ):
        drift.append("the server's files differ from the last push (edited on the server)")
    if server_files is not None:
        drift.extend(verify_schedules(target, remote, server_files))
    missing = missing_secrets(target, remote, config.secrets())
    if missing:
        drift.append(
            f"project secret(s) {', '.join(missing)} not set on the server (the "
            "notifications that use them would fail); run digsync push to set them"
        )
    return Status(config.project, config.content_hash, last, remote.revision, drift, marker, back)


class HistoryRow(TypedDict):
    """One row of history(): a server revision with what the ledger recorded of it, or a
    ledger record whose revision the server does not list (a failure, an older push)."""

    revision: str | None
    created_at: str | None  # the server's createdAt; a ledger-only row: the record's time
    current: bool  # the revision the server runs
    who: str | None
    action: str | None
    config_hash: str | None
    result: str | None  # a server revision the ledger lacks: "not pushed from here"
    message: NotRequired[str | None]  # ledger-only rows


def history(config: Config, target: Target, ledger: Ledger) -> list[HistoryRow]:
    """Server revisions (newest first) joined with the local ledger by revision name."""
    entries = ledger.entries()
    by_revision = {e.get("revision"): e for e in entries if e.get("revision")}
    remote = target.current(config.project)
    rows: list[HistoryRow] = []
    seen = set()
    for rev in target.revisions(remote) if remote else []:
        name = str(rev.get("revision"))
        seen.add(name)
        local = by_revision.get(name, {})
        rows.append(
            {
                "revision": name,
                "created_at": rev.get("createdAt"),
                "current": remote is not None and name == remote.revision,
                "who": local.get("who"),
                "action": local.get("action"),
                "config_hash": local.get("config_hash"),
                "result": local.get("result", "not pushed from here"),
            }
        )
    for entry in reversed(entries):
        if entry.get("revision") not in seen:
            rows.append(
                {
                    "revision": entry.get("revision"),
                    "created_at": entry.get("time"),
                    "current": False,
                    "who": entry.get("who"),
                    "action": entry.get("action"),
                    "config_hash": entry.get("config_hash"),
                    "result": entry.get("result"),
                    "message": entry.get("message"),
                }
            )
    return rows
