"""The audit log: one JSON line per change, appended and never rewritten.

``<state>/audit.jsonl`` records who changed the config (the token's name, "local",
"webhook" or the watching user), when, the old -> new config diff with webhook URLs
masked, and what the push did. History shows it newest first.
"""

from __future__ import annotations

import difflib
import json
import os
import threading
from pathlib import Path
from typing import Any

from digsync.editor.masking import mask
from digsync.history.ledger import now_utc
from digsync.history.storage import PRIVATE_FILE, private_dirs

FILE = "audit.jsonl"
_LOCK = threading.Lock()


def config_diff(old: Any, new: Any, secrets: set[str]) -> str:
    """A unified diff of the two configs as data, every secret string masked."""

    def lines(data: Any) -> list[str]:
        if data is None:
            return []
        text = json.dumps(mask(data, secrets), indent=2, ensure_ascii=False, default=str)
        return (text + "\n").splitlines(keepends=True)

    return "".join(difflib.unified_diff(lines(old), lines(new), "before", "after", n=2))


class AuditLog:
    """Append-only JSONL in the state folder, shared by serve, watch and the webhook."""

    def __init__(self, state: Path) -> None:
        self.path = state / FILE

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        record = {"time": now_utc(), **entry}
        line = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        private_dirs(self.path.parent, self.path.parent)
        with _LOCK:
            # O_APPEND: concurrent writers (serve and watch) never overwrite each other
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        return record

    def entries(self, config: str | None = None) -> list[dict[str, Any]]:
        """Records oldest first (of one config file when given); torn lines skipped."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out = []
        for line in raw.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and (config is None or record.get("config") == config):
                out.append(record)
        return out
