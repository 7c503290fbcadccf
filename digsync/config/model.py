"""Load and check config.yaml; the only module that reads it.

Every problem is collected with file:line:col, key path, expected/found and a hint,
then raised together as one ConfigError. Warnings ride along on the Config.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from digsync.config.schema import DEFAULT_IMAGE, FREQUENCIES, SECTIONS
from digsync.config.spec import Validator, describe_value
from digsync.errors import ConfigError, InputError, Mark, Problem, ScheduleError, did_you_mean
from digsync.yamlio.load import Loaded, PathKey, load

SCHEDULE_PATH: PathKey = ("sync", "schedule")

_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_DAY_NAMES = {
    **{d.lower(): d for d in _DAYS},
    **{
        full: short
        for full, short in zip(
            ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"),
            _DAYS,
            strict=True,
        )
    },
}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\Z")
_WEBHOOK = re.compile(r"https://[^\s]+")
_MUSTACHE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


class Channel(NamedTuple):
    """A notification channel. ``secret_key`` names the project secret with the webhook."""

    type: str
    secret_key: str | None = None
    webhook_url: str | None = None
    recipients: tuple[str, ...] = ()
    sender: str | None = None
    smtp_port: int = 587
    subject: str | None = None
    message_template: str | None = None

    def __repr__(self) -> str:
        shown = self._replace(webhook_url="***" if self.webhook_url else None)
        return "Channel" + tuple.__repr__(shown)


class Notify(NamedTuple):
    enabled: bool = False
    channels: tuple[Channel, ...] = ()


class ScheduleSettings(NamedTuple):
    """The schedule as config.yaml says it, normalised; ``directive`` is the .dig block."""

    frequency: str
    timezone: str
    directive: dict[str, object] | None


class Warehouse(NamedTuple):
    """Where the tasks run: ``td`` (Treasure Data) or ``sqlite`` (a folder of SQLite files,
    the self-hosted mode). ``path`` is as config.yaml writes it; see ``folder``."""

    type: str = "td"
    path: str | None = None
    python: str | None = None

    @property
    def is_local(self) -> bool:
        return self.type == "sqlite"

    def folder(self, config_path: str) -> str:
        """The warehouse folder as an absolute path: a relative ``path`` is taken from
        config.yaml's folder (the tasks run in a temporary folder on the server)."""
        if self.path is None:
            raise ValueError("warehouse.path is set only for type sqlite")
        base = Path(config_path).parent
        return os.path.normpath(os.path.abspath(base / Path(self.path).expanduser()))


class Config(NamedTuple):
    path: str
    semantic_database: str
    databases: tuple[str, ...]
    exclude_patterns: tuple[str, ...]
    sync_mode: str
    schedule: ScheduleSettings
    on_error: Notify
    on_sync_complete: Notify
    project: str
    workflow_name: str
    docker_image: str
    source: str | None
    create_if_missing: bool
    tables: dict[str, str]
    sync_options: dict[str, Any]
    content_hash: str
    warnings: tuple[Problem, ...] = ()
    target: dict[str, Any] = {}  # noqa: RUF012 - never mutated; push settings, not rendered
    auto_generation: dict[str, Any] = {}  # noqa: RUF012 - never mutated; py> task parameter
    td_api_server: str | None = None
    warehouse: Warehouse = Warehouse()

    def secrets(self) -> dict[str, str]:
        """Project secrets the push step must set: key -> webhook URL."""
        out: dict[str, str] = {}
        for notify in (self.on_error, self.on_sync_complete):
            for ch in notify.channels:
                if ch.secret_key and ch.webhook_url:
                    out[ch.secret_key] = ch.webhook_url
        return out


def load_config(path: str | Path) -> Config:
    """Read and check a config file; raises ConfigError with every problem."""
    return read_config(path)[0]


def read_config(path: str | Path) -> tuple[Config, bytes]:
    """:func:`load_config`, with the file's bytes as read (what a push keeps)."""
    file = Path(path)
    try:
        data = file.read_bytes()
        # as read_text reads it: universal newlines
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError:
        raise InputError(f"{file}: no such config file (create one with: digsync init)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read config: {exc}") from None
    return parse_config(text, str(file)), data


