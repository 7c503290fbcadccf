"""``digsync watch``: regenerate and push whenever config.yaml changes.

The file is polled: its stat (mtime_ns, size, inode) tells cheaply that something
happened, and the sha256 of its bytes tells whether the content changed, so an
editor's rename-over-the-file and a git pull are caught while a touch is not. After
the last change of a burst has rested for the debounce time, the config is checked and
pushed through the same service code as ``digsync serve``; an invalid edit is reported,
every problem with file:line, and nothing is pushed.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from digsync.deploy.targets.pool import TargetChoice
from digsync.errors import ConfigError, InputError, Problem

if TYPE_CHECKING:
    from digsync.editor.service import ConfigService

POLL_SECONDS = 0.1


class FileState(NamedTuple):
    """What the poll sees; None fields: the file is missing."""

    mtime_ns: int | None
    size: int | None
    inode: int | None
    digest: str | None


class WatchEvent(NamedTuple):
    """One reaction to a change: pushed, unchanged, failed, invalid or missing."""

    kind: str
    message: str
    problems: tuple[Problem, ...] = ()


def file_state(path: Path, previous: FileState | None = None) -> FileState:
    """The file's stat, and its content hash (reused when the stat did not move)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return FileState(None, None, None, None)
    stat = (st.st_mtime_ns, st.st_size, st.st_ino)
    if previous is not None and previous[:3] == stat:
        return previous
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return FileState(None, None, None, None)
    return FileState(*stat, digest)


class Watcher:
    """The watch loop's state; :meth:`poll` is one step, given the clock's reading."""

    def __init__(self, service: ConfigService, path: Path, debounce: float) -> None:
        self.service = service
        self.path = path
        self.debounce = debounce
        self.state = file_state(path)
        self.acted = self.state.digest  # the content last reacted to (or found at start)
        self.changed_at: float | None = None

    def poll(self, now: float) -> WatchEvent | None:
        """Look at the file; react when a change has rested for the debounce time."""
        state = file_state(self.path, self.state)
        if state != self.state:
            self.state = state
            self.changed_at = now
        if self.changed_at is None or now - self.changed_at < self.debounce:
            return None
        self.changed_at = None
        if self.state.digest == self.acted:
            return None  # changed and changed back
        self.acted = self.state.digest
        if self.state.digest is None:
            return WatchEvent("missing", f"{self.path} is missing; waiting for it to come back")
        return self._push()

    def resume(self) -> WatchEvent | None:
        """At start: a push left pending by an earlier save is retried once."""
        from digsync.config.model import load_config
        from digsync.history import pending

        try:
            project = load_config(self.path).project
        except (ConfigError, InputError):
            return None  # the first poll that sees a fixed file reports and pushes
        if pending.read(self.service.state / project) is None:
            return None
        return self._push()

    def _push(self) -> WatchEvent:
        try:
            outcome = self.service.push_current("watch")
        except ConfigError as exc:
            errors = sum(1 for p in exc.problems if p.severity == "error")
            return WatchEvent(
                "invalid", f"{self.path}: {errors} error(s); nothing pushed", tuple(exc.problems)
            )
        except InputError as exc:
            return WatchEvent("missing", str(exc))
        if outcome.push_error is not None:
            return WatchEvent(
                "failed",
                f"{self.path}: {outcome.push_error} "
                "(pending: the next change or digsync push retries it)",
            )
        kind = "pushed" if outcome.workflow_updated else "unchanged"
        return WatchEvent(kind, f"{self.path}: {outcome.message}", tuple(outcome.warnings))


def run(
    watcher: Watcher,
    stop: threading.Event,
    report: Callable[[WatchEvent], object],
    interval: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll until ``stop`` is set, reporting every event."""
    while not stop.wait(interval):
        event = watcher.poll(clock())
        if event is not None:
            report(event)


def print_event(event: WatchEvent) -> None:
    """Problems and warnings first (file:line:col), then what happened."""
    stream = sys.stdout if event.kind in ("pushed", "unchanged") else sys.stderr
    for problem in event.problems:
        print(problem, file=sys.stderr, flush=True)
    print(event.message, file=stream, flush=True)


def event_json(event: WatchEvent) -> str:
    """One event as one line of JSON (``watch --json``)."""
    import json

    from digsync.errors import problem_json

    return json.dumps(
        {
            "kind": event.kind,
            "message": event.message,
            "problems": [problem_json(p) for p in event.problems],
        },
        ensure_ascii=False,
    )


def print_event_json(event: WatchEvent) -> None:
    print(event_json(event), flush=True)


def watch(
    config_path: str, choice: TargetChoice, debounce: float = 1.0, as_json: bool = False
) -> int:
    """Watch until Ctrl-C (exit 0); ``as_json``: one JSON line per event on stdout."""
    from digsync.editor.service import ConfigService

    path = Path(config_path)
    if not path.is_file():
        raise InputError(f"{config_path}: no such config file (create one with: digsync init)")
    service = ConfigService(path, choice)
    watcher = Watcher(service, path, debounce)
    report = print_event_json if as_json else print_event
    banner = f"watching {config_path} (debounce {debounce:g} s); Ctrl-C to stop"
    print(banner, file=sys.stderr if as_json else sys.stdout, flush=True)
    try:
        resumed = watcher.resume()
        if resumed is not None:
            report(resumed)
        run(watcher, threading.Event(), report)
    except KeyboardInterrupt:
        pass
    finally:
        service.close()
    return 0
