"""Files that are never torn and folders only their owner reads.

Every file digsync writes (generated projects, config.yaml, the ledger, backups) goes
through :func:`atomic_write`; the state folder and its subfolders are made with
:func:`private_dirs` (mode 0700), since they hold config copies with webhook URLs.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

_COUNTER = itertools.count()


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