def parse_config(text: str, path: str = "config.yaml") -> Config:
    """Check config text; a YAML syntax error is reported as a one-problem ConfigError."""
    from digsync.errors import YamlSyntaxError

    try:
        loaded = load(text, path)
    except YamlSyntaxError as exc:
        raise ConfigError([Problem(exc.mark, "", exc.message)]) from None
    return config_from_loaded(loaded, path)


def config_from_loaded(loaded: Loaded, path: str = "config.yaml") -> Config:
    """Check config text already read by :func:`digsync.yamlio.load.load`."""
    loaded.marks.setdefault((), Mark(path, 1, 1))  # an empty file still has a place
    return check_loaded(loaded, path)


def config_from_data(data: Any, path: str = "<request>") -> Config:
    """Check config given as data (JSON from the API); problems have no line numbers."""
    return check_loaded(Loaded(data=data), path)


def check_loaded(loaded: Loaded, path: str) -> Config:
    v = Validator(loaded)
    for mark, key_path in loaded.duplicates:
        v.problems.append(Problem(mark, _dotted(key_path), "duplicate key; the last one would win"))
    data = loaded.data
    if not isinstance(data, dict):
        v.add((), f"expected a mapping of sections; got {describe_value(data)}")
        raise ConfigError(v.problems)
    for key, value in data.items():
        spec = SECTIONS.get(key) if isinstance(key, str) else None
        if spec is None:
            v.add(
                (key,),
                "unknown section, ignored by digsync",
                did_you_mean(str(key), list(SECTIONS)),
                severity="warning",
                key_mark=True,
            )
        elif value is not None:
            v.check(spec, value, (key,))
    for name in ("semantic_database", "scope"):
        if data.get(name) is None:
            v.add((name,), "missing required section")
    shape_errors = any(p.severity == "error" for p in v.problems)
    try:
        config = _build(v, data, path)
    except (TypeError, KeyError, AttributeError, ValueError):
        if not shape_errors:  # a bug, not a config problem
            raise
    if any(p.severity == "error" for p in v.problems):
        raise ConfigError(_in_file_order(v.problems))
    return config


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems sorted by position, so the shape and meaning checks read as one list."""
    return sorted(problems, key=lambda p: (p.mark is None, p.mark[1:] if p.mark else (0, 0)))


def _dotted(path: PathKey) -> str:
    from digsync.config.spec import format_path

    return format_path(path)


def _section(data: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    node: Any = data
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _build(v: Validator, data: dict[str, Any], path: str) -> Config:
    sdb = _section(data, "semantic_database")
    scope = _section(data, "scope")
    sync = _section(data, "sync")
    workflow = _section(data, "workflow")
    options = {
        k: sync[k]
        for k in (
            "merge_strategy",
            "create_backup",
            "dry_run_by_default",
            "audit_logging",
            "batch_size",
        )
        if sync.get(k) is not None
    }
    # Checked before Config(...) is built: its warnings are read from v as it is made.
    auto_generation = _auto_generation(v, _section(data, "auto_generation"))
    warehouse = _warehouse(v, _section(data, "warehouse"), workflow, _section(data, "target"))
    _check_target(v, _section(data, "target"))
    _check_source(v, workflow)
    if not warehouse.is_local:
        _check_image(v, workflow)
    td_api_server = (
        None if warehouse.is_local else _td_api_server(v, workflow, _section(data, "target"))
    )
    return Config(
        path=path,
        semantic_database=sdb["name"],
        databases=tuple(scope["databases"]),
        exclude_patterns=tuple(scope.get("exclude_patterns") or ()),
        sync_mode=sync.get("sync_mode") or "full",
        schedule=_schedule(v, _section(data, "sync", "schedule")),
        on_error=_notify(v, data, "on_error"),
        on_sync_complete=_notify(v, data, "on_sync_complete"),
        project=workflow.get("project") or "semantic_layer_sync",
        workflow_name=workflow.get("name") or "semantic_layer_sync",
        docker_image=workflow.get("docker_image") or DEFAULT_IMAGE,
        source=workflow.get("source"),
        create_if_missing=sdb.get("create_if_missing", True) is not False,
        tables=dict(sdb.get("tables") or {}),
        sync_options=options,
        content_hash=_content_hash(data),
        warnings=tuple(_in_file_order([p for p in v.problems if p.severity == "warning"])),
        target=dict(_section(data, "target")),
        auto_generation=auto_generation,
        td_api_server=td_api_server,
        warehouse=warehouse,
    )


def _content_hash(data: dict[str, Any]) -> str:
    """Hash of what the workflow is made from (not where it is pushed)."""
    known = {k: data[k] for k in sorted(SECTIONS) if k in data and k != "target"}
    blob = json.dumps(known, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --- schedule -----------------------------------------------------------------------


def _schedule(v: Validator, s: dict[str, Any]) -> ScheduleSettings:
    at = SCHEDULE_PATH
    tz = s.get("timezone") or "UTC"
    _check_timezone(v, tz)
    frequency = s.get("frequency") or "daily"
    if frequency not in FREQUENCIES:  # already reported
        return ScheduleSettings(frequency, tz, None)
    if s.get("enabled", True) is False or frequency == "manual":
        return ScheduleSettings("manual", tz, None)
    value: object
    if frequency == "hourly":
        kind, value = "hourly>", _hourly_time(v, s)
    elif frequency == "daily":
        kind, value = "daily>", _day_time(v, s)
    elif frequency == "weekly":
        kind, value = "weekly>", f"{_weekday(v, s)},{_day_time(v, s)}"
    elif frequency == "monthly":
        day = s.get("day_of_month") or 1
        if isinstance(day, int) and day > 28:
            v.add(
                (*at, "day_of_month"),
                f"day {day} does not occur in every month; those months have no run",
                severity="warning",
            )
        kind, value = "monthly>", f"{day},{_day_time(v, s)}"
    elif frequency == "interval":
        minutes = s.get("interval_minutes") or 60
        kind, value = _interval(v, minutes if isinstance(minutes, int) and minutes > 0 else 60)
    else:
        expr = s.get("cron_expression")
        if not expr:
            v.add(
                at,
                "frequency 'custom' needs cron_expression",
                "e.g. cron_expression: '0 */6 * * *'",
            )
            return ScheduleSettings(frequency, tz, None)
        kind, value = "cron>", " ".join(expr.split())
    block: dict[str, object] = {kind: value}
    for option in ("skip_on_overtime", "skip_delayed_by", "start", "end"):
        if s.get(option) is not None:
            block[option] = s[option]
    return ScheduleSettings(frequency, tz, _check_directive(v, block, tz, kind))


def _interval_block(minutes: int) -> tuple[str, object] | None:
    """Digdag's minutes_interval>: N is the cron pattern */N on the minute field, so it is
    a true interval only when N divides 60; whole hours that divide a day become cron>.
    None: Digdag cannot run every ``minutes`` minutes."""
    if minutes < 1:
        return None
    if 60 % minutes == 0:
        return "minutes_interval>", minutes
    hours, rest = divmod(minutes, 60)
    if rest == 0 and 24 % hours == 0:
        return "cron>", "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"
    return None


INTERVAL_MINUTES: tuple[int, ...] = tuple(n for n in range(1, 1441) if _interval_block(n))
"""Every interval_minutes Digdag can keep: the one list the check accepts and its hint
names (divisors of 60, then whole hours that divide 24)."""


def interval_hint() -> str:
    """The hint of the interval_minutes error, naming every value of INTERVAL_MINUTES."""
    minutes = [n for n in INTERVAL_MINUTES if n <= 60]
    hours = [n for n in INTERVAL_MINUTES if n > 60]
    return (
        f"use a divisor of 60 ({_runs(minutes)}), a whole number of hours that divides 24 "
        f"({_runs(hours)}), or frequency: custom"
    )


def _runs(values: list[int]) -> str:
    """1, 2, 3, 4, 10 -> '1-4, 10' (three or more consecutive values as a range)."""
    parts: list[str] = []
    start = 0
    for i, n in enumerate(values):
        if i + 1 < len(values) and values[i + 1] == n + 1:
            continue
        run = values[start : i + 1]
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
        start = i + 1
    return ", ".join(parts)


def _interval(v: Validator, minutes: int) -> tuple[str, object]:
    block = _interval_block(minutes)
    if block is not None:
        return block
    v.add(
        (*SCHEDULE_PATH, "interval_minutes"),
        f"Digdag cannot run every {minutes} minutes: minutes_interval>: N matches minutes "
        f"*/N of each hour, so runs would not be {minutes} minutes apart",
        interval_hint(),
    )
    return "minutes_interval>", minutes


def _check_timezone(v: Validator, tz: str) -> None:
    from digsync.schedule.engine import parse_timezone

    try:
        parse_timezone(tz)
    except ScheduleError as exc:
        message, hint = _split_hint(str(exc))
        if isinstance(tz, str) and not (hint or "").startswith("did you mean"):
            hint = _zone_suggestion(tz) or hint
        v.add((*SCHEDULE_PATH, "timezone"), message, hint)


def _split_hint(text: str) -> tuple[str, str | None]:
    """'Unknown time zone name: X (did you mean ...?)' -> the message and the hint."""
    m = re.fullmatch(r"(.*?) \((.*)\)", text, re.DOTALL)
    return (m.group(1), m.group(2)) if m else (text, None)


def _zone_suggestion(tz: str) -> str | None:
    """A did-you-mean for a mistyped IANA name (Europe/Londn -> Europe/London)."""
    if not tz or tz[0] in "+-" or "/" not in tz:
        return None
    from zoneinfo import available_timezones

    return did_you_mean(tz, sorted(available_timezones()))


def _check_directive(
    v: Validator, block: dict[str, object], tz: str, kind: str
) -> dict[str, object] | None:
    """Validate the rendered block with the same code the linter uses."""
    from digsync.schedule.engine import parse_schedule

    if any(p.severity == "error" and p.key_path.startswith("sync.schedule") for p in v.problems):
        return block  # its own fields are wrong already: one error each is enough
    try:
        return parse_schedule(block, tz).directive()
    except ScheduleError as exc:
        field_for = {"cron>": "cron_expression", "minutes_interval>": "interval_minutes"}
        key = next((k for k in ("skip_delayed_by", "start", "end") if k in str(exc)), None)
        key = key or field_for.get(kind, "time")
        v.add((*SCHEDULE_PATH, key), str(exc))
        return None


def _parse_time(v: Validator, text: str) -> tuple[int, int, int | None] | None:
    m = _TIME.match(text) if isinstance(text, str) else None
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None


def _day_time(v: Validator, s: dict[str, Any]) -> str:
    """HH:MM:SS (HH:MM accepted and completed) for daily, weekly and monthly."""
    text = s.get("time") or "02:00:00"
    at = (*SCHEDULE_PATH, "time")
    parts = _parse_time(v, text)
    if parts is None:
        v.add(at, f"expected HH:MM:SS; got {describe_value(text)}", 'e.g. time: "03:00:00"')
        return "00:00:00"
    hour, minute, second = parts
    if hour > 23 or minute > 59 or (second or 0) > 59:
        v.add(at, f"expected HH:MM:SS with hours 0-23, minutes and seconds 0-59; got {text!r}")
        return "00:00:00"
    return f"{hour:02d}:{minute:02d}:{second or 0:02d}"


def _hourly_time(v: Validator, s: dict[str, Any]) -> str:
    """MM:SS picks the minute; an HH:MM:SS time is ignored, as the original generator did."""
    text = s.get("time")
    at = (*SCHEDULE_PATH, "time")
    if text is None:
        return "00:00"
    parts = _parse_time(v, text)
    if parts is None:
        v.add(at, f"expected MM:SS for hourly; got {describe_value(text)}", 'e.g. time: "30:00"')
        return "00:00"
    first, second_part, third = parts
    if third is not None:
        v.add(
            at,
            f"hourly runs ignore an HH:MM:SS time ({text!r}); the run is at :00",
            'write MM:SS, e.g. "15:00", to pick the minute',
            severity="warning",
        )
        return "00:00"
    if first > 59 or second_part > 59:
        v.add(at, f"expected MM:SS with minutes and seconds 0-59; got {text!r}")
        return "00:00"
    return f"{first:02d}:{second_part:02d}"


def _weekday(v: Validator, s: dict[str, Any]) -> str:
    day = s.get("day_of_week", "Monday")
    at = (*SCHEDULE_PATH, "day_of_week")
    if isinstance(day, str) and re.fullmatch(r"[0-9]{1,3}", day.strip()):
        day = int(day)  # "1" as Digdag's weekly> reads it: 0-7
    if isinstance(day, int):
        if 0 <= day <= 7:
            return _DAYS[day % 7]
        v.add(at, f"expected a day name or 0-7 (0 and 7 are Sunday); got {day}")
        return "Mon"
    short = _DAY_NAMES.get(str(day).strip().lower())
    if short is None:
        v.add(
            at,
            f"expected a day name such as Monday or Mon; got {describe_value(day)}",
            did_you_mean(str(day), [*(n.capitalize() for n in _DAY_NAMES)]),
        )
        return "Mon"
    return short


# --- notifications ------------------------------------------------------------------


def _notify(v: Validator, data: dict[str, Any], event: str) -> Notify:
    node = _section(data, "notifications", event)
    at: PathKey = ("notifications", event)
    enabled = node.get("enabled", False) is True
    raw = node.get("channels") or []
    channels = tuple(
        _channel(v, ch, (*at, "channels", i), event, i, enabled) for i, ch in enumerate(raw)
    )
    if enabled and not channels:
        v.add(at, "enabled but has no channels; nothing will be sent", severity="warning")
    return Notify(enabled, channels if enabled else ())


def _channel(
    v: Validator, ch: dict[str, Any], at: PathKey, event: str, index: int, enabled: bool
) -> Channel:
    kind = ch["type"]
    if kind not in ("slack", "email"):  # already reported; its other keys mean nothing yet
        return Channel(str(kind))
    for text_key in ("subject", "message_template"):
        if isinstance(ch.get(text_key), str):
            _check_template(v, ch[text_key], (*at, text_key))
    if kind == "slack":
        for wrong in ("recipients", "from", "subject", "smtp_port"):
            if wrong in ch:
                v.add((*at, wrong), f"'{wrong}' is for email channels", key_mark=True)
        url, secret = ch.get("channel"), ch.get("secret")
        if bool(url) == bool(secret):
            v.add(
                at,
                "a slack channel needs exactly one of 'channel' (webhook URL) or 'secret'",
                "channel: https://hooks.slack.com/services/... or secret: slack.webhook",
            )
        if isinstance(url, str) and url and not _WEBHOOK.fullmatch(url):
            v.add(
                (*at, "channel"),
                f"expected an https:// incoming-webhook URL; got {_shown_channel(url)}"
                + ("" if enabled else " (ignored while this notification is disabled)"),
                "a Slack channel name cannot be posted to: create an incoming webhook for the "
                "channel and give its URL here, or set it as a project secret and use secret:",
                severity="error" if enabled else "warning",
            )
        key = secret or f"digsync.{event}.slack_{index}"
        return Channel("slack", key, url, message_template=ch.get("message_template"))
    for wrong in ("channel", "secret"):
        if wrong in ch:
            v.add((*at, wrong), f"'{wrong}' is for slack channels", key_mark=True)
    if not ch.get("recipients"):
        v.add(at, "an email channel needs 'recipients'", "recipients: [data-team@example.com]")
    return Channel(
        "email",
        recipients=tuple(ch.get("recipients") or ()),
        sender=ch.get("from"),
        smtp_port=ch.get("smtp_port") or 587,
        subject=ch.get("subject"),
        message_template=ch.get("message_template"),
    )


def _shown_channel(value: str) -> str:
    """A channel name is echoed; anything URL-like may hold a token and is not."""
    if re.fullmatch(r"[#@][\w.\-]{1,80}", value):
        return repr(value)
    return "a value that is not an https:// URL"


def _check_template(v: Validator, text: str, at: PathKey) -> None:
    """Digdag evaluates ${...} in task parameters; an unclosed one fails the task at run time,
    and http> expands ``${secret:...}`` in its content, which would post a secret (the TD
    API key) to the webhook's owner."""
    if re.search(r"\$\{\s*secret\s*:", text):
        v.add(
            at,
            "cannot name a secret: Digdag would expand ${secret:...} and send its value in "
            "the message",
            "use variables such as ${session_time}; secrets stay in the server's secret store",
        )
        return
    depth_ok = True
    i = text.find("${")
    while i != -1:
        close = text.find("}", i + 2)
        if close == -1:
            depth_ok = False
            break
        i = text.find("${", close + 1)
    if not depth_ok:
        v.add(
            at,
            "has '${' without a closing '}'; Digdag would fail evaluating it",
            "close it, or write $ followed by a space",
        )
    found = _MUSTACHE.search(text)
    if found:
        v.add(
            at,
            f"'{found.group(0)}' is sent as written: Digdag fills only ${{...}} variables",
            "use e.g. ${sync_metadata.new_tables}, ${sync_metadata.new_columns}, "
            "${detect_changes.changed_columns} or ${session_time}",
            severity="warning",
        )


