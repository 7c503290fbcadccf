"""The local demo (not shipped in rendered projects: files named ``_local*`` stay home).

``run_demo(folder)`` builds a small warehouse of SQLite files (two gld_* databases, one
excluded scratch database and one out of scope), syncs it, lets a person describe a
column by hand, changes the schemas (a new table, a new column, a changed type, a
dropped column), syncs again and prints what the second session changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from os import PathLike
from pathlib import Path
from typing import Any

from .model import StoreRef, show
from .store_sqlite import SUFFIX, LocalBackend, session_report, set_manual_metadata
from .sync import format_summary, run_sync

MARKER = ".digsync-demo"
SEMANTIC = "semantic_layer_v1"
PATTERNS: list[dict[str, Any]] = [
    {
        "pattern": r"(?i)e_?mail",
        "tag": "pii",
        "description": "Email address on the {table} record",
        "pii_category": "email",
    },
    {
        "pattern": r"(?i)phone",
        "tag": "pii",
        "description": "Phone number on the {table} record",
        "pii_category": "phone",
    },
    {
        "pattern": r"(?i)birth",
        "tag": "pii",
        "description": "Date of birth",
        "pii_category": "date_of_birth",
    },
    {"pattern": r"(?i)(^|_)id$", "tag": "identifier", "description": "Identifier in {table}"},
    {"pattern": r"(?i)(amount|price|total)", "tag": "metric", "description": "Money: {column}"},
]
SOURCES: dict[str, dict[str, str]] = {
    "gld_sales": {
        "orders": "order_id INTEGER, customer_id INTEGER, amount REAL, created_at TEXT",
        "customers": "customer_id INTEGER, email TEXT, phone_number TEXT, birth_date TEXT",
    },
    "gld_marketing": {"campaigns": "campaign_id INTEGER, name TEXT, budget REAL"},
    "gld_scratch_tmp": {"tmp": "x INTEGER"},
    "raw_events": {"events": "event_id INTEGER, payload TEXT"},
}
CHANGES = (
    ("gld_sales", "CREATE TABLE refunds (refund_id INTEGER, order_id INTEGER, amount REAL)"),
    ("gld_sales", "ALTER TABLE orders ADD COLUMN coupon_code TEXT"),
    ("gld_sales", "ALTER TABLE customers DROP COLUMN phone_number"),
    (
        "gld_marketing",
        "CREATE TABLE campaigns_new (campaign_id INTEGER, name TEXT, budget DECIMAL(12,2));"
        "INSERT INTO campaigns_new SELECT * FROM campaigns; DROP TABLE campaigns;"
        "ALTER TABLE campaigns_new RENAME TO campaigns",
    ),
)


def demo_settings(session_id: str | None = None) -> dict[str, Any]:
    """The demo's task parameters, as the .dig would pass them."""
    return {
        "semantic_database": SEMANTIC,
        "databases": ["gld_*"],
        "exclude_patterns": ["gld_scratch*"],
        "sync_mode": "delta",
        "sync_options": {"batch_size": 500},
        "auto_generation": {"patterns": PATTERNS},
        "session_id": session_id,
    }


def create_warehouse(folder: str | PathLike[str]) -> Path:
    """A fresh demo warehouse in ``folder``: refuses a folder it did not make itself."""
    path = Path(folder)
    if path.exists() and any(path.iterdir()) and not (path / MARKER).exists():
        raise FileExistsError(f"{path} is not empty and not a digsync demo folder")
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("made by digsync's demo; safe to delete\n", encoding="utf-8")
    for name in [*SOURCES, SEMANTIC]:
        (path / (name + SUFFIX)).unlink(missing_ok=True)
    for database, tables in SOURCES.items():
        with closing(sqlite3.connect(path / (database + SUFFIX))) as conn, conn:
            for table, columns in tables.items():
                conn.execute(f"CREATE TABLE {table} ({columns})")
    return path


def change_schemas(folder: str | PathLike[str]) -> None:
    """New table, new column, dropped column, changed type."""
    for database, script in CHANGES:
        with closing(sqlite3.connect(Path(folder) / (database + SUFFIX))) as conn:
            conn.executescript(script)


def run_demo(folder: str | PathLike[str], out: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole demo; returns both summaries and the second session's report rows."""
    path = create_warehouse(folder)
    backend = LocalBackend(path)
    store = StoreRef(SEMANTIC, "field_metadata", "sync_log")
    out(f"Demo warehouse: {path} ({', '.join(sorted(SOURCES))}); scope gld_* minus gld_scratch*")
    out("\n== First sync")
    first = run_sync(demo_settings("demo-1"), backend, apply=True)
    out(format_summary(first, limit=20))
    set_manual_metadata(
        backend, store, ("gld_sales", "customers", "email"), "Login e-mail, verified at signup"
    )
    out("\nA person describes gld_sales.customers.email by hand (marked 'manual').")
    change_schemas(path)
    out("Schemas change: new table refunds, new column orders.coupon_code,")
    out("customers.phone_number dropped, campaigns.budget REAL -> DECIMAL(12,2).")
    out("\n== Second sync")
    second = run_sync(demo_settings("demo-2"), backend, apply=True)
    out(format_summary(second, limit=20))
    report = session_report(backend, store, "demo-2")
    out("\n== Delta report of session demo-2 (what queries/delta_report.sql selects)")
    for row in report:
        name = ".".join(show(row[k]) for k in ("database_name", "table_name", "column_name"))
        text = show(row["description"] or "-")
        out(f"  {row['last_change']:<13} {name:<36} {row['column_type']:<14} {text}")
    again = run_sync(demo_settings("demo-2"), backend, apply=True)
    out(f"\nSession demo-2 again: already finished = {again['already_finished']}; no duplicates.")
    return {"first": first, "second": second, "again": again, "report": report}
