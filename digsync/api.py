"""The library's calls with the target chosen by name, as the CLI chooses it.

``digsync.make_plan``, ``push``, ``rollback`` and ``status`` open the config's target
(``target`` and ``endpoint`` as --target and --endpoint: None looks at $DIGSYNC_TARGET,
then at config.yaml's ``target:`` section; the default is local), do one thing, and
close it. The stages underneath (digsync.deploy) take an open target instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from digsync.deploy.targets.pool import TargetChoice, opened

if TYPE_CHECKING:
    from digsync.config.model import Config
    from digsync.deploy.plan import Plan
    from digsync.deploy.push import PushResult
    from digsync.deploy.rollback import RollbackResult
    from digsync.deploy.status import Status


def make_plan(config: Config, *, target: str | None = None, endpoint: str | None = None) -> Plan:
    """What pushing ``config`` would change on its target: files and schedules."""
    from digsync.deploy.plan import make_plan as plan

    with opened(config, TargetChoice(target, endpoint)) as (opened_target, _):
        return plan(config, opened_target)


def push(
    config: Config,
    text: bytes | None = None,
    *,
    target: str | None = None,
    endpoint: str | None = None,
    expect_revision: str | None = None,
    schedule_from: str | None = None,
    author: str | None = None,
    adopt: bool = False,
) -> PushResult:
    """Push ``config`` when its render differs from what the target runs.

    ``text`` is the config file's content, kept in the local history for rollback
    (default: the file at ``config.path``). A failure is a result with status
    ``failed``, not an exception, as in a batch."""
    from digsync.deploy.push import push as push_config

    data = Path(config.path).read_bytes() if text is None else text
    return push_config(
        config,
        data,
        choice=TargetChoice(target, endpoint),
        expect_revision=expect_revision,
        schedule_from=schedule_from,
        author=author,
        adopt=adopt,
    )


def rollback(
    config: Config,
    revision: str | None = None,
    *,
    target: str | None = None,
    endpoint: str | None = None,
    restore_config: bool = False,
) -> RollbackResult:
    """Re-push an earlier revision (default: the one before the current) as a new one."""
    from digsync.deploy.rollback import rollback as roll_back

    with opened(config, TargetChoice(target, endpoint)) as (opened_target, ledger):
        return roll_back(config, opened_target, ledger, revision, restore_config=restore_config)


def status(config: Config, *, target: str | None = None, endpoint: str | None = None) -> Status:
    """Drift between config.yaml, the last push from here and what the target runs."""
    from digsync.deploy.status import status as drift

    with opened(config, TargetChoice(target, endpoint)) as (opened_target, ledger):
        return drift(config, opened_target, ledger)
