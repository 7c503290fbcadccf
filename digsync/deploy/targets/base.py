"""What every push target is: the Target protocol and the project it reports."""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

from digsync.errors import DriftError


class RemoteProject(NamedTuple):
    """A project as the target knows it; ``revision`` is its current revision."""

    id: str
    name: str
    revision: str
    archive_md5: str | None = None  # lets a plan skip downloading an identical archive


class RevisionExists(DriftError):
    """The revision name is taken in this project (Digdag answers 409)."""


class Target(Protocol):
    kind: str
    location: str
    keeps_secrets: bool

    def current(self, project: str) -> RemoteProject | None: ...
    def files(self, remote: RemoteProject, revision: str | None = None) -> dict[str, bytes]: ...
    def revisions(self, remote: RemoteProject) -> list[dict[str, Any]]: ...
    def push(
        self, project: str, revision: str, files: dict[str, bytes], schedule_from: str | None
    ) -> RemoteProject: ...
    def set_secrets(self, remote: RemoteProject, secrets: dict[str, str]) -> None: ...
    def secret_keys(self, remote: RemoteProject) -> list[str] | None:
        """The project's secret keys on the server; None when the target cannot tell."""
        ...

    def schedules(self, remote: RemoteProject) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


@runtime_checkable
class ListsProjects(Protocol):
    """A target that can list every project in one go (the REST targets)."""

    def projects(self) -> dict[str, RemoteProject]: ...