def _td_api_server(v: Validator, workflow: dict[str, Any], target: dict[str, Any]) -> str | None:
    """workflow.td_api_server, else the API host of the region the config pushes to
    (target.region, or a Treasure Data target.endpoint): the py> tasks must call the
    region that holds the key, not the US default."""
    server = workflow.get("td_api_server")
    if isinstance(server, str):
        _check_trusted(v, ("workflow", "td_api_server"), server, "the py> tasks send the TD key")
        return server
    if server is not None:
        return None
    from digsync.config.regions import api_host, region_of_endpoint

    region = target.get("region")
    endpoint = target.get("endpoint")
    if isinstance(endpoint, str) and target.get("type") in (None, "td"):
        region = region_of_endpoint(endpoint) or region
    if isinstance(region, str) and region != "us":
        return api_host(region)
    return None


def _check_trusted(v: Validator, at: PathKey, url: str, what: str) -> None:
    """A host that receives a credential must be TD's or one the operator trusts."""
    from digsync.config.trust import host_problem

    problem = host_problem(url)
    if problem is not None:
        message, hint = problem
        v.add(at, f"{what} here: {message}", hint)


def _check_target(v: Validator, target: dict[str, Any]) -> None:
    endpoint = target.get("endpoint")
    if isinstance(endpoint, str) and endpoint:
        _check_trusted(v, ("target", "endpoint"), endpoint, "push sends its credential")


