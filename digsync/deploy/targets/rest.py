"""The td and digdag targets: the Digdag REST API, TD's header or none."""

from __future__ import annotations

from typing import Any

from digsync.deploy.archive import pack, unpack
from digsync.deploy.digdag_api import DigdagClient, RemoteError
from digsync.deploy.targets.base import RemoteProject, RevisionExists

_AUTH_HINTS = {
    "td": "check TD_API_KEY: a master or write API key of the account this endpoint serves",
    "digdag": "set DIGDAG_AUTHORIZATION to the whole Authorization header the server expects",
}


class RestTarget:
    keeps_secrets = True

    def __init__(self, kind: str, endpoint: str, headers: dict[str, str]) -> None:
        self.kind = kind
        self.location = endpoint
        self.client = DigdagClient(endpoint, headers, auth_hint=_AUTH_HINTS[kind])

    def current(self, project: str) -> RemoteProject | None:
        found = self.client.find_project(project)
        if found is None:
            return None
        md5 = found.get("archiveMd5")
        return RemoteProject(
            str(found["id"]), str(found["name"]), str(found["revision"]), str(md5) if md5 else None
        )

    def files(self, remote: RemoteProject, revision: str | None = None) -> dict[str, bytes]:
        return unpack(self.client.archive(remote.id, revision or remote.revision))

    def revisions(self, remote: RemoteProject) -> list[dict[str, Any]]:
        return self.client.revisions(remote.id)

    def push(
        self, project: str, revision: str, files: dict[str, bytes], schedule_from: str | None
    ) -> RemoteProject:
        try:
            reply = self.client.put_project(project, revision, pack(files), schedule_from)
        except RemoteError as exc:
            if exc.status == 409:
                raise RevisionExists(str(exc)) from None
            raise
        return RemoteProject(str(reply["id"]), str(reply["name"]), str(reply["revision"]))

    def set_secrets(self, remote: RemoteProject, secrets: dict[str, str]) -> None:
        for key in sorted(secrets):
            self.client.put_secret(remote.id, key, secrets[key])

    def secret_keys(self, remote: RemoteProject) -> list[str] | None:
        return self.client.secret_keys(remote.id)

    def schedules(self, remote: RemoteProject) -> list[dict[str, Any]]:
        return self.client.schedules(remote.id)

    def close(self) -> None:
        self.client.close()
