"""Compare the catalog with the semantic store and decide what to write: a pure function.

* A column missing from the store is ``new``; one marked removed that is back is
  ``restored``; a different type is ``type_changed``; a live row whose column is gone
  (in an in-scope database) becomes ``removed``: marked, never deleted.
* ``delta`` writes only those rows; ``full`` also rewrites every other column in scope
  (refreshing ``last_seen`` and the generated metadata).
* Rows already stamped with this session were written by an earlier, interrupted attempt
  of it: they are not written again, but their changes still count, so a retried session
  reports what the session did, not what the last attempt had left to do.
* A session that already has its sync-log row is finished: nothing is written again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime

from .autogen import generate
from .model import (
    AUTO,
    MANUAL,
    METADATA,
    NEW,
    REMOVED,
    RESTORED,
    SCHEMA_CHANGES,
    TYPE_CHANGED,
    UNCHANGED,
    UTC,
    CatalogColumn,
    Change,
    Counts,
    Key,
    LogEntry,
    MetaRow,
    Scanned,
    StoreState,
)
from .settings import Settings


def iso(moment: datetime) -> str:
    """UTC, whole seconds, ``Z``: the store's timestamp text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Plan:
    """What one run will write, and the counts it reports."""

    settings: Settings
    run_id: str
    started_at: str
    written_at: int
    rows: list[MetaRow]
    superseded: list[str]
    """Row ids of versions the new rows replace (deleted after the inserts, on TD)."""
    changes: list[Change]
    counts: Counts
    scanned: Scanned
    state: StoreState
    done: LogEntry | None = None
    warnings: list[str] = field(default_factory=list)

    def log_entry(self, finished_at: str) -> LogEntry:
        s = self.settings
        c = self.counts
        return LogEntry(
            session_id=s.session_id,
            run_id=self.run_id,
            sync_mode=s.sync_mode,
            session_time=s.session_time,
            started_at=self.started_at,
            finished_at=finished_at,
            databases_scanned=self.scanned.databases,
            tables_scanned=self.scanned.tables,
            columns_scanned=self.scanned.columns,
            new_tables=c.new_tables,
            new_columns=c.new_columns,
            changed_columns=c.changed_columns,
            removed_columns=c.removed_columns,
            auto_gen_count=c.auto_gen_count,
            rows_written=len(self.rows),
        )


def row_id(run_id: str, key: Key) -> str:
    """A version id, unique per run and column."""
    blob = "\x00".join((run_id, *key)).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


def compute_plan(
    settings: Settings,
    catalog: list[CatalogColumn],
    databases_scanned: int,
    state: StoreState,
    run_id: str,
    now: datetime,
) -> Plan:
    """The plan for one run (see the module docstring for the rules)."""
    builder = _Builder(settings, state, run_id, now)
    plan = Plan(
        settings=settings,
        run_id=run_id,
        started_at=builder.now,
        written_at=builder.written_at,
        rows=[],
        superseded=[],
        changes=[],
        counts=Counts(),
        scanned=Scanned(
            databases_scanned, len({(c.database, c.table) for c in catalog}), len(catalog)
        ),
        state=state,
    )
    if state.done is not None:
        return _finished(plan, state.done)
    builder.columns(sorted(catalog, key=lambda c: c.key))
    builder.removals({c.key for c in catalog})
    plan.rows = builder.rows
    plan.changes = builder.changes
    plan.superseded = [
        state.snapshot.rows[row.key].row_id
        for row in builder.rows
        if row.key in state.snapshot.rows
    ] + list(state.snapshot.stale_row_ids)
    plan.counts = Counts(
        new_tables=builder.new_tables(catalog),
        new_columns=sum(1 for c in builder.changes if c.kind in (NEW, RESTORED)),
        changed_columns=sum(1 for c in builder.changes if c.kind == TYPE_CHANGED),
        removed_columns=sum(1 for c in builder.changes if c.kind == REMOVED),
        auto_gen_count=builder.auto_count,
    )
    return plan


def _finished(plan: Plan, done: LogEntry) -> Plan:
    """A finished session: report what it did, write nothing."""
    session = plan.settings.session_id
    plan.done = done
    plan.counts = Counts(
        done.new_tables,
        done.new_columns,
        done.changed_columns,
        done.removed_columns,
        done.auto_gen_count,
    )
    plan.changes = [
        _change(row.last_change, row, earlier=True)
        for row in sorted(plan.state.snapshot.rows.values(), key=lambda r: r.key)
        if row.last_sync_session == session and row.last_change in SCHEMA_CHANGES
    ]
    return plan


def _change(kind: str, row: MetaRow, earlier: bool = False) -> Change:
    previous = row.previous_type if kind == TYPE_CHANGED else None
    return Change(kind, row.database, row.table, row.column, row.type, previous, earlier)


