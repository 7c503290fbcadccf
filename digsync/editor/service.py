"""What the API, the webhook and ``digsync watch`` do, without HTTP.

A save is: check the candidate, write config.yaml atomically (keeping its comments),
then push through :func:`digsync.deploy.push.push`, which pushes only when the rendered
project differs from what the target runs. All of it happens under the config's write
lock, so saves, webhook pushes and ``watch`` never interleave. A push that fails after
a save leaves a pending marker that any later successful push clears.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from digsync.config import files as configfile
from digsync.config.model import Config, config_from_data, config_from_loaded, parse_config
from digsync.config.spec import format_path
from digsync.config.targets import settings
from digsync.deploy.push import PushResult, push, scrub
from digsync.deploy.targets.pool import TargetChoice, TargetPool
from digsync.editor.audit import AuditLog, config_diff
from digsync.editor.masking import mask, secret_values, unmask
from digsync.editor.redact import credentials
from digsync.editor.roundtrip import Unrepresentable, same, written
from digsync.errors import (
    ConfigError,
    DigsyncError,
    InputError,
    Problem,
    YamlSyntaxError,
    error_code,
    problem_json,
)
from digsync.history import pending
from digsync.history.ledger import Ledger, who
from digsync.yamlio.load import PathKey, load


class StaleETag(DigsyncError):
    """If-Match named another version of config.yaml; nothing was written."""

    def __init__(self, current: str) -> None:
        super().__init__(f"config.yaml changed since it was read (its ETag is now {current})")
        self.current = current


class ConfigMissing(InputError):
    """config.yaml is not there (deleted while serving, or never created)."""


class RollbackRefused(DigsyncError):
    """Nothing to roll back to, no such revision, or no config copy to restore."""

    def __init__(self, message: str, code: str = "rollback_failed") -> None:
        super().__init__(message)
        self.code = code


class UndoesRollback(RollbackRefused):
    """The save would push over a rollback the server runs; nothing was written."""

    def __init__(self, back: dict[str, Any]) -> None:
        super().__init__(
            f"the server runs {back['revision']}, a rollback to {back['to']} (from "
            f"{back['from']}); saving this config would push it and undo the rollback",
            "undoes_rollback",
        )
        self.rolled_back = back


class _NotYaml(ConfigError):
    """Text to validate that does not load as YAML (a 400, not {"valid": false})."""


class TargetFailed(DigsyncError):
    """The target could not be read or written; the message has every secret masked."""


_OWN_ERRORS = (
    ConfigError,
    StaleETag,
    ConfigMissing,
    RollbackRefused,
    TargetFailed,
)


class SaveOutcome(NamedTuple):
    """What a save (or a triggered push) did; ``push_error`` set means saved, not pushed."""

    etag: str
    workflow_updated: bool
    revision: str | None
    message: str
    warnings: tuple[Problem, ...] = ()
    schedule_check: tuple[str, ...] = ()
    push_error: str | None = None
    needs_adopt: bool = False  # not pushed: the target's project is not digsync's


def candidate(body: Any) -> Any:
    """The config in a request body: the object itself, or ``{"config": {...}}``."""
    if isinstance(body, dict) and len(body) == 1 and isinstance(body.get("config"), dict):
        return body["config"]
    return body


class ConfigService:
    """One config file, its target and its history; safe to share between threads."""

    def __init__(
        self,
        config_path: str | Path,
        choice: TargetChoice,
        state: Path | None = None,
        lock_wait: float | None = None,
    ) -> None:
        self.path = Path(config_path)
        self.lock_wait = lock_wait  # seconds a write waits for another one; None: no limit
        self.label = str(self.path)  # the config's path as the generated header shows it
        self._last_read: tuple[str, Any] | None = None  # (ETag, data) of config.yaml
        self.choice = choice
        self.pool = TargetPool(choice, state)
        from digsync.history.ledger import state_dir

        self.state = state or state_dir(self.path)
        self.audit = AuditLog(self.state)
        self._audit_key = str(self.path.resolve())
        configfile.remove_stale_temps(self.path)

    def close(self) -> None:
        self.pool.close()

    # --- reading ----------------------------------------------------------------------

    def read(self) -> tuple[Any, str]:
        """The config as data with webhook URLs masked, and its ETag."""
        snap = configfile.read(self.path)
        if snap.data is None:
            raise self._missing()
        try:
            data = load(snap.data.decode("utf-8"), self.label).data
        except UnicodeDecodeError:
            raise ConfigError([Problem(None, "", "config.yaml is not UTF-8 text")]) from None
        except YamlSyntaxError as exc:
            raise ConfigError([Problem(exc.mark, "", exc.message)]) from None
        return _jsonable(mask(data)), snap.etag

    def validate(self, body: Any) -> tuple[list[Problem], list[Problem]]:
        """(errors, warnings) of a candidate: data, ``{"config": ...}`` or ``{"yaml": text}``."""
        try:
            if isinstance(body, dict) and list(body) == ["yaml"] and isinstance(body["yaml"], str):
                try:
                    load(body["yaml"], self.label)
                except YamlSyntaxError as exc:  # not a config at all: the request is bad
                    raise _NotYaml([Problem(exc.mark, "", exc.message)]) from None
                config = parse_config(body["yaml"], self.label)
            else:
                config = self.check(candidate(body), self._stored())
        except _NotYaml as exc:
            raise ConfigError(exc.problems) from None
        except ConfigError as exc:
            errors = [p for p in exc.problems if p.severity == "error"]
            return errors, [p for p in exc.problems if p.severity != "error"]
        return [], list(config.warnings)

    def check(self, data: Any, stored: Any, build: Callable[[Any], Config] | None = None) -> Config:
        """Unmask (in place), then check the config and its target settings; raises
        ConfigError. ``build`` makes the Config of the unmasked data (a save builds it from
        the YAML it writes); by default it is checked as data.

        What decides where pushes, files and credentials go cannot change through the API
        (``LOCKED`` and the Slack webhooks): a writer of the API could otherwise send the TD
        key or the webhook secrets elsewhere, or read files on the server.
        """
        data, mask_problems = unmask(data, stored)
        masked = {p.key_path for p in mask_problems}  # the mask problem says it better
        _keep_locked(data, stored)
        locked = _locked_changes(data, stored)
        refused = {p.key_path for p in locked}  # e.g. a mask with no stored URL adds a webhook
        mask_problems = [p for p in mask_problems if _channels_of(p.key_path) not in refused]
        mask_problems += locked
        try:
            if build is None or mask_problems:  # with mask problems the save fails anyway
                config = config_from_data(data, self.label)
            else:
                config = build(data)
        except ConfigError as exc:
            kept = [p for p in exc.problems if p.key_path not in masked]
            raise ConfigError([*kept, *mask_problems]) from None
        problems = list(mask_problems) + _source_problems(config)
        try:
            settings(self.choice.target, self.choice.endpoint, config.target, self.path.parent)
        except InputError as exc:
            problems.append(Problem(None, "target", str(exc)))
        if problems:
            raise ConfigError([*problems, *config.warnings])
        return config

    def preview(self, body: Any) -> dict[str, Any]:
        """What saving the candidate would render and change; writes nothing."""
        from digsync.editor.preview import preview

        data, stored = candidate(body), self._stored()
        config = self.check(data, stored)
        with self._masked_failures(data, stored):
            target, _ = self.pool.get(config)
            document = preview(config, target)
        return {**document, "warnings": [problem_json(w) for w in config.warnings]}

    def _stored(self) -> Any:
        text = configfile.read(self.path).text
        return _data_of(text, self.label)

    # --- writing ----------------------------------------------------------------------

    def save(
        self,
        body: Any,
        if_match: str | None = None,
        author: str | None = None,
        adopt: bool = False,
        confirm_undo_rollback: bool = False,
    ) -> SaveOutcome:
        """Check, write config.yaml, push when the project changed; all under the lock.
        ``adopt`` lets the push replace a project on the target that digsync did not make.
        While the server runs a rollback, a save that would push over it is refused
        (UndoesRollback) unless ``confirm_undo_rollback``; one that leaves config.yaml as
        it is pushes nothing.

        Raises StaleETag, ConfigError or UndoesRollback (nothing written).
        """
        author = author or who()
        data = candidate(body)
        with configfile.locked(self.path, self.lock_wait):
            snap = configfile.read(self.path)
            if if_match is not None and not configfile.etag_matches(if_match, snap.etag):
                raise StaleETag(snap.etag)
            stored = self._stored_data(snap)
            text, config = self._admitted(data, stored, snap.text)  # unmasks data
            new = text.encode("utf-8")
            back = None if confirm_undo_rollback else self._rollback_kept(config)
            if back is not None and back.get("undone") and new != snap.data:
                raise UndoesRollback(back)
            if new != snap.data:
                configfile.save(self.path, new)
            self._last_read = (configfile.etag_of(new), data)
            secrets = self.hidden(stored, data)
            if back is not None:  # no change: the rollback the server runs stays
                result = PushResult(
                    config.project,
                    "unchanged",
                    back["revision"],
                    f"config.yaml is unchanged; the server keeps running {back['revision']}, "
                    f"the rollback to {back['to']}; nothing pushed",
                )
            else:
                result = self._push(config, new, secrets, author, adopt)
            self._record("save", author, config, stored, data, secrets, result)
        return _outcome(configfile.etag_of(new), result, config.warnings)

    def _admitted(self, data: Any, stored: Any, old_text: str | None) -> tuple[str, Config]:
        """:meth:`check` a save's data, building its Config from the YAML text the save
        writes, read back once; the text and that Config. An invalid config reports its
        problems as the data gives them (no lines of a file the client never saw)."""
        texts: list[str] = []

        def build(unmasked: Any) -> Config:
            try:
                text, loaded = written(unmasked, old_text, self.label)
            except Unrepresentable as exc:
                config_from_data(unmasked, self.label)  # an invalid config says so first
                raise ConfigError([Problem(None, "", str(exc))]) from None
            try:
                config = config_from_loaded(loaded, self.label)
            except ConfigError:
                config_from_data(unmasked, self.label)
                raise
            texts.append(text)
            return config

        config = self.check(data, stored, build)
        return texts[0], config

    def _stored_data(self, snap: configfile.Snapshot) -> Any:
        """config.yaml as data; the last save's data when the file is still what it wrote
        (its ETag), so a run of saves does not parse the stored file each time."""
        etag = snap.etag
        if self._last_read is not None and self._last_read[0] == etag:
            return self._last_read[1]
        data = _data_of(snap.text, self.label)
        self._last_read = (etag, data)
        return data

    def push_current(self, action: str, author: str | None = None) -> SaveOutcome:
        """Re-read config.yaml and push it (webhook, watch); an invalid file pushes nothing."""
        author = author or who()
        with configfile.locked(self.path, self.lock_wait):
            snap = configfile.read(self.path)
            current = self._stored_data(snap)
            try:
                config = self._config(snap)
            except ConfigError as exc:
                problems = "\n".join(str(p) for p in exc.problems)
                self.audit.append(
                    {
                        "action": action,
                        "who": author,
                        "config": self._audit_key,
                        "result": "invalid",
                        "message": scrub(problems, self.hidden(current)),
                    }
                )
                raise
            before = self._last_pushed(config)
            secrets = self.hidden(current, before)
            result = self._push(config, snap.data or b"", secrets, author)
            self._record(action, author, config, before, current, secrets, result)
        return _outcome(snap.etag, result, config.warnings)

    def _push(
        self, config: Config, text: bytes, secrets: set[str], author: str, adopt: bool = False
    ) -> PushResult:
        try:
            result = push(config, text, self.pool, author=author, adopt=adopt)
        except InputError as exc:  # e.g. the td target without TD_API_KEY
            result = PushResult(config.project, "failed", None, str(exc), code=error_code(exc))
        except OSError as exc:
            result = PushResult(
                config.project, "failed", None, f"push failed: {exc}", code="target_error"
            )
        result = result._replace(message=scrub(result.message, secrets))
        if result.status == "failed":
            pending.mark(self.state / config.project, result.message)
        return result

    def _rollback_kept(self, config: Config) -> dict[str, Any] | None:
        """The rollback the server runs (as status's ``rolled_back``), with ``undone``:
        whether pushing ``config`` would replace it. None when the server runs no rollback
        or cannot be asked (the push then reports the target's failure)."""
        from digsync.deploy.archive import content_hash
        from digsync.deploy.rollback import last_rollback, rolled_back
        from digsync.render.project import config_label, render_project

        ledger = Ledger(self.state, config.project)
        entry = last_rollback(ledger)
        if entry is None:
            return None
        try:
            target, ledger = self.pool.get(config)
            remote = target.current(config.project)
        except (DigsyncError, OSError):
            return None
        back = rolled_back(ledger, remote.revision if remote else None)
        if back is None:
            return None
        files = render_project(config, config_label(config)).files  # as push renders
        return {**back, "undone": content_hash(files) != entry.get("content_hash")}

    def _last_pushed(self, config: Config) -> Any:
        ledger = Ledger(self.state, config.project)
        last = ledger.last_success()
        copy = ledger.config_copy(str(last.get("config_hash"))) if last else None
        if copy is None:
            return None
        return _data_of(copy.read_text(encoding="utf-8", errors="replace"), str(copy))

    def _record(
        self,
        action: str,
        author: str,
        config: Config,
        old: Any,
        new: Any,
        secrets: set[str],
        result: PushResult,
    ) -> None:
        self.audit.append(
            {
                "action": action,
                "who": author,
                "config": self._audit_key,
                "project": config.project,
                "diff": config_diff(old, new, secrets),
                "result": result.status,
                "revision": result.revision,
                "message": result.message,
            }
        )

    # --- state ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Drift between config, last push and server, and any pending push."""
        from digsync.deploy.status import pending_line, status

        config = self._config()
        hidden = self.hidden(self._stored())
        marker = pending.read(self.state / config.project)
        kind = self._target_kind(config)
        try:
            target, ledger = self.pool.get(config)
            kind = target.kind
            report = status(config, target, ledger)  # its drift names a pending push
            drift, revision = list(report.drift), report.server_revision
            back = report.rolled_back
        except DigsyncError as exc:
            # down, or not set up (no TD_API_KEY): say so, and keep the pending push
            drift, revision, back = [f"cannot read the target's state: {exc}"], None, None
            if marker is not None:
                drift.insert(0, pending_line(marker))
        drift = [scrub(line, hidden) for line in drift]
        return {
            "project": config.project,
            "in_sync": not drift,
            "server_revision": revision,
            "drift": drift,
            "pending": marker,
            "target": kind,
            "rolled_back": back,
        }

    def _target_kind(self, config: Config) -> str:
        """The target's kind as flag, environment and config.yaml choose it."""
        try:
            resolved = settings(
                self.choice.target, self.choice.endpoint, config.target, self.path.parent
            )
        except InputError:  # e.g. the digdag target without an endpoint: still that kind
            chosen = self.choice.target or os.environ.get("DIGSYNC_TARGET")
            return str(chosen or config.target.get("type") or "local")
        return resolved.kind

    def history(self) -> dict[str, Any]:
        """The audit log (newest first) and the revisions beside the push ledger."""
        from digsync.deploy.status import history

        config = self._config()
        keys = ("revision", "created_at", "who", "action", "config_hash", "result", "current")
        with self._masked_failures():
            target, ledger = self.pool.get(config)
            rows = history(config, target, ledger)
        revisions = [{k: row.get(k) for k in keys} for row in rows]
        fields = ("time", "who", "action", "diff", "result", "revision", "message")
        audit = [
            {k: entry.get(k) for k in fields}
            for entry in reversed(self.audit.entries(self._audit_key))
        ]
        return {"project": config.project, "audit": audit, "revisions": revisions}

    def rollback(
        self, revision: str | None, author: str | None = None, restore_config: bool = False
    ) -> dict[str, Any]:
        """Re-push an earlier revision as a new one; config.yaml is left alone unless
        ``restore_config``: then the config that revision was pushed from replaces it,
        under the same lock as saves (refused, nothing changed, when no copy is kept)."""
        from digsync.deploy.rollback import NoConfigCopy, rollback

        author = author or who()
        with configfile.locked(self.path, self.lock_wait), self._masked_failures():
            config = self._config()
            target, ledger = self.pool.get(config)
            entry = {
                "action": "rollback",
                "who": author,
                "config": self._audit_key,
                "project": config.project,
                "diff": "",
            }
            try:
                result = rollback(
                    config, target, ledger, revision, author, restore_config, lock=False
                )
            except NoConfigCopy as exc:
                raise RollbackRefused(str(exc), "no_config_copy") from None
            except InputError as exc:
                raise RollbackRefused(str(exc)) from None
            except DigsyncError as exc:  # the push failed: a change attempted is recorded
                message = scrub(str(exc), self.hidden())
                self.audit.append({**entry, "result": "failed", "message": message})
                raise TargetFailed(message) from None
            restored = f"; restored {result.config_path}" if result.config_restored else ""
            self.audit.append(
                {
                    **entry,
                    "result": result.status,
                    "revision": result.new_revision,
                    "message": f"rolled back to {result.to_revision} "
                    f"(was {result.from_revision}){restored}; {result.advice}",
                }
            )
        return {"success": True, **result._asdict()}

    # --- secrets ----------------------------------------------------------------------

    def hidden(self, *data: Any) -> set[str]:
        """What no answer, log or file may show: the webhook URLs of the configs given
        (config.yaml's own when none is) and the credentials this process holds."""
        found = credentials()
        for item in data or (self._stored(),):
            found |= secret_values(item)
        return found

    @contextmanager
    def _masked_failures(self, *data: Any) -> Iterator[None]:
        """A target failure leaves as TargetFailed with every secret masked: a server
        message may echo a webhook URL or a key."""
        try:
            yield
        except _OWN_ERRORS:
            raise
        except DigsyncError as exc:
            hidden = self.hidden(self._stored(), *data)
            raise TargetFailed(scrub(str(exc), hidden)) from None

    def _config(self, snap: configfile.Snapshot | None = None) -> Config:
        """config.yaml checked (as read in ``snap``, or read now)."""
        snap = snap or configfile.read(self.path)
        if snap.data is None:
            raise self._missing()
        try:
            text = snap.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.label}: cannot read config: {exc}") from None
        return parse_config(text, self.label)

    def _missing(self) -> ConfigMissing:
        return ConfigMissing(f"{self.label}: no such config file (create one with: digsync init)")


def _source_problems(config: Config) -> list[Problem]:
    """Schedule-only mode renders the hand-written .dig beside config.yaml: it must be there
    (a config is data, so only the server, which has the folder, can tell)."""
    if config.source is None:
        return []
    from digsync.render.schedule_only import SourceError, read_source

    try:
        read_source(config)
    except SourceError as exc:
        why = exc.why
    else:
        return []
    return [
        Problem(
            None,
            "workflow.source",
            f"{config.source}: {why}",
        )
    ]


LOCKED: tuple[tuple[PathKey, str], ...] = (
    (("target",), "the push target"),
    (("warehouse",), "the warehouse the tasks read and write"),
    (("workflow", "project"), "the project pushed to"),
    (("workflow", "source"), "the hand-written workflow pushed"),
    (("workflow", "td_api_server"), "the API host the tasks send the TD key to"),
    (("workflow", "docker_image"), "the image the tasks run in, with the TD key"),
)
"""What the API cannot change: where pushes, files and credentials go. An edit of
config.yaml on the server can."""


def _keep_locked(new: Any, stored: Any) -> None:
    """A locked setting the request leaves out keeps its stored value (the server owns it)."""
    if not isinstance(new, dict):
        return
    for path, _ in LOCKED:
        value = _at(stored, path)
        if value is None or _has(new, path):
            continue
        node = new
        for key in path[:-1]:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[path[-1]] = copy.deepcopy(value)


def _has(data: Any, path: PathKey) -> bool:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True


def _locked_changes(new: Any, stored: Any) -> list[Problem]:
    """A problem for each locked setting, and each event's Slack webhooks, that differ."""
    problems = []
    for path, what in LOCKED:
        if not same(_at(new, path), _at(stored, path)):
            problems.append(
                Problem(
                    None,
                    format_path(path),
                    f"{what} cannot be changed through the API",
                    f"edit {format_path(path)} in config.yaml on the server",
                )
            )
    events = {*_events(new), *_events(stored)}
    for event in sorted(events, key=str):
        if _webhooks(new, event) != _webhooks(stored, event):
            problems.append(
                Problem(
                    None,
                    f"notifications.{event}.channels",
                    "Slack webhooks (channel and secret) cannot be added, changed or removed "
                    "through the API",
                    "edit the Slack channels in config.yaml on the server",
                )
            )
    return problems


def _channels_of(key_path: str) -> str:
    """notifications.on_error.channels[1].channel -> notifications.on_error.channels"""
    return key_path.split("[", 1)[0]


def _at(data: Any, path: PathKey) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _events(data: Any) -> list[Any]:
    node = _at(data, ("notifications",))
    return list(node) if isinstance(node, dict) else []


def _webhooks(data: Any, event: Any) -> list[tuple[Any, Any]]:
    """The Slack channels' webhook settings of one event, in order."""
    channels = _at(data, ("notifications", event, "channels"))
    if not isinstance(channels, list):
        return []
    return [
        (ch.get("channel"), ch.get("secret"))
        for ch in channels
        if isinstance(ch, dict) and (ch.get("type") == "slack" or "channel" in ch or "secret" in ch)
    ]


def _data_of(text: str | None, label: str) -> Any:
    """Config text as data; None when there is none or it is not YAML."""
    if not text:
        return None
    try:
        return load(text, label).data
    except YamlSyntaxError:
        return None


def _jsonable(value: Any) -> Any:
    """File data as JSON can carry it: .inf and .nan (YAML only) become their YAML text."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if value != value else (".inf" if value > 0 else "-.inf")
    return value


def _outcome(etag: str, result: PushResult, warnings: tuple[Problem, ...]) -> SaveOutcome:
    failed = result.status == "failed"
    return SaveOutcome(
        etag=etag,
        workflow_updated=result.status == "pushed",
        revision=result.revision,
        message=result.message,
        warnings=warnings,
        schedule_check=result.warnings,
        push_error=result.message if failed else None,
        needs_adopt=result.needs_adopt,
    )