def _check_source(v: Validator, workflow: dict[str, Any]) -> None:
    """workflow.source names a .dig inside config.yaml's folder: relative, no '..'."""
    source = workflow.get("source")
    if not isinstance(source, str) or not source.strip():
        return
    at: PathKey = ("workflow", "source")
    parts = source.replace("\\", "/").split("/")
    if source.startswith(("/", "~")) or re.match(r"[A-Za-z]:", source):
        v.add(
            at, f"must be relative to config.yaml's folder; got {source!r}", "e.g. flows/sync.dig"
        )
    elif ".." in parts:
        v.add(at, f"may not leave config.yaml's folder ('..'); got {source!r}")
    elif not source.endswith(".dig") or not source.isprintable():
        v.add(at, f"expected the path of a .dig file; got {source!r}", "e.g. flows/sync.dig")


def _check_image(v: Validator, workflow: dict[str, Any]) -> None:
    from digsync.config.trust import TRUSTED_IMAGES, image_is_known

    image = workflow.get("docker_image")
    if isinstance(image, str) and image and not image_is_known(image):
        v.add(
            ("workflow", "docker_image"),
            "is not an image TD documents for custom scripts; the py> tasks run in it with "
            "the TD API key in their environment",
            "use " + " or ".join(TRUSTED_IMAGES) + " unless you trust this image",
            severity="warning",
        )


