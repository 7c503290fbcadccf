"""The Treasure Data backend: catalog from REST v3, semantic store through Trino jobs.

TD's Trino has INSERT and DELETE but no UPDATE or MERGE, so a changed row is written as a
new version (new ``row_id``, later ``written_at``) and the versions it replaces are then
deleted by id. Readers keep the newest version of each column, so an interrupted write
leaves a consistent store: some columns already have their new version, the rest their
old one, and leftover old versions are deleted by the next run. Rows go out as multi-row
INSERTs of ``batch_size`` rows (and under TD's 1 MB query limit), deletes as ``IN`` lists,
the sync-log row last. Catalog names only ever appear as escaped string literals.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .errors import CatalogError, SettingsError, StoreError
from .model import (
    CatalogColumn,
    LogEntry,
    MetaRow,
    Snapshot,
    StoreRef,
    StoreState,
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
from .sql import batched, ident, literal, row_values
from .td_api import DEFAULT_SERVER, TDClient

_TYPES = {"text": "varchar", "int": "bigint"}
DELETE_IDS_PER_STATEMENT = 5000


class TDBackend:
    """Catalog and store on Treasure Data. ``batch_hook(i)`` (tests) runs after insert
    batch ``i`` has finished; raising there is a crash part-way."""

    def __init__(self, client: TDClient) -> None:
        self.client = client
        self.batch_hook: Callable[[int], None] | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> TDBackend:
        """The backend inside the workflow: ``TD_API_KEY`` and ``TD_API_SERVER``
        (``DIGSYNC_POLL_INTERVAL``, seconds, sets the first job-status poll interval)."""
        env = os.environ if environ is None else environ
        key = env.get("TD_API_KEY", "")
        if not key:
            raise SettingsError(
                "TD_API_KEY is not set: the workflow passes it with "
                "_env: {TD_API_KEY: ${secret:td.apikey}} (set the td.apikey secret)"
            )
        poll = env.get("DIGSYNC_POLL_INTERVAL")
        if poll:
            try:
                options.setdefault("poll_interval", max(0.0, float(poll)))
            except ValueError:
                raise SettingsError(
                    f"DIGSYNC_POLL_INTERVAL must be seconds, not {poll!r}"
                ) from None
        return cls(TDClient(key, env.get("TD_API_SERVER") or DEFAULT_SERVER, **options))

    # --- catalog

    def list_databases(self) -> list[str]:
        return self.client.list_databases()

    def list_columns(self, database: str) -> list[CatalogColumn]:
        tables = self.client.list_tables(database)
        if tables is None:
            raise CatalogError(f"database {database[:80]!r} disappeared while being read")
        columns = []
        for table in tables:
            name = table["name"]
            for column, type_ in parse_schema(table.get("schema"), f"{database}.{name}"):
                columns.append(CatalogColumn(database, name, column, normalise_type(type_)))
        return columns

    # --- semantic store

    def load_state(self, store: StoreRef, session_id: str) -> StoreState:
        tables = self.client.list_tables(store.database)
        if tables is None:
            return StoreState(Snapshot(), None, False, frozenset())
        present = {t["name"]: t for t in tables}
        versions: list[MetaRow] = []
        if store.field_metadata in present:
            _check_columns(present[store.field_metadata], FIELD_COLUMNS)
            rows = self.client.query(
                store.database,
                f"SELECT {_names(FIELD_NAMES)} FROM {ident(store.field_metadata)}",
                "reading the field metadata",
            )
            versions = [row_from_values(r) for r in rows]
        done = None
        if store.sync_log in present:
            _check_columns(present[store.sync_log], LOG_COLUMNS)
            rows = self.client.query(
                store.database,
                f"SELECT {_names(LOG_NAMES)} FROM {ident(store.sync_log)}"
                f" WHERE {ident('session_id')} = {literal(session_id)}",
                "reading the sync log",
            )
            done = log_from_values(rows[0]) if rows else None
        return StoreState(Snapshot.from_versions(versions), done, True, frozenset(present))

    def prepare(self, store: StoreRef, state: StoreState, create_if_missing: bool) -> None:
        if not state.database_exists:
            if not create_if_missing:
                raise StoreError(
                    f"semantic database {store.database} does not exist "
                    "(create_if_missing is false)"
                )
            self.client.create_database(store.database)
        for table, cols in ((store.field_metadata, FIELD_COLUMNS), (store.sync_log, LOG_COLUMNS)):
            if table in state.tables_present:
                continue
            body = ", ".join(f"{ident(c.name)} {_TYPES[c.kind]}" for c in cols)
            self.client.execute(
                store.database,
                f'CREATE TABLE IF NOT EXISTS {ident(table)} ({body}, "time" bigint)',
                f"creating table {table}",
            )

    def write_rows(
        self, store: StoreRef, rows: list[MetaRow], superseded: list[str], batch_size: int
    ) -> None:
        """New versions first (multi-row INSERTs), then the versions they replace."""
        head = f'INSERT INTO {ident(store.field_metadata)} ({_names(FIELD_NAMES)}, "time") VALUES\n'
        items = (row_values((*row_to_values(r), r.written_at // 1_000_000)) for r in rows)
        for index, statement in enumerate(batched(head, items, "", batch_size)):
            self.client.execute(
                store.database, statement, f"writing field metadata (batch {index + 1})"
            )
            if self.batch_hook is not None:
                self.batch_hook(index)
        ids = sorted({i for i in superseded if i})
        head = f"DELETE FROM {ident(store.field_metadata)} WHERE {ident('row_id')} IN ("
        for statement in batched(
            head, (literal(i) for i in ids), ")", DELETE_IDS_PER_STATEMENT, sep=", "
        ):
            self.client.execute(store.database, statement, "deleting superseded metadata rows")

    def write_log(self, store: StoreRef, entry: LogEntry) -> None:
        seconds = _epoch_seconds(entry.finished_at)
        self.client.execute(
            store.database,
            f'INSERT INTO {ident(store.sync_log)} ({_names(LOG_NAMES)}, "time") VALUES '
            + row_values((*log_to_values(entry), seconds)),
            "writing the sync log",
        )


def parse_schema(value: object, where: str) -> list[tuple[str, str]]:
    """A table's ``schema``: a JSON string (or list) of ``[name, type, alias]`` triples."""
    if value is None or value == "":
        return []
    try:
        items = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        raise CatalogError(f"table {where[:160]!r}: schema is not JSON") from None
    if not isinstance(items, list):
        raise CatalogError(f"table {where[:160]!r}: schema is not a list")
    out = []
    for item in items:
        if not (isinstance(item, list) and len(item) >= 2 and _strings(item[0], item[1])):
            raise CatalogError(f"table {where[:160]!r}: a schema entry is not [name, type, alias]")
        out.append((item[0], item[1]))
    return out


def _strings(*values: object) -> bool:
    return all(isinstance(v, str) for v in values)


def _check_columns(table: Mapping[str, Any], cols: tuple[Col, ...]) -> None:
    have = {name for name, _ in parse_schema(table.get("schema"), str(table.get("name")))}
    missing = [c.name for c in cols if c.name not in have]
    if missing:
        raise StoreError(
            f"table {table.get('name')} lacks columns {missing}; it was not made by this digsync"
        )


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(ident(n) for n in names)


def _epoch_seconds(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").timestamp())
