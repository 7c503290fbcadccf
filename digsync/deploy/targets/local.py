"""The local target: the project is written to workflows/<project>/ (tdx's pull layout).

The folder is target.workflows_dir beside config.yaml (see digsync.config.targets.settings),
next to the state folder, so the files and their history always sit together.
Revisions are kept like a server keeps them, as archives in the state folder, so
plan, status, history and rollback work the same without an account.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from digsync.deploy.targets.base import RemoteProject, RevisionExists
from digsync.deploy.targets.store import RevisionStore
from digsync.history.storage import atomic_write


class LocalTarget:
    kind = "local"
    keeps_secrets = False

    def __init__(self, workflows_dir: Path, state: Path) -> None:
        self.root = workflows_dir
        self.state = state
        self.location = _shown(workflows_dir)

    def _store(self, project: str) -> RevisionStore:
        return RevisionStore(self.state / project / "local-revisions")

    def current(self, project: str) -> RemoteProject | None:
        latest = self._store(project).latest()
        if latest is None and not (self.root / project).is_dir():
            return None
        return RemoteProject(project, project, latest or "")

    def files(self, remote: RemoteProject, revision: str | None = None) -> dict[str, bytes]:
        if revision is None or revision == remote.revision:
            folder = self.root / remote.name
            return {rel: (folder / rel).read_bytes() for rel in sorted(self._names(folder))}
        files = self._store(remote.name).files(revision)
        if files is None:
            raise FileNotFoundError(f"revision {revision} of local project {remote.name}")
        return files

    def revisions(self, remote: RemoteProject) -> list[dict[str, Any]]:
        return list(reversed(self._store(remote.name).log()))

    def push(
        self, project: str, revision: str, files: dict[str, bytes], schedule_from: str | None
    ) -> RemoteProject:
        store = self._store(project)
        if store.has(revision):
            raise RevisionExists(f"revision {revision} already exists in local project {project}")
        folder = self.root / project
        old = self._names(folder)
        # Atomic for readers, not flushed one by one: the revision's archive (kept and
        # fsynced by the store) is the record, and status reports a folder that differs.
        for rel, data in files.items():
            atomic_write(folder / rel, data, fsync=False)
        for rel in old - set(files):
            (folder / rel).unlink(missing_ok=True)
        store.add(revision, files)
        return RemoteProject(project, project, revision)

    @staticmethod
    def _names(folder: Path) -> set[str]:
        """The project's files in the folder (relative paths; dot files are not its own)."""
        return {
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }

    def set_secrets(self, remote: RemoteProject, secrets: dict[str, str]) -> None:
        """Secrets have nowhere safe to go locally; they are never written to disk."""

    def secret_keys(self, remote: RemoteProject) -> list[str] | None:
        return None

    def schedules(self, remote: RemoteProject) -> list[dict[str, Any]]:
        from digsync.dig.schedules import server_style_schedules

        return server_style_schedules(self.files(remote), dt.datetime.now(dt.UTC))

    def close(self) -> None:
        pass


def _shown(folder: Path) -> str:
    """The folder as messages name it: relative to the current folder when inside it
    (``workflows``), else the path as resolved."""
    try:
        return str(folder.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(folder.resolve())
