"""config.yaml on disk: read it with its ETag, save it atomically, one writer at a time.

A save writes a temporary file in the same folder, fsyncs it, renames it over
config.yaml and fsyncs the folder, so a crash at any moment leaves either the old or
the new file, never a torn one. Writers are serialised by a lock in this process and
an fcntl lock on ``<name>.lock`` in the state folder (``.digsync/`` beside the file, or
$DIGSYNC_STATE_DIR; mode 0700), which ``digsync watch`` and every ``digsync serve`` on
the same config share. Nothing is left beside config.yaml but the file itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from digsync.errors import (
    ConfigError,
    DigsyncError,
    InputError,
    Problem,
    exception_json,
    problem_json,
)
from digsync.history.storage import PRIVATE_FILE, atomic_write, private_dirs

_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class Snapshot(NamedTuple):
    """The file's bytes as read, and the ETag they give (None bytes: no file)."""

    data: bytes | None

    @property
    def etag(self) -> str:
        return etag_of(self.data or b"")

    @property
    def text(self) -> str | None:
        return None if self.data is None else self.data.decode("utf-8", "replace")


def etag_of(data: bytes) -> str:
    """The quoted strong ETag: the first 16 hex of the sha256 of the bytes."""
    return '"' + hashlib.sha256(data).hexdigest()[:16] + '"'


def etag_matches(header: str, current: str) -> bool:
    """If-Match semantics: ``*`` or any listed tag (W/ prefix and quotes optional)."""
    bare = current.strip('"')
    for item in header.split(","):
        tag = item.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/").strip().strip('"')
        if tag and tag == bare:
            return True
    return False


def read(path: Path) -> Snapshot:
    try:
        return Snapshot(path.read_bytes())
    except FileNotFoundError:
        return Snapshot(None)


def lock_path(path: Path) -> Path:
    """The lock file of the config at ``path``: ``<name>.lock`` in its state folder (of
    the file a symlink points to, as saves replace that file)."""
    from digsync.history.ledger import state_dir

    resolved = path.resolve()
    return state_dir(resolved) / f"{resolved.name}.lock"


def _legacy_lock_path(path: Path) -> Path:
    """Where an older digsync kept the lock: ``.<name>.lock`` beside the file."""
    return path.parent / f".{path.name}.lock"


class Busy(DigsyncError):
    """Another save (or push) holds the config's lock longer than a caller will wait."""

    def __init__(self, waited: float) -> None:
        super().__init__(
            f"a save is in progress (waited {waited:g} s for it); try again in a moment"
        )
        self.waited = waited


@contextmanager
def locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the config's write lock: this process's threads, then other processes.
    With ``timeout``, give up after that many seconds with Busy."""
    resolved = path.resolve()
    with _LOCKS_GUARD:
        local = _LOCKS.setdefault(resolved, threading.Lock())
    deadline = None if timeout is None else time.monotonic() + timeout
    if not local.acquire(timeout=-1 if timeout is None else timeout):
        raise Busy(timeout or 0.0)
    try:
        lock = lock_path(resolved)
        private_dirs(lock.parent, lock.parent)  # the state folder, 0700
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            _flock(fd, deadline, timeout)
            yield
        finally:
            os.close(fd)  # closing releases the flock
    finally:
        local.release()


def _flock(fd: int, deadline: float | None, timeout: float | None) -> None:
    """The cross-process lock; polled when there is a deadline (flock has no timeout)."""
    if deadline is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise Busy(timeout or 0.0) from None
            time.sleep(0.05)


def save(path: Path, data: bytes) -> None:
    """Replace the file atomically and durably (temp file, fsync, rename, fsync dir).

    A config.yaml that is a symlink stays one: the file it points to is replaced."""
    path = path.resolve()
    atomic_write(path, data, mode=_mode(path), sync_dir=True)


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temporary files a killed writer left beside the config (its pid is gone),
    and the empty lock file an older digsync left there (the lock is now in the state
    folder)."""
    removed = []
    path = path.resolve()  # temporary files sit beside the file a symlink points to
    if _remove_legacy_lock(_legacy_lock_path(path)):
        removed.append(_legacy_lock_path(path))
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2 : -len(".tmp")].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or _alive(int(parts[0])):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _remove_legacy_lock(legacy: Path) -> bool:
    """Delete an empty legacy lock file that no process holds (an older digsync still
    running keeps it)."""
    try:
        if legacy.is_symlink() or not legacy.is_file() or legacy.stat().st_size:
            return False
        fd = os.open(legacy, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        legacy.unlink()
        return True
    except OSError:  # held (BlockingIOError) or already gone
        return False
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def init_config(path: Path, force: bool = False) -> list[Path]:
    """Write the commented example config and the JSON Schema its first line points at."""
    import json
    from importlib import resources

    from digsync.config.schema import json_schema
    from digsync.history.storage import atomic_write

    if path.exists() and not force:
        raise InputError(f"{path} already exists; use --force to overwrite it")
    template = resources.files("digsync").joinpath("templates/config.yaml").read_bytes()
    schema_path = path.parent / "digsync.schema.json"
    atomic_write(path, template)
    atomic_write(schema_path, (json.dumps(json_schema(), indent=2) + "\n").encode("utf-8"))
    return [path, schema_path]


def validate_configs(paths: list[str]) -> dict[str, Any]:
    """Check each config; every problem of every file, as data. When one has errors the
    report also carries the ``--json`` error shape: ``error`` (each error's one-line
    text), ``code`` ``invalid_config`` and ``problems`` (those of every file)."""
    from digsync.config.model import load_config

    entries = []
    every: list[Problem] = []
    for path in paths:
        try:
            problems = list(load_config(path).warnings)
        except ConfigError as exc:
            problems = exc.problems
        every.extend(problems)
        errors = sum(1 for p in problems if p.severity == "error")
        entries.append(
            {
                "path": path,
                "valid": errors == 0,
                "errors": errors,
                "problems": [problem_json(p) for p in problems],
            }
        )
    report: dict[str, Any] = {"valid": all(e["valid"] for e in entries), "configs": entries}
    if not report["valid"]:
        report.update(exception_json(ConfigError(every)))
    return report