class _Builder:
    """Walks the catalog and the snapshot, collecting rows, changes and counts."""

    def __init__(self, settings: Settings, state: StoreState, run_id: str, now: datetime) -> None:
        self.settings = settings
        self.session = settings.session_id
        self.snapshot = state.snapshot.rows
        self.run_id = run_id
        self.now = iso(now)
        self.written_at = int(now.timestamp() * 1_000_000)
        self.rows: list[MetaRow] = []
        self.changes: list[Change] = []
        self.auto_count = 0

    def columns(self, catalog: list[CatalogColumn]) -> None:
        full = self.settings.sync_mode == "full"
        for col in catalog:
            old = self.snapshot.get(col.key)
            if (
                old is not None
                and old.last_sync_session == self.session
                and old.removed_at is None
                and old.type == col.type
            ):
                self._earlier(old)
                continue
            kind = _classify(old, col)
            if kind == UNCHANGED and not full:
                continue
            row = self._seen(old, col, kind)
            self._emit(row, kind in SCHEMA_CHANGES)

    def removals(self, catalog_keys: set[Key]) -> None:
        for key, old in sorted(self.snapshot.items()):
            if key in catalog_keys or not self.settings.table_in_scope(old.database, old.table):
                continue
            if old.removed_at is not None:
                if old.last_sync_session == self.session:
                    self._earlier(old)
                continue
            row = replace(
                old,
                removed_at=self.now,
                last_sync_session=self.session,
                last_change=REMOVED,
                row_id=row_id(self.run_id, key),
                written_at=self.written_at,
            )
            self._emit(row, True)

    def new_tables(self, catalog: list[CatalogColumn]) -> int:
        """Tables in the catalog none of whose columns was live before this session."""
        live = {(r.database, r.table) for r in self.snapshot.values() if self._live_before(r)}
        return len({(c.database, c.table) for c in catalog} - live)

    def _live_before(self, row: MetaRow) -> bool:
        if row.last_sync_session == self.session:
            return row.last_change not in (NEW, RESTORED)
        return row.removed_at is None

    def _earlier(self, old: MetaRow) -> None:
        """A row an earlier attempt of this session wrote: count it, do not rewrite it."""
        if old.last_change in SCHEMA_CHANGES:
            self.changes.append(_change(old.last_change, old, earlier=True))
        if old.autogen_session == self.session:
            self.auto_count += 1

    def _emit(self, row: MetaRow, schema_change: bool) -> None:
        self.rows.append(row)
        if schema_change:
            self.changes.append(_change(row.last_change, row))
        if row.autogen_session == self.session:
            self.auto_count += 1

    def _seen(self, old: MetaRow | None, col: CatalogColumn, kind: str) -> MetaRow:
        """The row for a column present in the catalog, with generated metadata applied."""
        previous = old.previous_type if old else None
        if old is not None and kind == TYPE_CHANGED:
            if old.last_sync_session == self.session and old.last_change in (NEW, RESTORED):
                kind = old.last_change  # new in this session, whatever its type then
            elif not (old.last_sync_session == self.session and old.last_change == TYPE_CHANGED):
                previous = old.type
        row = MetaRow(
            database=col.database,
            table=col.table,
            column=col.column,
            type=col.type,
            previous_type=previous,
            description=old.description if old else None,
            description_source=old.description_source if old else None,
            tags=old.tags if old else (),
            is_pii=old.is_pii if old else False,
            pii_category=old.pii_category if old else None,
            first_seen=old.first_seen if old else self.now,
            last_seen=self.now,
            removed_at=None,
            last_sync_session=self.session,
            last_change=kind,
            autogen_session=old.autogen_session if old else None,
            row_id=row_id(self.run_id, col.key),
            written_at=self.written_at,
        )
        row = self._generated(row, col)
        if row.last_change == UNCHANGED and row.autogen_session == self.session:
            row = replace(row, last_change=METADATA)
        return row

    def _generated(self, row: MetaRow, col: CatalogColumn) -> MetaRow:
        """Apply the patterns unless a person owns the metadata (see ``protected``)."""
        if protected(row):
            return row
        if not self.settings.auto.regenerate and row.description_source == AUTO:
            return row  # overwrite_auto_generated: false keeps what was generated once
        gen = generate(self.settings.auto, col)
        new = replace(
            row,
            description=gen.description,
            description_source=AUTO if gen.description else None,
            tags=gen.tags,
            is_pii=gen.is_pii,
            pii_category=gen.pii_category,
        )
        if _metadata(new) != _metadata(row):
            new = replace(new, autogen_session=self.session)
        return new


def protected(row: MetaRow) -> bool:
    """A person owns this row's description, tags and PII flags: digsync never changes them.

    That is ``description_source = 'manual'``, or any description not marked ``auto``
    (text someone wrote without setting the source is still theirs)."""
    if row.description_source == MANUAL:
        return True
    return row.description is not None and row.description_source != AUTO


def _metadata(row: MetaRow) -> tuple[object, ...]:
    return (row.description, row.description_source, row.tags, row.is_pii, row.pii_category)


def _classify(old: MetaRow | None, col: CatalogColumn) -> str:
    if old is None:
        return NEW
    if old.removed_at is not None:
        return RESTORED
    if old.type != col.type:
        return TYPE_CHANGED
    return UNCHANGED
