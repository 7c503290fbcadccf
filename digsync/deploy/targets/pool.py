"""Open targets: the command line's choice, one open target per distinct setting."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from digsync.config.model import Config
from digsync.config.targets import TargetSettings, settings
from digsync.deploy.targets import open_target
from digsync.deploy.targets.base import ListsProjects, RemoteProject, Target
from digsync.errors import DigsyncError
from digsync.history.ledger import Ledger, state_dir


class TargetChoice(NamedTuple):
    """The target options of the command line (None: look further)."""

    target: str | None = None
    endpoint: str | None = None


class TargetPool:
    """One open target per distinct setting, shared by the threads of a batch push
    (an HTTP client per project would cost a TLS context and a connection each)."""

    def __init__(
        self, choice: TargetChoice, state: Path | None = None, listing: bool = False
    ) -> None:
        self.choice = choice
        self.state = state  # None: state_dir(config.path), as for every command
        self.listing = listing  # a batch: list each target's projects once (see listed)
        self._open: dict[tuple[TargetSettings, Path], Target] = {}
        self._listed: dict[int, dict[str, RemoteProject]] = {}
        self._lock = threading.Lock()
        self._list_lock = threading.Lock()

    def get(self, config: Config) -> tuple[Target, Ledger]:
        config_dir = Path(config.path).resolve().parent
        s = settings(self.choice.target, self.choice.endpoint, config.target, config_dir)
        if config.warehouse.is_local and s.kind in ("td", "tdx"):
            raise DigsyncError(
                f"{config.project}: warehouse type sqlite runs only on self-hosted Digdag, and "
                f"the {s.kind} target is Treasure Data; push with --target digdag (or local), "
                "or set warehouse type td"
            )
        if s.kind == "td" and not config.warehouse.is_local and not config.source:
            from digsync.config.regions import mismatch

            problem = mismatch(s.endpoint, config.td_api_server)
            if problem:
                raise DigsyncError(
                    f"{config.project}: refused: {problem}; set target.region (or "
                    "workflow.td_api_server) in config.yaml to the region you push to, so "
                    "generate renders the same files"
                )
        state = self.state or state_dir(config.path)
        with self._lock:
            target = self._open.get((s, state))
            if target is None:
                target = self._open[(s, state)] = open_target(s, state)
        return target, Ledger(state, config.project)

    def listed(self, target: Target, project: str) -> RemoteProject | None:
        """The project as the target's listing of every project showed it, the listing
        made once per target when the pool was made with ``listing``; None when it is
        not listed or there is no listing (the caller then asks for the project itself).

        A batch push decides that a project is unchanged from this, instead of asking
        the server once per project; a project it must push is looked up afresh."""
        if not self.listing or not isinstance(target, ListsProjects):
            return None
        with self._list_lock:
            found = self._listed.get(id(target))
            if found is None:
                try:
                    found = target.projects()
                except DigsyncError:
                    found = {}  # no listing: every project is looked up on its own
                self._listed[id(target)] = found
        return found.get(project)

    def close(self) -> None:
        for target in self._open.values():
            target.close()
        self._open.clear()
        self._listed.clear()


@contextmanager
def opened(config: Config, choice: TargetChoice) -> Iterator[tuple[Target, Ledger]]:
    """The config's target and ledger, closed afterwards."""
    pool = TargetPool(choice)
    try:
        yield pool.get(config)
    finally:
        pool.close()
