"""One fixture, both servers: the push contract runs against the fake Digdag always, and
against a real Digdag server when the e2e tier is on (``DIGSYNC_E2E=1``, ``make e2e``).

Tests read the server only through its REST API (:class:`ServerView`), never through
the fake's Python state, so what they check is what a real server answers. With the e2e
tier on and no real server to be had, the tests fail with the reason; they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from digsync.deploy.archive import unpack

E2E_ENV = "DIGSYNC_E2E"


def e2e_enabled() -> bool:
    return os.environ.get(E2E_ENV) == "1"


def server_kinds() -> list[str]:
    return ["fake", "real"] if e2e_enabled() else ["fake"]


class ServerView:
    """What the Digdag REST API says about a project (by name)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def close(self) -> None:
        self.http.close()

    def project(self, name: str) -> dict[str, Any] | None:
        found = self.http.get("/api/projects", params={"name": name}).json()["projects"]
        return next((p for p in found if p["name"] == name), None)

    def _id(self, name: str) -> str:
        project = self.project(name)
        assert project is not None, f"no project {name} on {self.url}"
        return str(project["id"])

    def revision_names(self, name: str) -> list[str]:
        """Newest first, as the server lists them."""
        answer = self.http.get(f"/api/projects/{self._id(name)}/revisions").json()
        return [str(r["revision"]) for r in answer["revisions"]]

    def files(self, name: str, revision: str | None = None) -> dict[str, bytes]:
        params = {"revision": revision} if revision else {}
        answer = self.http.get(
            f"/api/projects/{self._id(name)}/archive", params=params, follow_redirects=True
        )
        answer.raise_for_status()
        return unpack(answer.content)

    def secret_keys(self, name: str) -> set[str]:
        answer = self.http.get(f"/api/projects/{self._id(name)}/secrets").json()
        return {str(s["key"]) for s in answer["secrets"]}

    def schedules(self, name: str) -> list[dict[str, Any]]:
        answer = self.http.get(f"/api/projects/{self._id(name)}/schedules").json()
        return list(answer["schedules"])

    def push_files(self, name: str, revision: str, files: dict[str, bytes]) -> httpx.Response:
        from digsync.deploy.archive import pack

        return self.put_project(name, revision, pack(files))

    def put_project(self, name: str, revision: str, archive: bytes) -> httpx.Response:
        """Someone else pushes (as ``digdag push`` does)."""
        return self.http.put(
            "/api/projects",
            params={"project": name, "revision": revision},
            content=archive,
            headers={"Content-Type": "application/gzip"},
        )


class DigdagServer(NamedTuple):
    kind: str  # fake | real
    url: str
    view: ServerView

    def project_name(self, label: str) -> str:
        """A project name of its own per test: the real server is shared by the session."""
        return f"{label}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def fake_digdag_session() -> Iterator[str]:
    from tests.fake_digdag import fake_digdag

    with fake_digdag() as fake:
        yield fake.url


@pytest.fixture(scope="session")
def real_digdag_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.real_digdag import real_digdag_server

    folder = tmp_path_factory.mktemp("digdag-server")
    with real_digdag_server(folder) as server:
        print(
            f"\nreal Digdag on {server.java}: started in {server.start_seconds:.1f} s, "
            f"{(server.rss_kib() or 0) / 1024:.0f} MiB resident"
        )
        yield server.url


@pytest.fixture(params=server_kinds())
def digdag(request: pytest.FixtureRequest) -> Iterator[DigdagServer]:
    """The server a contract test runs against (fake, and real in the e2e tier)."""
    kind = str(request.param)
    url = request.getfixturevalue(f"{kind}_digdag_session")
    view = ServerView(url)
    try:
        yield DigdagServer(kind, url, view)
    finally:
        view.close()


def write_config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path
