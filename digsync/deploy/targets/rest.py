"""The td and digdag targets: the Digdag REST API, TD's header or none."""

from __future__ import annotations

from typing import Any

import httpx

from digsync.deploy.archive import pack, unpack
from digsync.deploy.digdag_api import DigdagClient, RemoteError
from digsync.deploy.targets.base import RemoteProject, RevisionExists

_AUTH_HINTS = {
    "td": "check TD_API_KEY: a master or write API key of the account this endpoint serves",
    "digdag": "set DIGDAG_AUTHORIZATION to the whole Authorization header the server expects",
}


LIST_PAGE = 100
"""Projects per page of a listing (Digdag's default page size)."""


def _remote(found: dict[str, Any]) -> RemoteProject:
    md5 = found.get("archiveMd5")
    return RemoteProject(
        str(found["id"]), str(found["name"]), str(found["revision"]), str(md5) if md5 else None
    )


class RestTarget:
    keeps_secrets = True

    def __init__(
        self,
        kind: str,
        endpoint: str,
        headers: dict[str, str],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.kind = kind
        self.location = endpoint
        self.client = DigdagClient(
            endpoint, headers, transport=transport, auth_hint=_AUTH_HINTS[kind]
        )

    def current(self, project: str) -> RemoteProject | None:
        found = self.client.find_project(project)
        return None if found is None else _remote(found)

    def projects(self) -> dict[str, RemoteProject]:
        """Every project the server lists, by name, a page of LIST_PAGE at a time (a
        batch asks this once instead of once per project). A server that ignores the
        paging (a page with nothing new) ends the listing; entries lacking an id, name
        or revision are left out: callers look up what is missing one by one."""
        found: dict[str, RemoteProject] = {}
        seen: set[str] = set()
        last: str | None = None
        while True:
            page = self.client.list_projects(last, LIST_PAGE)
            ids = [str(item.get("id")) for item in page]
            if not page or seen.issuperset(ids):
                return found
            seen.update(ids)
            for item in page:
                if all(item.get(k) not in (None, "") for k in ("id", "name", "revision")):
                    found.setdefault(str(item["name"]), _remote(item))
            if len(page) < LIST_PAGE or not all(i.isdigit() for i in ids):
                return found
            last = str(max(int(i) for i in ids))

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
