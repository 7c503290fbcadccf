"""Push a plan: secrets, an idempotent PUT, schedule read-back, and the ledger record.

`generate --push`, `push` and `rollback` all go through :func:`push_files`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from digsync.config.model import Config
from digsync.deploy.archive import REVISION_PREFIX, archive_md5, content_hash, pack
from digsync.deploy.plan import Plan, make_plan
from digsync.deploy.targets.base import RemoteProject, RevisionExists, Target
from digsync.deploy.targets.pool import TargetChoice, TargetPool
from digsync.dig.schedules import iso_z, workflow_schedules
from digsync.errors import ConfigError, DigsyncError, DriftError, InputError, error_code
from digsync.history import pending
from digsync.history.ledger import Ledger, LedgerEntry

SCHEDULE_END = "9999-01-01T00:00:00Z"
"""The next run Digdag shows for a schedule that has no run left."""


class ConcurrentChange(DriftError):
    """Someone else pushed between plan and push; nothing was changed."""


class NotOurs(DriftError):
    """The server's project runs a revision digsync did not make; pushing would replace a
    project someone else owns. ``--adopt`` (the UI asks first) takes it over."""


class PushResult(NamedTuple):
    project: str
    status: str  # pushed | unchanged | failed
    revision: str | None
    message: str
    warnings: tuple[str, ...] = ()
    needs_adopt: bool = False  # failed because the project is not digsync's (NotOurs)
    code: str | None = None  # why it failed, as the API's codes: target_error, ...


def made_by_digsync(remote: RemoteProject) -> bool:
    """Whether digsync made the revision the server runs (its names start digsync-)."""
    return remote.revision.startswith(REVISION_PREFIX)


def _fresh_name(
    target: Target, remote: RemoteProject | None, wanted: str, refused: frozenset[str]
) -> str:
    """The wanted revision name, or wanted-N past every N in use. The server lists only
    the newest 100 revisions, so a name it refused (``refused``: it exists, older than
    the list) counts as taken too, and N goes past the highest one seen."""
    taken = set(refused)
    if remote is not None:
        taken |= {str(r.get("revision")) for r in target.revisions(remote)}
    if wanted not in taken:
        return wanted
    pattern = re.compile(re.escape(wanted) + r"-([0-9]{1,9})")
    used = [int(m.group(1)) for name in taken if (m := pattern.fullmatch(name))]
    return f"{wanted}-{max(used, default=1) + 1}"


def check_unchanged(target: Target, project: str, expected: RemoteProject | None) -> None:
    """Optimistic concurrency: the server's revision must still be the planned one."""
    now = target.current(project)
    seen = expected.revision if expected else None
    found = now.revision if now else None
    if seen != found:
        raise ConcurrentChange(
            f"{project}: the server's revision changed since the plan "
            f"({seen or 'no project'} -> {found or 'no project'}); nothing was pushed. "
            "Run digsync plan again to see the new state."
        )


def push_files(
    target: Target,
    project: str,
    files: dict[str, bytes],
    revision: str,
    expected: RemoteProject | None,
    secrets: dict[str, str],
    schedule_from: str | None = None,
) -> tuple[RemoteProject, list[str]]:
    """Set secrets (before, for an existing project), PUT, then secrets for a new one."""
    check_unchanged(target, project, expected)
    if expected is not None and secrets:
        target.set_secrets(expected, secrets)
    pushed = _put(target, project, files, revision, expected, schedule_from)
    if expected is None and secrets:
        target.set_secrets(pushed, secrets)
    start = None
    if schedule_from:
        start = dt.datetime.fromisoformat(schedule_from.replace("Z", "+00:00"))
    return pushed, verify_schedules(target, pushed, files, start)


def _put(
    target: Target,
    project: str,
    files: dict[str, bytes],
    revision: str,
    expected: RemoteProject | None,
    schedule_from: str | None,
) -> RemoteProject:
    """PUT under a free revision name. A 409 for our own name after a lost reply means
    the push landed; a 409 from a race for the name, or for a name older than the
    server's list, is retried under the next name."""
    refused: set[str] = set()
    for _ in range(PUT_TRIES):
        name = _fresh_name(
            target, target.current(project) or expected, revision, frozenset(refused)
        )
        try:
            return target.push(project, name, files, schedule_from)
        except RevisionExists:
            landed = target.current(project)
            if landed is not None and landed.revision == name:
                return landed
            refused.add(name)
    raise RevisionExists(f"{project}: no free revision name for {revision} after {PUT_TRIES} tries")


PUT_TRIES = 10


