"""Task parameters -> checked Settings. The .dig passes what config.yaml says, but the tasks
re-check it: a hand-edited workflow must fail with a clear message, not odd SQL."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from .autogen import AutoGeneration, compile_auto_generation
from .errors import SettingsError
from .model import StoreRef

TD_NAME = re.compile(r"[a-z0-9_]{3,255}")
"""Treasure Data database and table names (the semantic store's own names)."""
DEFAULT_TABLES = {"field_metadata": "field_metadata", "sync_log": "sync_log"}
DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 1_000_000
MODES = ("full", "delta")
_SESSION_ID = re.compile(r"[A-Za-z0-9_.:+\-]{1,128}")


@dataclass(frozen=True)
class Settings:
    """Everything one sync needs to know, checked."""

    store: StoreRef
    databases: tuple[str, ...]
    exclude_patterns: tuple[str, ...]
    sync_mode: str
    batch_size: int
    auto: AutoGeneration
    session_id: str
    session_time: str | None
    create_if_missing: bool = True

    def in_scope(self, database: str) -> bool:
        """A source database is synced when a pattern matches it and no whole-database
        exclude pattern does. Patterns are ``db_glob`` or ``db_glob.table_glob`` (the
        original system's form); the semantic database itself never is in scope."""
        if database == self.store.database:
            return False
        if not any(fnmatchcase(database, db) for db, _ in _split(self.databases)):
            return False
        return not any(
            table is None and fnmatchcase(database, db)
            for db, table in _split(self.exclude_patterns)
        )

    def table_in_scope(self, database: str, table: str) -> bool:
        """A table of an in-scope database: some pattern for its database takes the table
        (a ``db_glob`` pattern takes every table) and no ``db.table`` exclude matches it."""
        if not self.in_scope(database):
            return False
        if not any(
            fnmatchcase(database, db) and (t is None or fnmatchcase(table, t))
            for db, t in _split(self.databases)
        ):
            return False
        return not any(
            t is not None and fnmatchcase(database, db) and fnmatchcase(table, t)
            for db, t in _split(self.exclude_patterns)
        )


def _split(patterns: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """``db.table`` patterns into their parts (at the first dot); ``db`` alone: any table."""
    out: list[tuple[str, str | None]] = []
    for pattern in patterns:
        db, dot, table = pattern.partition(".")
        out.append((db, table if dot else None))
    return out


def new_run_id() -> str:
    """A fresh id for one run (one attempt) of a sync: UTC time plus randomness."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(4)


def settings_from_params(params: Mapping[str, Any]) -> Settings:
    """Build Settings from task parameters (the names the .dig uses) or the CLI's dict.

    Keys: semantic_database, databases, exclude_patterns, sync_mode, sync_options,
    auto_generation, digsync_tables, session_id, session_time, create_if_missing.
    Without a session id (the CLI) each call gets a new one.
    """
    semantic = _td_name(params.get("semantic_database"), "semantic_database")
    tables = _tables(params.get("digsync_tables"))
    options = _mapping(params.get("sync_options"), "sync_options")
    mode = params.get("sync_mode") or "full"
    if mode not in MODES:
        raise SettingsError(f"sync_mode must be 'full' or 'delta', not {mode!r}")
    auto = _mapping(params.get("auto_generation"), "auto_generation")
    create = params.get("create_if_missing", True)
    if not isinstance(create, bool):
        raise SettingsError("create_if_missing must be true or false")
    return Settings(
        store=StoreRef(semantic, tables["field_metadata"], tables["sync_log"]),
        databases=_globs(params.get("databases"), "databases", required=True),
        exclude_patterns=_globs(params.get("exclude_patterns"), "exclude_patterns"),
        sync_mode=mode,
        batch_size=_batch_size(options.get("batch_size")),
        auto=compile_auto_generation(auto),
        session_id=_session_id(params.get("session_id")),
        session_time=_optional_text(params.get("session_time"), "session_time"),
        create_if_missing=create,
    )


def _td_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not TD_NAME.fullmatch(value):
        raise SettingsError(
            f"{what} must be a Treasure Data name (3-255 lowercase letters, digits and _); "
            f"got {value!r}"
        )
    return value


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SettingsError(f"{what} must be a mapping, not {type(value).__name__}")
    return value


def _tables(value: object) -> dict[str, str]:
    given = _mapping(value, "digsync_tables")
    unknown = sorted(set(given) - set(DEFAULT_TABLES))
    if unknown:
        raise SettingsError(
            f"digsync_tables: unknown role(s) {unknown}; known: field_metadata, sync_log"
        )
    tables = {**DEFAULT_TABLES, **given}
    for role, name in tables.items():
        _td_name(name, f"digsync_tables.{role}")
    if tables["field_metadata"] == tables["sync_log"]:
        raise SettingsError("digsync_tables: field_metadata and sync_log must be different tables")
    return tables


def _globs(value: object, what: str, required: bool = False) -> tuple[str, ...]:
    if value is None:
        value = []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise SettingsError(f"{what} must be a list of glob patterns")
    patterns = tuple(value)
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern or len(pattern) > 255:
            raise SettingsError(f"{what}: {pattern!r} is not a glob pattern (1-255 characters)")
    if required and not patterns:
        raise SettingsError(f"{what} needs at least one glob pattern")
    return patterns


def _batch_size(value: object) -> int:
    if value is None:
        return DEFAULT_BATCH_SIZE
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH_SIZE:
        raise SettingsError(f"sync_options.batch_size must be an integer 1-{MAX_BATCH_SIZE}")
    return value


def _session_id(value: object) -> str:
    """Digdag's session id (a number); the CLI may pass its own; else a fresh one."""
    if value is None or value == "":
        return "manual-" + new_run_id()
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SettingsError("session_id must be a number or a string")
    text = str(value)
    if not _SESSION_ID.fullmatch(text):
        raise SettingsError(
            "session_id: up to 128 letters, digits and . _ : + - (it is pasted into "
            f"delta_report.sql by Digdag); got {text!r}"
        )
    return text


def _optional_text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64 or not value.isprintable():
        raise SettingsError(f"{what} must be a short printable string")
    return value
