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

    def _lines(self) -> list[str]:
        try:
            text = (self.folder / "revisions.jsonl").read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if line.strip()]

    def log(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._lines()]

    def latest(self) -> str | None:
        lines = self._lines()  # only the last one is read as JSON: the log only grows
        return str(json.loads(lines[-1])["revision"]) if lines else None

    def has(self, revision: str) -> bool:
        # A line that names the revision holds its JSON-escaped text; only those are read.
        needle = json.dumps(revision)[1:-1]
        return any(
            json.loads(line)["revision"] == revision for line in self._lines() if needle in line
        )

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
