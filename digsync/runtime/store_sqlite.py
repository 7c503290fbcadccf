"""The local backend: a folder of SQLite files is the warehouse (no account needed).

Each ``<name>.sqlite`` file in the folder is one source database; its tables and views,
with their declared column types, are the catalog. The semantic database is the file
named after it in the same folder (``semantic_layer_v1.sqlite``), and is never scanned.

Every value is a bound parameter (``?``); the only identifiers in SQL are the store's own
checked table names, quoted. Source files are opened read-only. Rows are upserted by
(database, table, column), one transaction per batch; the upsert keeps metadata a person
owns even if they edited it after the plan was made.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from os import PathLike
from pathlib import Path
from typing import Any

from .errors import CatalogError, StoreError
from .model import (
    CatalogColumn,
    LogEntry,
    MetaRow,
    Snapshot,
    StoreRef,
    StoreState,
    name_problem,
    normalise_type,
)
from .schema import (
    FIELD_COLUMNS,
    FIELD_NAMES,
    LOG_COLUMNS,
    LOG_NAMES,
    Col,
    log_from_values,
    log_to_values,
    row_from_values,
    row_to_values,
)
from .sql import ident

SUFFIX = ".sqlite"
_TYPES = {"text": "TEXT", "int": "INTEGER"}
_KEY = ("database_name", "table_name", "column_name")
_OWNED = ("description", "description_source", "tags", "is_pii", "pii_category", "autogen_session")


class LocalBackend:
    """Catalog and semantic store in a folder of SQLite files.

    ``batch_hook(i)`` (tests) runs inside the transaction of write batch ``i``; raising
    there rolls that batch back, like a crash part-way. ``statements`` counts SQL
    statements executed (a batch of rows is one statement)."""

    def __init__(self, warehouse: str | PathLike[str]) -> None:
        self.warehouse = Path(warehouse)
        self.batch_hook: Callable[[int], None] | None = None
        self.statements = 0

    def database_path(self, name: str) -> Path:
        """The file of a database; names that are not plain file names are refused."""
        problem = name_problem(name)
        if problem is None and (name.startswith(".") or any(c in name for c in "/\\")):
            problem = "is not a plain file name"
        if problem:
            raise CatalogError(f"database name {name[:80]!r} {problem}")
        return self.warehouse / (name + SUFFIX)

    # --- catalog

    def list_databases(self) -> list[str]:
        if not self.warehouse.is_dir():
            raise CatalogError(f"local warehouse {self.warehouse} is not a folder")
        return sorted(
            p.name[: -len(SUFFIX)]
            for p in self.warehouse.iterdir()
            if p.name.endswith(SUFFIX) and not p.name.startswith(".") and p.is_file()
        )

    def list_columns(self, database: str) -> list[CatalogColumn]:
        path = self.database_path(database)
        try:
            with closing(_connect(path, read_only=True)) as conn:
                found = conn.execute(
                    "SELECT m.name, p.name, p.type FROM sqlite_master AS m"
                    " JOIN pragma_table_info(m.name) AS p"
                    " WHERE m.type IN ('table', 'view')"
                    " AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                    " ORDER BY m.name, p.cid"
                ).fetchall()
                self.statements += 1
        except sqlite3.Error as exc:
            raise CatalogError(f"reading the tables of {path}: {exc}") from None
        return [CatalogColumn(database, t, c, normalise_type(ty)) for t, c, ty in found]

    # --- semantic store

    def load_state(self, store: StoreRef, session_id: str) -> StoreState:
        path = self.database_path(store.database)
        if not path.exists():
            return StoreState(Snapshot(), None, False, frozenset())
        with self._store(path, "reading the semantic store") as conn:
            present = frozenset(
                name
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            )
            versions: list[MetaRow] = []
            if store.field_metadata in present:
                _check_columns(conn, store.field_metadata, FIELD_COLUMNS)
                cursor = conn.execute(
                    f"SELECT {_names(FIELD_NAMES)} FROM {ident(store.field_metadata)}"
                )
                versions = [row_from_values(r) for r in cursor]
            done = None
            if store.sync_log in present:
                _check_columns(conn, store.sync_log, LOG_COLUMNS)
                found = conn.execute(
                    f"SELECT {_names(LOG_NAMES)} FROM {ident(store.sync_log)} WHERE session_id = ?",
                    (session_id,),
                ).fetchone()
                done = log_from_values(found) if found else None
            self.statements += 3
        return StoreState(Snapshot.from_versions(versions), done, True, present)

    def prepare(self, store: StoreRef, state: StoreState, create_if_missing: bool) -> None:
        path = self.database_path(store.database)
        if not path.exists() and not create_if_missing:
            raise StoreError(f"semantic database {path} does not exist (create_if_missing: false)")
        with self._store(path, "creating the semantic tables") as conn:
            for table, cols, key in (
                (store.field_metadata, FIELD_COLUMNS, _KEY),
                (store.sync_log, LOG_COLUMNS, ("session_id",)),
            ):
                body = ", ".join(
                    f"{ident(c.name)} {_TYPES[c.kind]}{' NOT NULL' if c.required else ''}"
                    for c in cols
                )
                primary = f"PRIMARY KEY ({_names(key)})"
                conn.execute(f"CREATE TABLE IF NOT EXISTS {ident(table)} ({body}, {primary})")
                self.statements += 1

    def write_rows(
        self, store: StoreRef, rows: list[MetaRow], superseded: list[str], batch_size: int
    ) -> None:
        """Upsert rows, one transaction per batch. ``superseded`` is not needed here: the
        primary key keeps one row per column, so an upsert replaces the old version."""
        table = ident(store.field_metadata)
        owned = _protected(table)
        updates = ", ".join(
            f"{ident(n)} = CASE WHEN {owned} THEN {table}.{ident(n)} ELSE excluded.{ident(n)} END"
            if n in _OWNED
            else f"{ident(n)} = excluded.{ident(n)}"
            for n in FIELD_NAMES
            if n not in _KEY
        )
        marks = ", ".join("?" * len(FIELD_NAMES))
        sql = (
            f"INSERT INTO {table} ({_names(FIELD_NAMES)}) VALUES ({marks})"
            f" ON CONFLICT ({_names(_KEY)}) DO UPDATE SET {updates}"
        )
        with self._store(self.database_path(store.database), "writing field metadata") as conn:
            for index, start in enumerate(range(0, len(rows), batch_size)):
                with conn:  # one transaction: committed whole or rolled back whole
                    conn.executemany(
                        sql, [row_to_values(r) for r in rows[start : start + batch_size]]
                    )
                    self.statements += 1
                    if self.batch_hook is not None:
                        self.batch_hook(index)

    def write_log(self, store: StoreRef, entry: LogEntry) -> None:
        sql = (
            f"INSERT INTO {ident(store.sync_log)} ({_names(LOG_NAMES)})"
            f" VALUES ({', '.join('?' * len(LOG_NAMES))}) ON CONFLICT (session_id) DO NOTHING"
        )
        with self._store(self.database_path(store.database), "writing the sync log") as conn, conn:
            conn.execute(sql, log_to_values(entry))
            self.statements += 1

    @contextmanager
    def _store(self, path: Path, action: str) -> Iterator[sqlite3.Connection]:
        try:
            with closing(_connect(path, read_only=False)) as conn:
                yield conn
        except sqlite3.Error as exc:
            raise StoreError(f"{action} ({path}): {exc}") from None


def _protected(table: str) -> str:
    """Same rule as ``detect.protected``, checked again at write time (``table`` quoted)."""
    return (
        f"({table}.description_source = 'manual' OR ({table}.description IS NOT NULL"
        f" AND COALESCE({table}.description_source, '') <> 'auto'))"
    )


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(path, timeout=30)


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(ident(n) for n in names)


def _check_columns(conn: sqlite3.Connection, table: str, cols: tuple[Col, ...]) -> None:
    have = {r[0] for r in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))}
    missing = [c.name for c in cols if c.name not in have]
    if missing:
        raise StoreError(f"table {table} lacks columns {missing}; it was not made by this digsync")


def set_manual_metadata(
    backend: LocalBackend,
    store: StoreRef,
    key: tuple[str, str, str],
    description: str,
    tags: tuple[str, ...] | None = None,
    pii_category: str | None = None,
) -> None:
    """What a person does: write a description (and optionally tags / PII) for a column.
    It is marked ``manual``, so no sync ever overwrites it."""
    assignments = ["description = ?", "description_source = 'manual'"]
    values: list[Any] = [description]
    if tags is not None:
        assignments.append("tags = ?")
        values.append(json.dumps(list(tags), ensure_ascii=False))
    if pii_category is not None:
        assignments += ["pii_category = ?", "is_pii = 1"]
        values.append(pii_category)
    path = backend.database_path(store.database)
    with backend._store(path, "setting a description") as conn, conn:
        cursor = conn.execute(
            f"UPDATE {ident(store.field_metadata)} SET {', '.join(assignments)}"
            " WHERE database_name = ? AND table_name = ? AND column_name = ?",
            (*values, *key),
        )
        if cursor.rowcount != 1:
            raise StoreError(f"no column {key!r} in the semantic store")


def session_report(backend: LocalBackend, store: StoreRef, session_id: str) -> list[dict[str, Any]]:
    """What ``queries/delta_report.sql`` selects, on the local store: the columns this
    session added, changed, removed or re-described, with the session's counts."""
    m, lg = ident(store.field_metadata), ident(store.sync_log)
    sql = (
        "SELECT m.database_name, m.table_name, m.column_name, m.column_type, m.previous_type,"
        " m.last_change, m.description, m.description_source, m.tags, m.is_pii,"
        " m.pii_category, m.first_seen, m.last_seen, m.removed_at, l.sync_mode,"
        " l.new_tables, l.new_columns, l.changed_columns, l.removed_columns, l.auto_gen_count"
        f" FROM {m} AS m JOIN {lg} AS l ON l.session_id = m.last_sync_session"
        " WHERE m.last_sync_session = ? AND m.last_change <> 'unchanged'"
        " ORDER BY m.database_name, m.table_name, m.column_name"
    )
    with backend._store(backend.database_path(store.database), "reading the delta") as conn:
        cursor = conn.execute(sql, (session_id,))
        names = [d[0] for d in cursor.description]
        return [{name: row[i] for i, name in enumerate(names)} for row in cursor]