def verify_schedules(
    target: Target,
    pushed: RemoteProject,
    files: dict[str, bytes],
    start: dt.datetime | None = None,
) -> list[str]:
    """Compare the server's next run of each workflow with the local preview from start
    (default: now; a run due during the push may already have moved on, so two count)."""
    if target.kind == "tdx":
        return []
    before = start or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    server = {str(s.get("workflow", {}).get("name")): s for s in target.schedules(pushed)}
    problems = []
    for name, ws in workflow_schedules(files).items():
        got = server.get(name)
        if ws.schedule is None:
            if got is not None:
                problems.append(f"{name}: the server still has a schedule; expected none")
            continue
        expected = [iso_z(r.run_time) for r in ws.runs(before, 2)]
        # No run left (its end date has passed): Digdag keeps the schedule with the
        # next run at its SCHEDULE_END, 9999-01-01T00:00:00Z.
        said = expected[0] if expected else "no run (the schedule has ended)"
        if got is None:
            if expected:
                problems.append(f"{name}: the server has no schedule; expected next run {said}")
        elif got.get("disabledAt"):
            problems.append(f"{name}: the schedule is disabled on the server")
        elif got.get("nextRunTime") not in (expected or [SCHEDULE_END]):
            problems.append(
                f"{name}: the server's next run is {got.get('nextRunTime')}; "
                f"the local preview says {said}"
            )
    return problems


def push_plan(
    plan: Plan,
    target: Target,
    ledger: Ledger,
    config_text: bytes,
    schedule_from: str | None = None,
    author: str | None = None,
    adopt: bool = False,
) -> PushResult:
    """Push when the plan has changes; record the outcome either way it ends.

    ``author`` names who the ledger records (the API's token name); default: who().
    A project whose current revision digsync did not make is replaced only with
    ``adopt`` (NotOurs otherwise, and nothing is pushed)."""
    config = plan.config
    base = _ledger_base(config, plan, target)
    if author is not None:
        base["who"] = author
    if not plan.changed:
        return _unchanged(plan, target, ledger, base)
    if plan.remote is not None and not adopt and not made_by_digsync(plan.remote):
        shown = f"revision {plan.remote.revision!r}" if plan.remote.revision else "files"
        raise NotOurs(
            f"{plan.project} on the {target.kind} target holds {shown} that digsync did not "
            "make; pushing would replace a project someone else owns. Check that "
            "workflow.project is right, then push with --adopt to take it over"
        )
    try:
        pushed, warnings = push_files(
            target,
            plan.project,
            plan.files,
            plan.revision,
            plan.remote,
            config.secrets(),
            schedule_from,
        )
    except DigsyncError as exc:
        message = scrub(str(exc), config.secrets().values())
        ledger.append({**base, "result": "failed", "message": message})
        raise
    ledger.keep_config(config.content_hash, config_text)
    ledger.append(
        {
            **base,
            "result": "pushed",
            "revision": pushed.revision,
            "schedule_check": warnings or "ok",
            "archive_md5": archive_md5(pack(plan.files)),
        }
    )
    return PushResult(
        plan.project,
        "pushed",
        pushed.revision,
        f"pushed revision {pushed.revision}",
        tuple(warnings),
    )


def pushed_archives(ledger: Ledger) -> Mapping[str, str]:
    """The content hash of each archive this ledger's pushes sent, by its archiveMd5."""
    return PushedArchives(ledger)


class PushedArchives(Mapping[str, str]):
    """:func:`pushed_archives`, read on demand: a plan asks for one checksum, and only
    the ledger lines that name it are read as JSON (the ledger grows with every save)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @functools.cached_property
    def _lines(self) -> list[str]:  # read once: a plan may ask twice
        try:
            return self._ledger.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []

    @staticmethod
    def _pair(line: str) -> tuple[str, str] | None:
        try:
            entry = json.loads(line)
        except ValueError:
            return None
        if not isinstance(entry, dict) or entry.get("result") != "pushed":
            return None
        md5, content = entry.get("archive_md5"), entry.get("content_hash")
        return (md5, content) if isinstance(md5, str) and isinstance(content, str) else None

    def __getitem__(self, md5: str) -> str:
        for line in reversed(self._lines):
            if md5 and md5 in line:
                pair = self._pair(line)
                if pair is not None and pair[0] == md5:
                    return pair[1]
        raise KeyError(md5)

    def _all(self) -> dict[str, str]:
        pairs = (self._pair(line) for line in self._lines if "archive_md5" in line)
        return dict(pair for pair in pairs if pair is not None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def missing_secrets(target: Target, remote: RemoteProject, secrets: dict[str, str]) -> list[str]:
    """Keys the config needs that the server's project lacks (none if it cannot tell)."""
    if not secrets:
        return []
    present = target.secret_keys(remote)
    return [] if present is None else sorted(set(secrets) - set(present))


