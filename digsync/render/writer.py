"""Write rendered files atomically and report one action per file, or compare only."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

_COUNTER = itertools.count()


class FileAction(NamedTuple):
    """What happened (or would happen) to one file: create, update, identical or remove."""

    path: Path
    action: str
    diff: str = ""


PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
"""The state folder holds config copies with webhook URLs: only its owner reads it."""


def private_dirs(root: Path, folder: Path) -> None:
    """``root`` and every folder down to ``folder`` (inside it) exist with mode 0700;
    folders made by an older digsync with 0755 are narrowed."""
    path = root
    parts = folder.relative_to(root).parts
    for part in (None, *parts):
        if part is not None:
            path = path / part
        path.mkdir(mode=PRIVATE_DIR, parents=part is None, exist_ok=True)
        if path.stat().st_mode & 0o777 != PRIVATE_DIR:
            os.chmod(path, PRIVATE_DIR)


def atomic_write(
    path: Path, data: bytes, mode: int = 0o644, sync_dir: bool = False, fsync: bool = True
) -> None:
    """Write via a temporary file in the same folder, fsync, then rename over the target;
    ``sync_dir`` also fsyncs the folder, so the rename itself survives a power cut.
    ``fsync=False`` keeps the rename atomic for readers but skips the disk flush: for
    files a fresh render recreates (``generate --check`` notices a lost one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name unique to this process and call; O_EXCL refuses to reuse a stray one.
    # (tempfile would pull in random and shutil, a tenth of our start-up.)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{next(_COUNTER)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


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
