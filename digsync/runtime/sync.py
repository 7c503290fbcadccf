"""One sync, backend-agnostic: read the catalog and the store, plan, write, log.

Write order makes a failure at any point safe: field rows first (in batches), then the
clean-up of superseded versions, and the sync-log row last. A session without a log row
is unfinished; running it again (same session id) or the next session completes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from .detect import Plan, compute_plan, iso
from .model import (
    UTC,
    CatalogColumn,
    LogEntry,
    MetaRow,
    StoreRef,
    StoreState,
    name_problem,
    show,
)
from .settings import Settings, new_run_id, settings_from_params

log = logging.getLogger("digsync.runtime")


class Backend(Protocol):
    """A catalog of source databases plus the semantic store (SQLite or Treasure Data)."""

    def list_databases(self) -> list[str]: ...

    def list_columns(self, database: str) -> list[CatalogColumn]: ...

    def load_state(self, store: StoreRef, session_id: str) -> StoreState: ...

    def prepare(self, store: StoreRef, state: StoreState, create_if_missing: bool) -> None: ...

    def write_rows(
        self, store: StoreRef, rows: list[MetaRow], superseded: list[str], batch_size: int
    ) -> None: ...

    def write_log(self, store: StoreRef, entry: LogEntry) -> None: ...


def read_catalog(
    settings: Settings, backend: Backend
) -> tuple[list[CatalogColumn], int, list[str]]:
    """In-scope columns (names checked, types normalised), databases scanned, warnings."""
    warnings: list[str] = []
    columns: list[CatalogColumn] = []
    seen: set[tuple[str, str, str]] = set()
    databases = [db for db in backend.list_databases() if settings.in_scope(db)]
    scanned = 0
    for database in sorted(databases):
        problem = name_problem(database)
        if problem:
            warnings.append(f"skipped database {show(database[:80])!r}: name {problem}")
            continue
        scanned += 1
        for col in backend.list_columns(database):
            if not settings.table_in_scope(database, col.table):
                continue
            problem = _column_problem(col) or ("listed twice" if col.key in seen else None)
            if problem:
                where = ".".join(show(name[:80]) for name in col.key)
                warnings.append(f"skipped {where}: {problem}")
                continue
            seen.add(col.key)
            columns.append(col)
    return columns, scanned, warnings


def _column_problem(col: CatalogColumn) -> str | None:
    for what, value in (("table", col.table), ("column", col.column), ("type", col.type)):
        problem = name_problem(value)
        if problem:
            return f"{what} {problem}"
    return None


def plan_sync(
    settings: Settings,
    backend: Backend,
    *,
    now: datetime | None = None,
    run_id: str | None = None,
) -> Plan:
    """Read everything and decide what to write; writes nothing."""
    state = backend.load_state(settings.store, settings.session_id)
    catalog, scanned, warnings = read_catalog(settings, backend)
    plan = compute_plan(
        settings, catalog, scanned, state, run_id or new_run_id(), now or datetime.now(UTC)
    )
    plan.warnings.extend(warnings)
    for warning in warnings:
        log.warning("%s", warning)
    return plan


def apply_plan(
    plan: Plan, backend: Backend, *, clock: Callable[[], datetime] | None = None
) -> None:
    """Write the plan: rows, clean-up, then the sync-log row. A finished session: nothing."""
    if plan.done is not None:
        log.info("session %s already finished; nothing to write", plan.settings.session_id)
        return
    s = plan.settings
    backend.prepare(s.store, plan.state, s.create_if_missing)
    log.info(
        "writing %d rows to %s.%s in batches of %d",
        len(plan.rows),
        s.store.database,
        s.store.field_metadata,
        s.batch_size,
    )
    backend.write_rows(s.store, plan.rows, plan.superseded, s.batch_size)
    finished = iso((clock or (lambda: datetime.now(UTC)))())
    backend.write_log(s.store, plan.log_entry(finished))


def run_sync(
    settings: Mapping[str, Any] | Settings,
    backend: Backend,
    apply: bool,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Plan one sync and, with ``apply``, write it. Returns ``summarize(plan, applied)``.

    ``settings``: the task parameters as a dict (see ``settings_from_params``)."""
    checked = settings if isinstance(settings, Settings) else settings_from_params(settings)
    plan = plan_sync(checked, backend, now=now)
    if apply:
        apply_plan(plan, backend)
    return summarize(plan, applied=apply)


def summarize(plan: Plan, applied: bool) -> dict[str, Any]:
    """The plan (and whether it was written) as plain data for the CLI, tests and logs."""
    s = plan.settings
    return {
        "session_id": s.session_id,
        "run_id": plan.run_id,
        "sync_mode": s.sync_mode,
        "semantic_database": s.store.database,
        "applied": applied and plan.done is None,
        "already_finished": plan.done is not None,
        "detect_changes": plan.counts.detect_changes(),
        "sync_metadata": plan.counts.sync_metadata(),
        "scanned": {
            "databases": plan.scanned.databases,
            "tables": plan.scanned.tables,
            "columns": plan.scanned.columns,
        },
        "rows_to_write": len(plan.rows),
        "rows_superseded": len(plan.superseded),
        "changes": [
            {
                "change": c.kind,
                "database": c.database,
                "table": c.table,
                "column": c.column,
                "type": c.type,
                "previous_type": c.previous_type,
                "earlier_attempt": c.earlier_attempt,
            }
            for c in plan.changes
        ],
        "warnings": list(plan.warnings),
    }


_MARK = {"new": "+", "restored": "+", "type_changed": "~", "removed": "-"}


def format_summary(summary: Mapping[str, Any], limit: int = 50) -> str:
    """A summary as text for people; names with control characters are escaped."""
    d = summary["detect_changes"]
    m = summary["sync_metadata"]
    sc = summary["scanned"]
    lines = [
        f"Session {summary['session_id']} ({summary['sync_mode']}) -> "
        f"{summary['semantic_database']}",
        f"  scanned {sc['databases']} databases, {sc['tables']} tables, {sc['columns']} columns",
        f"  {d['new_tables']} new tables, {d['new_columns']} new columns, "
        f"{d['changed_columns']} changed, {d['removed_columns']} removed; "
        f"{m['auto_gen_count']} with generated metadata",
    ]
    for change in summary["changes"][:limit]:
        name = ".".join(show(change[k]) for k in ("database", "table", "column"))
        kind = change["change"]
        detail = (
            f"{show(change['previous_type'] or '?')} -> {show(change['type'])}"
            if kind == "type_changed"
            else show(change["type"])
        )
        lines.append(f"  {_MARK.get(kind, '?')} {name}  {detail}  ({kind})")
    extra = len(summary["changes"]) - limit
    if extra > 0:
        lines.append(f"  ... and {extra} more")
    for warning in summary["warnings"]:
        lines.append(f"  warning: {warning}")
    if summary["already_finished"]:
        lines.append("  this session already finished: nothing to write")
    elif summary["applied"]:
        lines.append(f"  wrote {summary['rows_to_write']} rows and the sync-log entry")
    else:
        lines.append(f"  would write {summary['rows_to_write']} rows (not applied)")
    return "\n".join(lines)
