"""Revisions kept on disk, as a server keeps them: one archive per revision and a log.

The local target keeps every revision it writes here; the tdx target keeps what it
pushed, since tdx offers nothing digsync can read back (plan and rollback need it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from digsync.deploy.archive import pack, unpack
from digsync.history.ledger import now_utc
from digsync.history.storage import PRIVATE_FILE, atomic_write, private_dirs


class RevisionStore:
    """``<folder>/revisions.jsonl`` (oldest first) and ``<folder>/<revision>.tar.gz``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder  # <state>/<project>/<kind>-revisions

    def log(self) -> list[dict[str, Any]]:
        try:
            text = (self.folder / "revisions.jsonl").read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def latest(self) -> str | None:
        log = self.log()
        return str(log[-1]["revision"]) if log else None

    def has(self, revision: str) -> bool:
        return any(r["revision"] == revision for r in self.log())

    def files(self, revision: str) -> dict[str, bytes] | None:
        """The files of a stored revision, or None when it was not kept here."""
        try:
            return unpack((self.folder / f"{revision}.tar.gz").read_bytes())
        except FileNotFoundError:
            return None

    def add(self, revision: str, files: dict[str, bytes]) -> None:
        """Keep the archive first, then log it: a crash leaves no logged revision without one."""
        private_dirs(self.folder.parent.parent, self.folder)
        atomic_write(self.folder / f"{revision}.tar.gz", pack(files), mode=PRIVATE_FILE)
        line = json.dumps({"revision": revision, "createdAt": now_utc()}) + "\n"
        fd = os.open(
            self.folder / "revisions.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE
        )
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