def _unchanged(plan: Plan, target: Target, ledger: Ledger, base: LedgerEntry) -> PushResult:
    """The server runs this content. Only project secrets it lacks are set (say the
    first push of a new project landed but setting its secrets failed); the server is
    asked only when no push of this config has succeeded from here (that set them)."""
    assert plan.remote is not None
    message = "the server already runs this content; nothing pushed"
    secrets = plan.config.secrets()
    last = ledger.last_success()
    done = last is not None and last.get("config_hash") == plan.config.content_hash
    missing = [] if done else missing_secrets(target, plan.remote, secrets)
    if missing:
        record: LedgerEntry = {**base, "action": "secrets", "revision": plan.remote.revision}
        try:
            target.set_secrets(plan.remote, {key: secrets[key] for key in missing})
        except DigsyncError as exc:
            message = scrub(str(exc), secrets.values())
            ledger.append({**record, "result": "failed", "message": message})
            raise
        ledger.append({**record, "result": "unchanged", "secrets_set": missing})
        message = (
            "the server already runs this content; set the project secret(s) it lacked: "
            + ", ".join(missing)
        )
    return PushResult(plan.project, "unchanged", plan.remote.revision, message)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret value in it replaced by ******** (a server may echo one)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "********")
    return text


def _ledger_base(config: Config, plan: Plan, target: Target) -> LedgerEntry:
    return {
        "action": "push",
        "project": plan.project,
        "target": target.kind,
        "location": target.location,
        "config": str(Path(config.path)),
        "config_hash": config.content_hash,
        "content_hash": content_hash(plan.files),
        "previous_revision": plan.remote.revision if plan.remote else None,
    }


def push(
    config: Config,
    text: bytes,
    pool: TargetPool | None = None,
    *,
    choice: TargetChoice | None = None,
    expect_revision: str | None = None,
    schedule_from: str | None = None,
    author: str | None = None,
    adopt: bool = False,
    files: dict[str, bytes] | None = None,
) -> PushResult:
    """Plan and push one checked config whose file holds ``text`` (kept in the history,
    for rollback); a failure comes back as a failed result, not raised.

    ``pool`` shares open targets between pushes; without one, the target of ``choice``
    (the command line's --target/--endpoint; default: the config's own) is opened and
    closed. ``adopt`` lets the push replace a project digsync did not make. ``files``:
    the config's render when the caller has it (generate --push renders once)."""
    from digsync.deploy.digdag_api import bounded  # httpx: imported only when a push happens

    own = pool is None
    pool = pool or TargetPool(choice or TargetChoice())
    try:
        target, ledger = pool.get(config)
        with bounded():  # every request of this push ends by one deadline
            plan = make_plan(
                config,
                target,
                describe=False,
                listed=pool.listed(target, config.project),
                archives=pushed_archives(ledger),
                files=files,
            )
            _check_expected(plan, expect_revision)
            result = push_plan(plan, target, ledger, text, schedule_from, author, adopt)
        pending.clear(ledger.dir)  # a push that reached the server ends a pending one
    except ConfigError as exc:
        return invalid_result(config.path, exc)
    except InputError:
        raise  # the command is wrong for every project, not this push
    except NotOurs as exc:
        return PushResult(
            config.project, "failed", None, str(exc), needs_adopt=True, code=error_code(exc)
        )
    except DigsyncError as exc:
        message = scrub(str(exc), config.secrets().values())
        return PushResult(config.project, "failed", None, message, code=error_code(exc))
    finally:
        if own:
            pool.close()
    if config.secrets() and not target.keeps_secrets:
        keys = ", ".join(sorted(config.secrets()))
        note = f"set these project secrets on the server yourself: {keys}"
        result = result._replace(warnings=(*result.warnings, note))
    return result


def invalid_result(path: str, exc: ConfigError) -> PushResult:
    errors = [p for p in exc.problems if p.severity == "error"] or exc.problems
    more = f" (and {len(errors) - 1} more: digsync validate --config {path})"
    message = f"invalid config: {errors[0]}" + (more if len(errors) > 1 else "")
    return PushResult(path, "failed", None, message, code=error_code(exc))


def _check_expected(plan: Plan, expect_revision: str | None) -> None:
    """--expect-revision: the server must still run the revision a plan showed."""
    seen = plan.remote.revision if plan.remote else None
    if expect_revision is not None and seen != expect_revision:
        raise ConcurrentChange(
            f"{plan.project}: the server runs revision {seen or 'none'}, not "
            f"{expect_revision} that was planned; nothing was pushed"
        )
