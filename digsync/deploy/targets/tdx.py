"""The tdx target: `tdx wf push` of the rendered project, as tdx's documented flow has it.

A folder that tdx pushes holds ``tdx.json`` with ``{"workflow_project": "<name>"}`` (tdx
reads the project from it, searching the folder and its parents). ``tdx wf push DIR``
previews a diff and asks to confirm; ``-y`` skips the prompt, and ``--revision`` names
the revision, so the server's history carries digsync's revision names. A project that
does not exist yet is created with ``tdx wf upload DIR --name NAME`` (push answers "No
workflow project found"), after which push works.

Credentials are tdx's own: ``TDX_API_KEY``, or the login of a profile (``target.profile``
passes ``--profile NAME``). When neither is given and ``TD_API_KEY`` (digsync's variable)
is set, tdx gets it as ``TDX_API_KEY``.

tdx keeps no state digsync can read back, so what was pushed through it is kept in
the state folder (``<project>/tdx-revisions/``) and stands in for the server's
revisions: plan diffs against it, and rollback re-pushes one of them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from digsync.deploy.digdag_api import PUSH_TIMEOUT_ENV, push_seconds
from digsync.deploy.targets.base import RemoteProject
from digsync.deploy.targets.store import RevisionStore
from digsync.errors import InputError, TargetError
from digsync.history.storage import atomic_write

INSTALL_HINT = "install it with: npm install -g @treasuredata/tdx, then run: tdx auth setup"
TDX_JSON = "tdx.json"
_NEW_PROJECT = re.compile(r"no workflow project found|project .{0,80}not found", re.IGNORECASE)


class TdxError(TargetError):
    """tdx failed, or answered what digsync cannot read."""


def tdx_json(project: str) -> bytes:
    """The file that tells tdx which workflow project a folder is."""
    return (json.dumps({"workflow_project": project}, indent=2) + "\n").encode()


class TdxTarget:
    kind = "tdx"
    location = "tdx wf push"
    keeps_secrets = False

    def __init__(self, state: Path, profile: str | None = None) -> None:
        self.exe = shutil.which("tdx")
        if self.exe is None:
            raise InputError(
                f"the tdx target needs the tdx command, which is not on PATH; {INSTALL_HINT}"
            )
        self.state = state
        self.profile = profile

    def _store(self, project: str) -> RevisionStore:
        return RevisionStore(self.state / project / "tdx-revisions")

    def current(self, project: str) -> RemoteProject | None:
        latest = self._store(project).latest()
        if latest is not None:
            return RemoteProject(project, project, latest)
        from digsync.history.ledger import Ledger

        last = Ledger(self.state, project).last_success()  # pushed before archives were kept
        if last is None:
            return None
        return RemoteProject(project, project, str(last.get("revision", "")))

    def files(self, remote: RemoteProject, revision: str | None = None) -> dict[str, bytes]:
        """What was pushed through tdx from here; nothing known means push everything."""
        wanted = revision or remote.revision
        files = self._store(remote.name).files(wanted)
        if files is None and revision not in (None, remote.revision):
            raise InputError(f"revision {wanted} was not pushed through tdx from here")
        return files or {}

    def revisions(self, remote: RemoteProject) -> list[dict[str, Any]]:
        return list(reversed(self._store(remote.name).log()))

    def push(
        self, project: str, revision: str, files: dict[str, bytes], schedule_from: str | None
    ) -> RemoteProject:
        if schedule_from is not None:
            raise InputError(
                "the tdx target cannot pass --schedule-from (tdx wf push has no such "
                "option); push with --target td, or push with the schedule off first"
            )
        with tempfile.TemporaryDirectory(prefix="digsync-tdx-") as tmp:
            folder = Path(tmp) / project
            for rel, data in files.items():
                atomic_write(folder / rel, data)
            atomic_write(folder / TDX_JSON, tdx_json(project))
            done = self._run(["wf", "push", str(folder), "-y", "--revision", revision], tmp)
            if done.returncode != 0 and _NEW_PROJECT.search(done.stdout + done.stderr):
                upload = ["wf", "upload", str(folder), "--name", project, "--revision", revision]
                done = self._run(upload, tmp)
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip().splitlines()
            tail = output[-1] if output else "no output"
            command = " ".join(done.args[1:3]) if isinstance(done.args, list) else "tdx"
            raise TdxError(
                f"push failed: tdx {command} exited {done.returncode} in {project}: {tail}"
            )
        self._store(project).add(revision, files)
        return RemoteProject(project, project, revision)

    def _run(self, args: list[str], cwd: str) -> subprocess.CompletedProcess[str]:
        """tdx with no terminal: stdin closed, so a prompt can only wait; the push
        deadline ($DIGSYNC_PUSH_TIMEOUT) ends such a wait with a clear error."""
        assert self.exe is not None
        extra = shlex.split(os.environ.get("DIGSYNC_TDX_ARGS", ""))
        profile = ["--profile", self.profile] if self.profile else []
        argv = [self.exe, *profile, *args, *extra]
        seconds = push_seconds()
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                env=_environment(self.profile),
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=seconds,
            )
        except subprocess.TimeoutExpired as exc:
            raise TdxError(
                f"push failed: tdx {' '.join(args[:2])} did not finish in {seconds:g} s "
                f"({PUSH_TIMEOUT_ENV}); is it waiting on a prompt or a login? Run "
                f"`tdx {' '.join(args[:2])}` by hand once to see"
            ) from exc
        sys.stderr.write(done.stdout)
        sys.stderr.write(done.stderr)
        done.args = [self.exe, *args]  # what the error names: no profile or extra args
        return done

    def set_secrets(self, remote: RemoteProject, secrets: dict[str, str]) -> None:
        """tdx sets secrets interactively; the push summary lists the keys to set."""

    def secret_keys(self, remote: RemoteProject) -> list[str] | None:
        return None

    def schedules(self, remote: RemoteProject) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        pass


def _environment(profile: str | None) -> dict[str, str]:
    """tdx's environment: digsync's TD_API_KEY becomes TDX_API_KEY unless tdx has a key
    (TDX_API_KEY) or a profile of its own."""
    env = dict(os.environ)
    if not profile and not env.get("TDX_API_KEY") and env.get("TD_API_KEY"):
        env["TDX_API_KEY"] = env["TD_API_KEY"]
    return env
