"""config -> workflow project files, built as data and serialised; deterministic."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, NamedTuple

from digsync import __version__
from digsync.config.model import Channel, Config, Notify
from digsync.yamlio.emit import dump

DELTA_REPORT = "queries/delta_report.sql"
TASKS_PACKAGE = "digsync_tasks"
"""The project package of the py> tasks. Digdag's runner appends the project folder to
sys.path, so a module of the same name installed in the image would win: hence a name
no image has."""
DEFAULT_TABLES = {"field_metadata": "field_metadata", "sync_log": "sync_log"}
API_KEY_ENV = {"TD_API_KEY": "${secret:td.apikey}"}
WAREHOUSE_ENV = "DIGSYNC_WAREHOUSE"
"""The env variable that points the tasks at a local warehouse (runtime/__init__.py)."""

SUCCESS_TEXT = (
    "Semantic layer sync ${session_date} finished: ${sync_metadata.new_tables} new tables, "
    "${sync_metadata.new_columns} new columns, ${sync_metadata.auto_gen_count} "
    "descriptions generated."
)
ERROR_TEXT = (
    "Semantic layer sync failed (session ${session_time}, attempt ${attempt_id}): ${error.message}"
)
SUBJECTS = {
    "on_error": "Semantic layer sync failed",
    "on_sync_complete": "Semantic layer sync finished",
}


class Project(NamedTuple):
    """A rendered workflow project: project-relative path -> file bytes."""

    name: str
    files: dict[str, bytes]


def render_workflow(config: Config, config_label: str = "config.yaml") -> dict[str, Any]:
    """The .dig document as data, keys in the order they are written."""
    doc: dict[str, Any] = {"timezone": config.schedule.timezone}
    if config.schedule.directive is not None:
        doc["schedule"] = config.schedule.directive
    tables = {"digsync_tables": _tables(config)}
    if config.warehouse.is_local:  # self-hosted Digdag: tasks run on the host, no TD
        python = {"py": {"python": config.warehouse.python}} if config.warehouse.python else {}
        doc["_export"] = {**python, **tables}
    else:
        doc["_export"] = {
            "td": {"database": config.semantic_database},
            "docker": {"image": config.docker_image},
            **tables,
        }
    doc["+detect_changes"] = {
        "py>": f"{TASKS_PACKAGE}.detect_schema_changes",
        "_env": _task_env(config),
        **_sync_params(config),
    }
    on_changes: dict[str, Any] = {
        "+sync_metadata": {
            "py>": f"{TASKS_PACKAGE}.sync_metadata",
            "_env": _task_env(config),
            **_sync_params(config),
        },
        "+delta_report": _delta_report(config),
    }
    success = _notify_group(config.on_sync_complete, "on_sync_complete", SUCCESS_TEXT)
    if success:
        on_changes["+notify_success"] = success
    doc["+sync_if_changed"] = {
        "if>": "${detect_changes.has_changes}",
        "_do": on_changes,
        "_else_do": {"+nothing_to_do": {"echo>": "No schema changes detected; nothing to sync."}},
    }
    failure = _notify_group(config.on_error, "on_error", ERROR_TEXT)
    if failure:
        doc["_error"] = {"+notify_error": failure}
    return doc


def _delta_report(config: Config) -> dict[str, Any]:
    """td> runs the report query on TD; on a local warehouse a py> task runs the same
    report against the SQLite store."""
    if config.warehouse.is_local:
        return {
            "py>": f"{TASKS_PACKAGE}.delta_report",
            "_env": _task_env(config),
            "semantic_database": config.semantic_database,
        }
    return {"td>": DELTA_REPORT, "database": config.semantic_database}


def _task_env(config: Config) -> dict[str, str]:
    """The py> tasks' environment: on TD the API key as a secret and the API host when
    not us; on a local warehouse only its folder."""
    if config.warehouse.is_local:
        return {WAREHOUSE_ENV: config.warehouse.folder(config.path)}
    env = dict(API_KEY_ENV)
    if config.td_api_server:
        env["TD_API_SERVER"] = config.td_api_server
    return env


def task_params(config: Config) -> dict[str, Any]:
    """Every parameter the rendered workflow gives its py> tasks: their own entries in
    the .dig and digsync_tables from its _export (the one definition; digsync sync runs
    the tasks with these)."""
    return {**_sync_params(config), "digsync_tables": _tables(config)}


def _tables(config: Config) -> dict[str, str]:
    return {**DEFAULT_TABLES, **config.tables}


def _sync_params(config: Config) -> dict[str, Any]:
    """The entries each py> task has in the .dig (task_params adds what _export gives)."""
    params: dict[str, Any] = {
        "semantic_database": config.semantic_database,
        "databases": list(config.databases),
        "exclude_patterns": list(config.exclude_patterns),
        "sync_mode": config.sync_mode,
    }
    if config.sync_options:
        params["sync_options"] = dict(config.sync_options)
    if config.auto_generation:
        params["auto_generation"] = config.auto_generation
    if not config.create_if_missing:
        params["create_if_missing"] = False
    return params


def _notify_group(notify: Notify, event: str, default_text: str) -> dict[str, Any]:
    """One task per channel. With two or more they run in parallel, so a failed Slack
    POST cannot keep the email from going out (in a sequential group it would)."""
    tasks: dict[str, Any] = {"_parallel": True} if len(notify.channels) > 1 else {}
    for i, channel in enumerate(notify.channels):
        tasks[f"+{channel.type}_{i}"] = _channel_task(channel, event, default_text)
    return tasks


def _channel_task(channel: Channel, event: str, default_text: str) -> dict[str, Any]:
    text = channel.message_template or default_text
    if channel.type == "slack":
        return {
            "http>": f"${{secret:{channel.secret_key}}}",
            "method": "POST",
            "content": {"text": text},
            "content_format": "json",
        }
    task: dict[str, Any] = {
        "mail>": {"data": text},
        "subject": channel.subject or SUBJECTS[event],
        "to": list(channel.recipients),
    }
    if channel.sender:
        task["from"] = channel.sender
    # Digdag reads `port` from the task even when the mail.port secret is set.
    task["port"] = channel.smtp_port
    if channel.smtp_port == SMTPS_PORT:
        # Digdag's default is STARTTLS (tls: true) on a plain connection; port 465 speaks
        # TLS from the first byte (SMTPS), which is Digdag's `ssl: true`.
        task["ssl"] = True
        task["tls"] = False
    return task


SMTPS_PORT = 465


def config_label(config: Config) -> str:
    """How the header names the config: its file name. The path as typed (./config.yaml,
    /abs/config.yaml, sub/config.yaml) would make the same config render different
    bytes, and so a new revision on every push from another folder."""
    return Path(config.path).name


GENERATED_MARK = b"# Generated by digsync "
"""How every generated .dig begins (generate recognises its own files by it)."""


def header(config: Config, config_label: str) -> str:
    """Comment lines that say the file is generated, how, and from which config."""
    label = "".join(ch if ch.isprintable() else "?" for ch in config_label)
    return (
        f"{GENERATED_MARK.decode()}{__version__}. Do not edit: change the config and regenerate.\n"
        f"# Command: digsync generate --config {shlex.quote(label)}\n"
        f"# Config sha256: {config.content_hash}\n"
    )


def render_dig(config: Config, config_label: str = "config.yaml") -> str:
    """The complete .dig text."""
    return header(config, config_label) + "\n" + dump(render_workflow(config), blank_between=True)


def render_project(config: Config, config_label: str = "config.yaml") -> Project:
    """Every file of the workflow project, as bytes, keyed by project-relative path.

    In schedule-only mode (workflow.source) the project is the hand-written workflow's
    folder with its schedule rewritten: that is what plan and push must send."""
    if config.source:
        from digsync.render.schedule_only import source_project

        return Project(config.project, source_project(config))
    files = {
        f"{config.workflow_name}.dig": render_dig(config, config_label).encode("utf-8"),
        **runtime_files(),
    }
    if not config.warehouse.is_local:
        files[DELTA_REPORT] = _package_file(DELTA_REPORT)
    return Project(config.project, dict(sorted(files.items())))


_PACKAGE = Path(__file__).parent.parent  # digsync/: queries/ and runtime/ sit there
_CACHE: dict[str, bytes] = {}


def _package_file(name: str) -> bytes:
    if name not in _CACHE:
        _CACHE[name] = (_PACKAGE / name).read_bytes()
    return _CACHE[name]


def runtime_files() -> dict[str, bytes]:
    """The workflow's py> tasks: digsync/runtime/*.py as the project's package digsync_tasks/
    (the local demo, files named _local*, stays home)."""
    if not _RUNTIME:
        names = sorted(
            p.name for p in (_PACKAGE / "runtime").glob("*.py") if not p.name.startswith("_local")
        )
        _RUNTIME.update({f"{TASKS_PACKAGE}/{n}": _package_file(f"runtime/{n}") for n in names})
    return dict(_RUNTIME)


_RUNTIME: dict[str, bytes] = {}
"""runtime_files(), read once per process like _package_file (a batch renders it per
project)."""
