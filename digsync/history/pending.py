"""The pending-push marker: a save reached config.yaml but its push failed.

``<state>/<project>/pending.json`` holds when it started, the last error and how many
attempts failed. Any later successful push clears it (the server, ``watch`` and
``digsync push`` all go through :func:`digsync.deploy.push.push`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from digsync.history.ledger import now_utc
from digsync.history.storage import PRIVATE_FILE, atomic_write, private_dirs

FILE = "pending.json"


def read(project_dir: Path) -> dict[str, Any] | None:
    """The marker as data (since, error, attempts), or None when nothing is pending."""
    try:
        data = json.loads((project_dir / FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def mark(project_dir: Path, error: str) -> dict[str, Any]:
    """Record a failed push; ``since`` stays that of the first failure."""
    old = read(project_dir) or {}
    record = {
        "since": old.get("since") or now_utc(),
        "error": error,
        "attempts": int(old.get("attempts") or 0) + 1,
    }
    blob = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    private_dirs(project_dir.parent, project_dir)
    atomic_write(project_dir / FILE, blob.encode("utf-8"), mode=PRIVATE_FILE)
    return record


def clear(project_dir: Path) -> bool:
    """Forget the marker after a successful push; True if there was one."""
    try:
        (project_dir / FILE).unlink()
    except FileNotFoundError:
        return False
    return True
