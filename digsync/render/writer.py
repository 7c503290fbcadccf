"""Write rendered files atomically and report one action per file, or compare only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from digsync.history.storage import atomic_write


class FileAction(NamedTuple):
    """What happened (or would happen) to one file: create, update, identical or remove."""

    path: Path
    action: str
    diff: str = ""


Backup = Callable[[str, bytes], object]


def sync_files(
    root: Path, files: dict[str, bytes], check: bool = False, backup: Backup | None = None
) -> list[FileAction]:
    """Bring root/<path> in line with files; with check, only say what would change.

    ``backup(rel_path, old_bytes)`` is called before a file is overwritten.
    """
    actions = []
    for rel, data in files.items():
        target = root / rel
        try:
            current: bytes | None = target.read_bytes()
        except FileNotFoundError:
            current = None
        if current == data:
            actions.append(FileAction(target, "identical"))
            continue
        action = "create" if current is None else "update"
        diff = unified_diff(current or b"", data, str(target)) if check else ""
        if not check:
            if current is not None and backup is not None:
                backup(rel, current)
            atomic_write(target, data, fsync=False)  # generated: a render recreates it
        actions.append(FileAction(target, action, diff))
    return actions


def remove_stale(
    root: Path,
    keep: dict[str, bytes],
    marker: bytes,
    check: bool = False,
    backup: Backup | None = None,
) -> list[FileAction]:
    """Remove workflow files (root/*.dig) that begin with ``marker`` (so were generated)
    but are no longer rendered, e.g. after workflow.name changed: left there, a push of
    the folder would schedule the old workflow too. Hand-written files are never touched."""
    actions = []
    for path in sorted(root.glob("*.dig")) if root.is_dir() else []:
        if path.name in keep or not path.is_file():
            continue
        old = path.read_bytes()
        if not old.startswith(marker):
            continue
        diff = unified_diff(old, b"", str(path)) if check else ""
        if not check:
            if backup is not None:
                backup(path.name, old)
            path.unlink()
        actions.append(FileAction(path, "remove", diff))
    return actions


def unified_diff(
    old: bytes, new: bytes, label: str, sides: tuple[str, str] = ("on disk", "rendered")
) -> str:
    """A unified diff whose headers name the file and where each side comes from."""
    import difflib

    a = old.decode("utf-8", "replace").splitlines(keepends=True)
    b = new.decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, f"{label} ({sides[0]})", f"{label} ({sides[1]})"))
