"""The semantic store's two tables, shared by both backends, and row <-> values conversion.

``field_metadata``: one row per column (on TD: per version of it; readers keep the
newest by ``written_at``, ``row_id``). ``sync_log``: one row per finished session.
Tags are a JSON array in text; ``is_pii`` is 0/1 (Treasure Data tables have no boolean).
On TD both tables also get TD's ``time`` column (the write time, in seconds).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NamedTuple

from .errors import StoreError
from .model import UNCHANGED, LogEntry, MetaRow
from .sql import Value


class Col(NamedTuple):
    name: str
    kind: str  # "text" or "int"
    required: bool = False


FIELD_COLUMNS: tuple[Col, ...] = (
    Col("database_name", "text", True),
    Col("table_name", "text", True),
    Col("column_name", "text", True),
    Col("column_type", "text", True),
    Col("previous_type", "text"),
    Col("description", "text"),
    Col("description_source", "text"),
    Col("tags", "text"),
    Col("is_pii", "int"),
    Col("pii_category", "text"),
    Col("first_seen", "text"),
    Col("last_seen", "text"),
    Col("removed_at", "text"),
    Col("last_sync_session", "text"),
    Col("last_change", "text"),
    Col("autogen_session", "text"),
    Col("row_id", "text", True),
    Col("written_at", "int", True),
)

LOG_COLUMNS: tuple[Col, ...] = (
    Col("session_id", "text", True),
    Col("run_id", "text"),
    Col("sync_mode", "text"),
    Col("session_time", "text"),
    Col("started_at", "text"),
    Col("finished_at", "text"),
    Col("databases_scanned", "int"),
    Col("tables_scanned", "int"),
    Col("columns_scanned", "int"),
    Col("new_tables", "int"),
    Col("new_columns", "int"),
    Col("changed_columns", "int"),
    Col("removed_columns", "int"),
    Col("auto_gen_count", "int"),
    Col("rows_written", "int"),
    Col("status", "text"),
)

FIELD_NAMES = tuple(c.name for c in FIELD_COLUMNS)
LOG_NAMES = tuple(c.name for c in LOG_COLUMNS)


def row_to_values(row: MetaRow) -> tuple[Value, ...]:
    """A MetaRow as values in FIELD_COLUMNS order."""
    return (
        row.database,
        row.table,
        row.column,
        row.type,
        row.previous_type,
        row.description,
        row.description_source,
        json.dumps(list(row.tags), ensure_ascii=False),
        int(row.is_pii),
        row.pii_category,
        row.first_seen,
        row.last_seen,
        row.removed_at,
        row.last_sync_session,
        row.last_change,
        row.autogen_session,
        row.row_id,
        row.written_at,
    )


def row_from_values(values: Sequence[object]) -> MetaRow:
    """A stored row back as a MetaRow; lenient with what a person may have written by hand
    (NULLs, ``true``/``1``, comma-separated tags), strict where identity is at stake."""
    if len(values) != len(FIELD_COLUMNS):
        raise StoreError(f"field_metadata row has {len(values)} values, not {len(FIELD_COLUMNS)}")
    if None in values:
        for index, col in enumerate(FIELD_COLUMNS):  # not zip(strict=): Python 3.9 too
            if col.required and values[index] is None:
                raise StoreError(f"a field_metadata row has no {col.name}: {_brief(values)}")
    v = values  # in FIELD_COLUMNS order
    return MetaRow(
        database=_text(v[0]),
        table=_text(v[1]),
        column=_text(v[2]),
        type=_text(v[3]),
        previous_type=_opt(v[4]),
        description=_opt(v[5]),
        description_source=_opt(v[6]),
        tags=parse_tags(v[7]),
        is_pii=_flag(v[8]),
        pii_category=_opt(v[9]),
        first_seen=_text(v[10]),
        last_seen=_text(v[11]),
        removed_at=_opt(v[12]),
        last_sync_session=_text(v[13]),
        last_change=_opt(v[14]) or UNCHANGED,
        autogen_session=_opt(v[15]),
        row_id=_text(v[16]),
        written_at=_int(v[17]),
    )


def log_to_values(entry: LogEntry) -> tuple[Value, ...]:
    return tuple(getattr(entry, name) for name in LOG_NAMES)


def log_from_values(values: Sequence[object]) -> LogEntry:
    if len(values) != len(LOG_NAMES):
        raise StoreError(f"sync_log row has {len(values)} values, not {len(LOG_NAMES)}")
    v = {name: values[index] for index, name in enumerate(LOG_NAMES)}
    return LogEntry(
        session_id=_text(v["session_id"]),
        run_id=_text(v["run_id"]),
        sync_mode=_text(v["sync_mode"]),
        session_time=_opt(v["session_time"]),
        started_at=_text(v["started_at"]),
        finished_at=_text(v["finished_at"]),
        databases_scanned=_int(v["databases_scanned"]),
        tables_scanned=_int(v["tables_scanned"]),
        columns_scanned=_int(v["columns_scanned"]),
        new_tables=_int(v["new_tables"]),
        new_columns=_int(v["new_columns"]),
        changed_columns=_int(v["changed_columns"]),
        removed_columns=_int(v["removed_columns"]),
        auto_gen_count=_int(v["auto_gen_count"]),
        rows_written=_int(v["rows_written"]),
        status=_text(v["status"]) or "success",
    )


def parse_tags(value: object) -> tuple[str, ...]:
    """Tags as stored: a JSON array of strings, or (by hand) comma-separated text."""
    if value is None or value == "" or value == "[]":
        return ()
    text = str(value)
    try:
        loaded = json.loads(text)
    except ValueError:
        loaded = [part.strip() for part in text.split(",")]
    if isinstance(loaded, str):
        loaded = [loaded]
    if not isinstance(loaded, list):
        return ()
    return tuple(dict.fromkeys(str(tag) for tag in loaded if tag not in (None, "")))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _opt(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: object) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value)))
    except ValueError:
        raise StoreError(f"expected a number in the semantic store, found {value!r}") from None


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "t", "yes", "y")
    return bool(value)


def _brief(values: Sequence[object]) -> str:
    return repr(list(values)[:4])[:200]
