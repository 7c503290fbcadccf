"""The library calls behind plan, push, status, history and rollback."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from digsync.config.model import Config, load_config
from digsync.config.targets import TargetSettings, settings
from digsync.deploy.plan import Plan, make_plan
from digsync.deploy.push import ConcurrentChange, NotOurs, PushResult, push_plan, scrub
from digsync.deploy.targets import open_target
from digsync.deploy.targets.base import Target
from digsync.errors import ConfigError, DigsyncError, UsageError
from digsync.history import pending
from digsync.history.ledger import Ledger, state_dir


class TargetChoice(NamedTuple):
    """The target options of the command line (None: look further)."""

    target: str | None = None
    endpoint: str | None = None


class TargetPool:
    """One open target per distinct setting, shared by the threads of a batch push
    (an HTTP client per project would cost a TLS context and a connection each)."""

    def __init__(self, choice: TargetChoice, state: Path | None = None) -> None:
        self.choice = choice
        self.state = state  # None: state_dir(config.path), as for every command
        self._open: dict[tuple[TargetSettings, Path], Target] = {}
        self._lock = threading.Lock()

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

    def close(self) -> None:
        for target in self._open.values():
            target.close()
        self._open.clear()


@contextmanager
def opened(config: Config, choice: TargetChoice) -> Iterator[tuple[Target, Ledger]]:
    """The config's target and ledger, closed afterwards."""
    pool = TargetPool(choice)
    try:
        yield pool.get(config)
    finally:
        pool.close()


def plan_one(path: str, choice: TargetChoice) -> Plan:
    config = load_config(path)
    with opened(config, choice) as (target, _):
        return make_plan(config, target)


def push_one(
    path: str,
    pool: TargetPool,
    expect_revision: str | None = None,
    schedule_from: str | None = None,
    author: str | None = None,
    project: str | None = None,
    adopt: bool = False,
) -> PushResult:
    """Plan and push one config; a failure comes back as a failed result, not raised.

    ``project`` overrides workflow.project (``generate --project NAME --push``); ``adopt``
    lets the push replace a project digsync did not make."""
    from digsync.deploy.digdag_api import bounded  # httpx: imported only when a push happens

    config: Config | None = None
    try:
        config = load_config(path)
        if project is not None:
            config = config._replace(project=project)
        target, ledger = pool.get(config)
        with bounded():  # every request of this push ends by one deadline
            plan = make_plan(config, target, describe=False)
            _check_expected(plan, expect_revision)
            config_text = Path(path).read_bytes()
            result = push_plan(plan, target, ledger, config_text, schedule_from, author, adopt)
        pending.clear(ledger.dir)  # a push that reached the server ends a pending one
    except ConfigError as exc:
        errors = [p for p in exc.problems if p.severity == "error"] or exc.problems
        more = f" (and {len(errors) - 1} more: digsync validate --config {path})"
        message = f"invalid config: {errors[0]}" + (more if len(errors) > 1 else "")
        return PushResult(path, "failed", None, message)
    except UsageError:
        raise  # the command is wrong for every project, not this push
    except NotOurs as exc:
        name = config.project if config is not None else path
        return PushResult(name, "failed", None, str(exc), needs_adopt=True)
    except DigsyncError as exc:
        secrets = config.secrets().values() if config is not None else ()
        return PushResult(_project_name(path), "failed", None, scrub(str(exc), secrets))
    if config.secrets() and not target.keeps_secrets:
        keys = ", ".join(sorted(config.secrets()))
        note = f"set these project secrets on the server yourself: {keys}"
        result = result._replace(warnings=(*result.warnings, note))
    return result


def _check_expected(plan: Plan, expect_revision: str | None) -> None:
    """--expect-revision: the server must still run the revision a plan showed."""
    seen = plan.remote.revision if plan.remote else None
    if expect_revision is not None and seen != expect_revision:
        raise ConcurrentChange(
            f"{plan.project}: the server runs revision {seen or 'none'}, not "
            f"{expect_revision} that was planned; nothing was pushed"
        )


def _project_name(path: str) -> str:
    try:
        return load_config(path).project
    except DigsyncError:
        return path


def push_many(
    paths: list[str],
    choice: TargetChoice,
    jobs: int = 4,
    expect_revision: str | None = None,
    schedule_from: str | None = None,
    project: str | None = None,
    adopt: bool = False,
    progress: Callable[[str], object] | None = None,
) -> list[PushResult]:
    """Push every config, at most ``jobs`` at a time; results in the order given.
    ``progress`` is called with each project's name as its push ends.

    A config file that is not there is a usage error before anything is pushed (found
    midway it would end the command without the summary of the pushes already made)."""
    missing = [path for path in paths if not Path(path).is_file()]
    if missing and len(paths) > 1:
        raise UsageError(f"no such config file: {', '.join(missing)}; nothing was pushed")
    if project is not None:
        from digsync.config.model import check_project_name

        if len(paths) > 1:
            raise UsageError("--project takes one --config")
        check_project_name(project)
    pool = TargetPool(choice)
    try:
        if len(paths) == 1:
            return [
                push_one(
                    paths[0], pool, expect_revision, schedule_from, project=project, adopt=adopt
                )
            ]
        workers = max(1, min(jobs, len(paths), int(os.environ.get("DIGSYNC_MAX_JOBS", "32"))))
        with ThreadPoolExecutor(max_workers=workers) as executor:
            futures = [
                executor.submit(push_one, p, pool, None, schedule_from, adopt=adopt) for p in paths
            ]
            for done in as_completed(futures):
                if progress is not None:
                    progress(done.result().project)
            return [future.result() for future in futures]
    finally:
        pool.close()
