"""The tdx target: `tdx wf push` run in the rendered project folder.

tdx keeps no state digsync can read back, so what was pushed through it is kept in
the state folder (``<project>/tdx-revisions/``) and stands in for the server's
revisions: plan diffs against it, and rollback re-pushes one of them.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from digsync.errors import DigsyncError, UsageError
from digsync.targets import RemoteProject
from digsync.targets.store import RevisionStore
from digsync.writer import atomic_write

INSTALL_HINT = "install it with: npm install -g @treasuredata/tdx, then run: tdx auth setup"


class TdxError(DigsyncError):
    exit_code = 1


class TdxTarget:
    kind = "tdx"
    location = "tdx wf push"
    keeps_secrets = False

    def __init__(self, state: Path) -> None:
        self.exe = shutil.which("tdx")
        if self.exe is None:
            raise UsageError(
                f"the tdx target needs the tdx command, which is not on PATH; {INSTALL_HINT}"
            )
        self.state = state

    def _store(self, project: str) -> RevisionStore:
        return RevisionStore(self.state / project / "tdx-revisions")

    def current(self, project: str) -> RemoteProject | None:
        latest = self._store(project).latest()
        if latest is not None:
            return RemoteProject(project, project, latest)
        from digsync.history import Ledger

        last = Ledger(self.state, project).last_success()  # pushed before archives were kept
        if last is None:
            return None
        return RemoteProject(project, project, str(last.get("revision", "")))

    def files(self, remote: RemoteProject, revision: str | None = None) -> dict[str, bytes]:
        """What was pushed through tdx from here; nothing known means push everything."""
        wanted = revision or remote.revision
        files = self._store(remote.name).files(wanted)
        if files is None and revision not in (None, remote.revision):
            raise UsageError(f"revision {wanted} was not pushed through tdx from here")
        return files or {}

    def revisions(self, remote: RemoteProject) -> list[dict[str, Any]]:
        return list(reversed(self._store(remote.name).log()))

    def push(
        self, project: str, revision: str, files: dict[str, bytes], schedule_from: str | None
    ) -> RemoteProject:
        extra = shlex.split(os.environ.get("DIGSYNC_TDX_ARGS", ""))
        with tempfile.TemporaryDirectory(prefix="digsync-tdx-") as tmp:
            folder = Path(tmp) / project
            for rel, data in files.items():
                atomic_write(folder / rel, data)
            assert self.exe is not None
            argv = [self.exe, "wf", "push", *extra]
            done = subprocess.run(
                argv, cwd=folder, capture_output=True, text=True, stdin=subprocess.DEVNULL
            )
        sys.stderr.write(done.stdout)
        sys.stderr.write(done.stderr)
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip().splitlines()
            tail = output[-1] if output else "no output"
            raise TdxError(
                f"push failed: tdx wf push exited {done.returncode} in {project}: {tail}"
            )
        self._store(project).add(revision, files)
        return RemoteProject(project, project, revision)

    def set_secrets(self, remote: RemoteProject, secrets: dict[str, str]) -> None:
        """tdx sets secrets interactively; the push summary lists the keys to set."""

    def secret_keys(self, remote: RemoteProject) -> list[str] | None:
        return None

    def schedules(self, remote: RemoteProject) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        pass
