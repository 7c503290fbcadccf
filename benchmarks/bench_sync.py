"""Sync 10,000 columns across 500 tables: the local backend (SQLite files) and the TD
backend against the fake TD API (tests/fake_td.py, run in its own process as a real
server would be). Prints time and the number of queries; nothing is asserted.

Scenarios, each on the store the previous one left:
1. first sync (every column new), 2. nothing changed (delta), 3. 50 changes (delta:
2 new tables of 5 columns, 20 changed types, 20 removed columns), 4. full re-sync
(every column rewritten, superseded versions deleted on TD).

The fake runs a job as soon as it is polled twice (queued -> running -> success), so
the TD figures are the runtime's own cost plus HTTP on loopback; on Treasure Data each
job also waits seconds in the queue, which is why the number of jobs is the figure
that matters there.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from _common import ROOT, ChildServer

sys.path.insert(0, str(ROOT))

from digsync.runtime import LocalBackend, TDBackend, run_sync
from digsync.runtime.td_api import TDClient
from tests.fake_td import API_KEY

DATABASES = 10
TABLES_PER_DATABASE = 50
COLUMNS_PER_TABLE = 20
TYPES = ("bigint", "varchar", "double", "varchar", "bigint")
PATTERNS = [
    {"pattern": "email", "tag": "pii", "description": "E-mail", "pii_category": "email"},
    {"pattern": r"_id$", "tag": "identifier", "description": "Id in {table}"},
]


def layout() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """database -> table -> [(column, type)]: 10 x 50 x 20 = 10,000 columns."""
    out: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for d in range(DATABASES):
        tables = out.setdefault(f"gld_bench_{d:02}", {})
        for t in range(TABLES_PER_DATABASE):
            names = ["row_id", "customer_email"] + [
                f"c{c:02}" for c in range(COLUMNS_PER_TABLE - 2)
            ]
            tables[f"table_{t:03}"] = [(n, TYPES[i % len(TYPES)]) for i, n in enumerate(names)]
    return out


def changed(
    base: dict[str, dict[str, list[tuple[str, str]]]],
) -> dict[str, list[tuple[str, str]]]:
    """The 50 changes: 2 new tables x 5 columns (10 new), 20 types changed, 20 removed."""
    tables: dict[str, list[tuple[str, str]]] = {}
    db = "gld_bench_00"
    for t in range(2):
        tables[f"{db}.new_{t}"] = [(f"n{c}", "varchar") for c in range(5)]
    for t in range(20):
        cols = list(base[db][f"table_{t:03}"])
        cols[5] = (cols[5][0], "decimal(18,2)")  # changed type
        tables[f"{db}.table_{t:03}"] = cols
    for t in range(20, 40):
        tables[f"{db}.table_{t:03}"] = list(base[db][f"table_{t:03}"])[:-1]  # one removed
    return tables


def params(session: str, mode: str = "delta") -> dict[str, Any]:
    return {
        "semantic_database": "semantic_layer_v1",
        "databases": ["gld_*"],
        "sync_mode": mode,
        "sync_options": {"batch_size": 500},
        "auto_generation": {"patterns": PATTERNS},
        "session_id": session,
    }


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_local(folder: Path, tables: dict[str, list[tuple[str, str]]], db: str) -> None:
    with closing(sqlite3.connect(folder / f"{db}.sqlite")) as conn, conn:
        for table, cols in tables.items():
            conn.execute(f"DROP TABLE IF EXISTS {quote(table)}")
            body = ", ".join(f"{quote(c)} {t}" for c, t in cols)
            conn.execute(f"CREATE TABLE {quote(table)} ({body})")


def scenarios(
    sync: Callable[[str, str], dict[str, Any]],
    queries: Callable[[], int],
    apply_changes: Callable[[], None],
) -> list[tuple[str, float, int, dict[str, Any]]]:
    out = []
    for label, session, mode, before in (
        ("first sync, all 10,000 new", "s1", "delta", None),
        ("nothing changed (delta)", "s2", "delta", None),
        ("50 changes (delta)", "s3", "delta", apply_changes),
        ("full re-sync", "s4", "full", None),
    ):
        if before:
            before()
        start_queries = queries()
        start = time.perf_counter()
        result = sync(session, mode)
        seconds = time.perf_counter() - start
        out.append((label, seconds, queries() - start_queries, result))
    return out


def report(title: str, rows: list[tuple[str, float, int, dict[str, Any]]], unit: str) -> None:
    print(f"\n{title}")
    print(f"  {'scenario':<28} {'seconds':>8} {unit:>9} {'rows':>7}  changes")
    for label, seconds, queries, result in rows:
        d = result["detect_changes"]
        summary = (
            f"+{d['new_tables']}t +{d['new_columns']}c ~{d['changed_columns']} "
            f"-{d['removed_columns']}"
        )
        print(f"  {label:<28} {seconds:>8.2f} {queries:>9} {result['rows_to_write']:>7}  {summary}")


def bench_local(base: dict[str, dict[str, list[tuple[str, str]]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for db, tables in base.items():
            write_local(folder, tables, db)
        backend = LocalBackend(folder)

        def apply_changes() -> None:
            for key, cols in changed(base).items():
                db, table = key.split(".")
                write_local(folder, {table: cols}, db)

        rows = scenarios(
            lambda s, m: run_sync(params(s, m), backend, apply=True),
            lambda: backend.statements,
            apply_changes,
        )
        report("Local backend (SQLite files)", rows, "SQL stmts")


SERVER = """
import json, sys
from tests.fake_td import FakeTD
with FakeTD() as server:
    print(server.url, flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "tables":
            for key, cols in json.loads(arg).items():
                db, table = key.split(".", 1)
                server.add_table(db, table, [tuple(c) for c in cols])
            server.add_database("semantic_layer_v1")
            print("ok", flush=True)
        elif command == "counts":
            print(server.job_issues, len(server.requests), flush=True)
"""


class Server(ChildServer):
    """The fake TD API in a child process."""

    def __init__(self) -> None:
        super().__init__(SERVER)

    def tables(self, tables: dict[str, Any]) -> None:
        import json

        assert self.ask("tables " + json.dumps(tables)) == "ok"

    def counts(self) -> tuple[int, int]:
        jobs, requests = self.ask("counts").split()
        return int(jobs), int(requests)


def bench_td(base: dict[str, dict[str, list[tuple[str, str]]]]) -> None:
    server = Server()
    try:
        server.tables(
            {f"{db}.{t}": cols for db, tables in base.items() for t, cols in tables.items()}
        )
        client = TDClient(API_KEY, server.url, poll_interval=0.0, sleep=lambda s: None)
        backend = TDBackend(client)
        requests: list[int] = []

        def jobs() -> int:
            issued, sent = server.counts()
            requests.append(sent)
            return issued

        rows = scenarios(
            lambda s, m: run_sync(params(s, m), backend, apply=True),
            jobs,
            lambda: server.tables(changed(base)),
        )
        report("TD backend (fake TD API on loopback, own process)", rows, "TD jobs")
        print(f"  HTTP requests in all: {client.requests}")
    finally:
        server.close()


def main() -> None:
    base = layout()
    total = sum(len(cols) for tables in base.values() for cols in tables.values())
    tables = sum(len(t) for t in base.values())
    print(f"{total} columns in {tables} tables across {len(base)} databases; batch_size 500")
    bench_local(base)
    bench_td(base)


if __name__ == "__main__":
    main()