def _warehouse(
    v: Validator, section: dict[str, Any], workflow: dict[str, Any], target: dict[str, Any]
) -> Warehouse:
    """The warehouse section; sqlite is for self-hosted Digdag, so TD-only keys and TD
    targets do not go with it."""
    at: PathKey = ("warehouse",)
    kind = section.get("type") or "td"
    path = section.get("path")
    if kind not in ("td", "sqlite") or (path is not None and not isinstance(path, str)):
        return Warehouse()  # already reported
    if kind == "td":
        for key in ("path", "python"):
            if section.get(key) is not None:
                v.add(
                    (*at, key),
                    f"{key} is used only with type: sqlite (type td reads Treasure Data)",
                    "add type: sqlite for a local warehouse, or remove " + key,
                    key_mark=True,
                )
        return Warehouse()
    if not path:
        v.add(
            (*at, "path"),
            "missing: type sqlite needs the folder of <database>.sqlite files",
            "e.g. path: warehouse (relative to config.yaml's folder)",
        )
        return Warehouse("sqlite", None)
    if "$" in path or not path.isprintable():
        v.add(
            (*at, "path"),
            "must be a plain folder path: Digdag evaluates '${' in it as a variable and "
            "turns '$$' into '$'",
            "use a path without '$' or control characters",
        )
    if target.get("type") in ("td", "tdx"):
        v.add(
            (*at, "type"),
            f"warehouse type sqlite runs only on self-hosted Digdag; target.type "
            f"{target['type']} pushes to Treasure Data",
            "use target type digdag (or local), or warehouse type td",
        )
    for key in ("docker_image", "td_api_server"):
        if workflow.get(key) is not None:
            v.add(
                ("workflow", key),
                "is ignored with warehouse type sqlite (the tasks run on the Digdag host)",
                severity="warning",
                key_mark=True,
            )
    python = section.get("python")
    return Warehouse("sqlite", path, python if isinstance(python, str) else None)


