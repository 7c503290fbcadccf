"""Local record of pushes: an append-only ledger, config copies and file backups.

Layout under the state folder (default: .digsync/ beside config.yaml):
  <project>/ledger.jsonl         one JSON object per push, rollback or failure
  <project>/configs/<hash>.yaml  the config text of each push (for rollback advice)
  <project>/backups/<stamp>/...  generated files as they were before being overwritten
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TypedDict

from digsync.history.storage import PRIVATE_FILE, atomic_write, private_dirs

STATE_ENV = "DIGSYNC_STATE_DIR"


def state_dir(config_path: str | Path) -> Path:
    """Where history lives: $DIGSYNC_STATE_DIR, else .digsync/ beside the config file."""
    override = os.environ.get(STATE_ENV)
    return Path(override) if override else Path(config_path).resolve().parent / ".digsync"


def who() -> str:
    """The person recorded as the author of a change: $DIGSYNC_USER, else the OS user.

    The one identity rule: the CLI records this, and so does the Config API when no token
    is used (the server process's user); with a token, the API records the token's name.
    One person on one machine shows as one name, whichever way they changed things."""
    name = os.environ.get("DIGSYNC_USER")
    if name:
        return name
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no user database, e.g. in a container
        return "local"


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class LedgerEntry(TypedDict, total=False):
    """One line of ledger.jsonl. append() adds ``time`` and ``who`` (unless given).

    A push (``action`` push) writes project, target, location, config, config_hash,
    content_hash and previous_revision; then ``result`` failed with ``message``, or
    pushed with ``revision``, ``schedule_check`` and ``archive_md5``. Setting the
    secrets an unchanged project lacked (``action`` secrets) adds ``revision``, then
    failed with ``message``, or unchanged with ``secrets_set``. A rollback writes
    project, target, location, content_hash, previous_revision and rolled_back_to; then
    failed with ``message``, or pushed with ``revision``, ``config_hash`` and
    ``schedule_check``. Every key is optional to readers: the file may hold records
    written by other versions."""

    time: str  # ISO 8601 UTC, ...Z
    who: str
    action: str  # push | secrets | rollback
    result: str  # pushed | unchanged | failed
    project: str
    target: str  # the target's kind: local | digdag | td | tdx
    location: str
    config: str  # the config file's path
    config_hash: str | None  # None: a rollback to a revision not pushed from here
    content_hash: str
    previous_revision: str | None  # what the server ran before (None: a new project)
    revision: str
    rolled_back_to: str
    message: str  # why it failed, secrets scrubbed
    schedule_check: list[str] | str  # the schedule warnings, or "ok"
    secrets_set: list[str]
    archive_md5: str  # a push that landed: the archiveMd5 of the archive it sent


class Ledger:
    """The per-project history folder."""

    def __init__(self, root: Path, project: str) -> None:
        self.root = root
        self.dir = root / project
        self.path = self.dir / "ledger.jsonl"

    def append(self, entry: LedgerEntry) -> LedgerEntry:
        """Add one record; the file is only ever appended to."""
        record: LedgerEntry = {"time": now_utc(), "who": who(), **entry}
        private_dirs(self.root, self.dir)
        line = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def entries(self) -> list[LedgerEntry]:
        """All records, oldest first; a torn last line (crash mid-write) is skipped."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out: list[LedgerEntry] = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def last_success(self) -> LedgerEntry | None:
        """The newest push or rollback that reached the server."""
        for entry in reversed(self.entries()):
            if entry.get("result") in ("pushed", "unchanged"):
                return entry.copy()
        return None

    def keep_config(self, config_hash: str, text: bytes) -> Path:
        """Store the config text of a push under its hash (once)."""
        target = self.dir / "configs" / f"{config_hash}.yaml"
        if not target.exists():
            private_dirs(self.root, target.parent)
            atomic_write(target, text, mode=PRIVATE_FILE)
        return target

    def config_copy(self, config_hash: str) -> Path | None:
        target = self.dir / "configs" / f"{config_hash}.yaml"
        return target if target.exists() else None

    def backup_stamp(self) -> str:
        """A backups/ folder name for one generate run: the time, made unique (two runs
        within one second must not overwrite each other's backups)."""
        stamp = now_utc().replace(":", "")
        taken = {p.name for p in (self.dir / "backups").glob(f"{stamp}*")}
        n = 1
        while (f"{stamp}-{n}" if n > 1 else stamp) in taken:
            n += 1
        return f"{stamp}-{n}" if n > 1 else stamp

    def backup(self, rel_path: str, data: bytes, stamp: str) -> Path:
        """Keep the previous content of a generated file before it is overwritten."""
        target = self.dir / "backups" / stamp / rel_path
        private_dirs(self.root, target.parent)
        atomic_write(target, data, mode=PRIVATE_FILE)
        return target