# --- auto_generation ----------------------------------------------------------------

AUTO_PATH: PathKey = ("auto_generation",)


def _auto_generation(v: Validator, section: dict[str, Any]) -> dict[str, Any]:
    """The section as the py> tasks take it; regexes compiled here so mistakes show now."""
    patterns = section.get("patterns") or []
    for i, pattern in enumerate(patterns if isinstance(patterns, list) else []):
        if not isinstance(pattern, dict):
            continue
        at: PathKey = (*AUTO_PATH, "patterns", i)
        sources = [((*at, "pattern"), pattern.get("pattern"))]
        match = pattern.get("match")
        for j, entry in enumerate(match if isinstance(match, list) else []):
            if isinstance(entry, dict):
                sources.append(((*at, "match", j, "pattern"), entry.get("pattern")))
        if all(source is None for _, source in sources):
            v.add(at, "a pattern needs 'pattern' or 'match'", "match: [{pattern: '_id$'}]")
        for where, source in sources:
            if isinstance(source, str):
                _check_regex(v, where, source)
    for where, text in _strings(section, AUTO_PATH):
        if "${" in text:
            v.add(
                where,
                "contains '${': Digdag would evaluate it as a variable before the task runs",
                "write the $ and { apart, e.g. [$]{",
            )
        elif "$$" in text:
            v.add(
                where,
                "contains '$$': Digdag turns it into '$' before the task runs",
                "write a regex's $$ as $ (one end anchor is enough), or [$][$] for two dollars",
            )
    rules = section.get("content_rules") or {}
    if isinstance(rules, dict) and rules.get("overwrite_existing") is True:
        v.add(
            (*AUTO_PATH, "content_rules", "overwrite_existing"),
            "is ignored: digsync never overwrites a description a person wrote",
            severity="warning",
        )
    parts = section.get("generate") or {}
    for name in ("business_terms", "data_classification"):
        if isinstance(parts, dict) and parts.get(name) is True:
            v.add(
                (*AUTO_PATH, "generate", name),
                "is not supported by digsync and is ignored",
                severity="warning",
            )
    return _without_nulls(section) if section.get("enabled", True) is not False else {}


def _strings(value: Any, at: PathKey) -> list[tuple[PathKey, str]]:
    if isinstance(value, str):
        return [(at, value)]
    if isinstance(value, dict):
        return [f for k, x in value.items() for f in _strings(x, (*at, k))]
    if isinstance(value, list):
        return [f for i, x in enumerate(value) for f in _strings(x, (*at, i))]
    return []


def _check_regex(v: Validator, at: PathKey, source: str) -> None:
    try:
        re.compile(source)
    except re.error as exc:
        v.add(at, f"not a valid regular expression: {exc}", "Python re syntax, e.g. '_id$'")


def _without_nulls(value: Any) -> Any:
    """Null means "default": drop such keys so the task parameters stay small and plain."""
    if isinstance(value, dict):
        return {k: _without_nulls(x) for k, x in value.items() if x is not None}
    if isinstance(value, list):
        return [_without_nulls(x) for x in value]
    return value


def check_project_name(name: str) -> None:
    """Digdag's project-name rules, plus path safety (the name becomes a folder)."""
    from digsync.config.schema import NAME_HINT, NAME_PATTERN

    if not re.fullmatch(NAME_PATTERN, name):
        raise InputError(f"--project: expected {NAME_HINT}; got {name!r}")
