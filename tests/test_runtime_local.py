"""The sync runtime end to end on the local backend (a folder of SQLite files)."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from digsync.runtime import LocalBackend, run_sync
from digsync.runtime._local_demo import run_demo
from digsync.runtime.errors import SettingsError, StoreError
from digsync.runtime.model import StoreRef
from digsync.runtime.settings import settings_from_params
from digsync.runtime.store_sqlite import session_report, set_manual_metadata
from digsync.runtime.sync import apply_plan, plan_sync

STORE = StoreRef("semantic_layer_v1", "field_metadata", "sync_log")
PATTERNS = [
    {"pattern": r"email", "tag": "pii", "description": "Email of {table}", "pii_category": "email"},
    {"pattern": r"_id$", "tag": "identifier", "description": "Id in {database}.{table}"},
    {"pattern": r"^customer", "tag": "customer", "description": None, "pii_category": None},
]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def make_table(folder: Path, database: str, table: str, columns: list[tuple[str, str]]) -> None:
    with closing(sqlite3.connect(folder / f"{database}.sqlite")) as conn, conn:
        conn.execute(f"DROP TABLE IF EXISTS {q(table)}")
        body = ", ".join(f"{q(c)} {t}" for c, t in columns)
        conn.execute(f"CREATE TABLE {q(table)} ({body})")


def run(folder: Path, session: str, apply: bool = True, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "semantic_database": "semantic_layer_v1",
        "databases": ["gld_*"],
        "exclude_patterns": ["gld_scratch*"],
        "sync_mode": "delta",
        "auto_generation": {"patterns": PATTERNS},
        "session_id": session,
        **extra,
    }
    return run_sync(params, LocalBackend(folder), apply)


def rows(folder: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    with closing(sqlite3.connect(folder / "semantic_layer_v1.sqlite")) as conn:
        cursor = conn.execute("SELECT * FROM field_metadata")
        names = [d[0] for d in cursor.description]
        out = {}
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            out[(row["database_name"], row["table_name"], row["column_name"])] = row
        return out


def log_rows(folder: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(folder / "semantic_layer_v1.sqlite")) as conn:
        return conn.execute(
            "SELECT session_id, new_tables, new_columns, changed_columns, removed_columns,"
            " auto_gen_count FROM sync_log ORDER BY finished_at, session_id"
        ).fetchall()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    folder = tmp_path / "wh"
    folder.mkdir()
    make_table(folder, "gld_sales", "orders", [("order_id", "INTEGER"), ("amount", "REAL")])
    make_table(
        folder,
        "gld_sales",
        "customers",
        [("customer_id", "INTEGER"), ("email", "TEXT"), ("phone", "TEXT")],
    )
    make_table(folder, "gld_scratch_x", "tmp", [("a", "INTEGER")])
    make_table(folder, "raw_events", "events", [("id", "INTEGER")])
    return folder


def change_schema(folder: Path) -> None:
    make_table(folder, "gld_sales", "refunds", [("refund_id", "INTEGER")])  # new table
    make_table(  # new column, changed type
        folder,
        "gld_sales",
        "orders",
        [("order_id", "INTEGER"), ("amount", "DECIMAL(10,2)"), ("customer_email", "TEXT")],
    )
    make_table(folder, "gld_sales", "customers", [("customer_id", "INTEGER"), ("email", "TEXT")])


def test_sync_then_schema_changes_are_detected_and_written(warehouse: Path) -> None:
    first = run(warehouse, "s1")
    assert first["detect_changes"] == {
        "has_changes": True,
        "new_tables": 2,
        "new_columns": 5,
        "changed_columns": 0,
        "removed_columns": 0,
    }
    assert first["scanned"] == {"databases": 1, "tables": 2, "columns": 5}
    stored = rows(warehouse)
    assert sorted(stored) == [
        ("gld_sales", "customers", "customer_id"),
        ("gld_sales", "customers", "email"),
        ("gld_sales", "customers", "phone"),
        ("gld_sales", "orders", "amount"),
        ("gld_sales", "orders", "order_id"),
    ]  # scratch excluded, raw_events out of scope, the semantic db never scanned
    amount_first_seen = stored[("gld_sales", "orders", "amount")]["first_seen"]

    change_schema(warehouse)
    second = run(warehouse, "s2")
    assert second["detect_changes"] == {
        "has_changes": True,
        "new_tables": 1,
        "new_columns": 2,
        "changed_columns": 1,
        "removed_columns": 1,
    }
    assert {(c["change"], c["column"]) for c in second["changes"]} == {
        ("new", "refund_id"),
        ("new", "customer_email"),
        ("type_changed", "amount"),
        ("removed", "phone"),
    }
    stored = rows(warehouse)
    amount = stored[("gld_sales", "orders", "amount")]
    assert (amount["column_type"], amount["previous_type"]) == ("decimal(10,2)", "real")
    assert amount["first_seen"] == amount_first_seen
    phone = stored[("gld_sales", "customers", "phone")]  # marked, not deleted
    assert phone["removed_at"] is not None and phone["last_change"] == "removed"
    untouched = stored[("gld_sales", "customers", "email")]
    assert untouched["last_sync_session"] == "s1"  # delta: unchanged columns are not written
    assert [r[0] for r in log_rows(warehouse)] == ["s1", "s2"]
    report = session_report(LocalBackend(warehouse), STORE, "s2")
    assert sorted((r["last_change"], r["column_name"]) for r in report) == [
        ("new", "customer_email"),
        ("new", "refund_id"),
        ("removed", "phone"),
        ("type_changed", "amount"),
    ]


def test_no_changes_means_has_changes_false_and_nothing_written(warehouse: Path) -> None:
    run(warehouse, "s1")
    before = rows(warehouse)
    again = run(warehouse, "s2")
    assert again["detect_changes"]["has_changes"] is False
    assert again["rows_to_write"] == 0
    assert rows(warehouse) == before
    assert [r[0] for r in log_rows(warehouse)] == ["s1", "s2"]  # every run is logged


def test_rerunning_a_finished_session_writes_nothing_and_reports_the_same(
    warehouse: Path,
) -> None:
    run(warehouse, "s1")
    change_schema(warehouse)
    done = run(warehouse, "s2")
    before = rows(warehouse)
    make_table(warehouse, "gld_sales", "later", [("x", "TEXT")])  # after s2 finished
    again = run(warehouse, "s2")
    assert again["already_finished"] is True and again["applied"] is False
    assert again["detect_changes"] == done["detect_changes"]
    assert again["sync_metadata"] == done["sync_metadata"]
    assert rows(warehouse) == before
    assert [r[0] for r in log_rows(warehouse)].count("s2") == 1
    assert run(warehouse, "s3")["detect_changes"]["new_tables"] == 1  # the next session


def test_generated_metadata_from_patterns_with_pii(warehouse: Path) -> None:
    result = run(warehouse, "s1")
    stored = rows(warehouse)
    email = stored[("gld_sales", "customers", "email")]
    assert email["description"] == "Email of customers"
    assert email["description_source"] == "auto"
    assert (email["is_pii"], email["pii_category"], email["tags"]) == (1, "email", '["pii"]')
    cid = stored[("gld_sales", "customers", "customer_id")]
    assert cid["description"] == "Id in gld_sales.customers"
    assert cid["tags"] == '["identifier", "customer"]'  # every matching tag, in order
    assert cid["is_pii"] == 0 and cid["pii_category"] is None
    amount = stored[("gld_sales", "orders", "amount")]
    assert (amount["description"], amount["description_source"], amount["tags"]) == (
        None,
        None,
        "[]",
    )
    assert result["sync_metadata"] == {"new_tables": 2, "new_columns": 5, "auto_gen_count": 3}


def test_a_description_a_person_wrote_is_never_overwritten(warehouse: Path) -> None:
    run(warehouse, "s1")
    backend = LocalBackend(warehouse)
    set_manual_metadata(backend, STORE, ("gld_sales", "customers", "email"), "Login e-mail", ("x",))
    with closing(sqlite3.connect(warehouse / "semantic_layer_v1.sqlite")) as conn, conn:
        conn.execute(  # text typed in by hand, source left empty: still the person's
            "UPDATE field_metadata SET description = 'Money', description_source = NULL"
            " WHERE column_name = 'amount'"
        )
    make_table(  # email changes type: a schema change on a described column
        warehouse,
        "gld_sales",
        "customers",
        [("customer_id", "INTEGER"), ("email", "VARCHAR"), ("phone", "TEXT")],
    )
    result = run(warehouse, "s2", sync_mode="full")
    stored = rows(warehouse)
    email = stored[("gld_sales", "customers", "email")]
    assert (email["description"], email["description_source"], email["tags"]) == (
        "Login e-mail",
        "manual",
        '["x"]',
    )
    assert email["column_type"] == "varchar"  # the schema is still tracked
    assert stored[("gld_sales", "orders", "amount")]["description"] == "Money"
    assert result["sync_metadata"]["auto_gen_count"] == 0


def test_manual_edit_between_plan_and_write_is_kept(warehouse: Path) -> None:
    run(warehouse, "s1")
    backend = LocalBackend(warehouse)
    settings = settings_from_params(
        {
            "semantic_database": "semantic_layer_v1",
            "databases": ["gld_*"],
            "sync_mode": "full",
            "auto_generation": {"patterns": PATTERNS},
            "session_id": "s2",
        }
    )
    plan = plan_sync(settings, backend)  # plans to rewrite every row, email included
    set_manual_metadata(backend, STORE, ("gld_sales", "customers", "email"), "Edited meanwhile")
    apply_plan(plan, backend)
    email = rows(warehouse)[("gld_sales", "customers", "email")]
    assert (email["description"], email["description_source"]) == ("Edited meanwhile", "manual")
    assert email["last_sync_session"] == "s2"


def test_full_mode_touches_every_column_delta_only_changes(warehouse: Path) -> None:
    run(warehouse, "s1")
    make_table(warehouse, "gld_sales", "refunds", [("refund_id", "INTEGER")])
    delta = run(warehouse, "s2")
    assert delta["rows_to_write"] == 1
    full = run(warehouse, "s3", sync_mode="full")
    assert full["rows_to_write"] == 6
    assert full["detect_changes"]["has_changes"] is False  # nothing besides last_seen
    stored = rows(warehouse)
    assert {r["last_sync_session"] for r in stored.values()} == {"s3"}
    assert {r["last_change"] for r in stored.values()} == {"unchanged"}


def test_full_mode_applies_changed_patterns_to_existing_columns(warehouse: Path) -> None:
    run(warehouse, "s1")
    patterns = [{"pattern": "amount", "tag": "metric", "description": "Amount ({type})"}]
    result = run(warehouse, "s2", sync_mode="full", auto_generation={"patterns": patterns})
    assert result["detect_changes"]["has_changes"] is True
    stored = rows(warehouse)
    assert stored[("gld_sales", "orders", "amount")]["description"] == "Amount (real)"
    assert stored[("gld_sales", "orders", "amount")]["last_change"] == "metadata"
    email = stored[("gld_sales", "customers", "email")]  # no pattern matches any more
    assert (email["description"], email["is_pii"], email["tags"]) == (None, 0, "[]")
    assert result["sync_metadata"]["auto_gen_count"] == 4  # amount + 3 cleared


def test_removed_column_that_comes_back_is_restored(warehouse: Path) -> None:
    run(warehouse, "s1")
    first_seen = rows(warehouse)[("gld_sales", "customers", "phone")]["first_seen"]
    make_table(warehouse, "gld_sales", "customers", [("customer_id", "INTEGER"), ("email", "TEXT")])
    assert run(warehouse, "s2")["detect_changes"]["removed_columns"] == 1
    assert run(warehouse, "s3")["rows_to_write"] == 0  # removed stays removed, untouched
    make_table(
        warehouse,
        "gld_sales",
        "customers",
        [("customer_id", "INTEGER"), ("email", "TEXT"), ("phone", "TEXT")],
    )
    back = run(warehouse, "s4")
    assert back["detect_changes"]["new_columns"] == 1
    assert back["changes"][0]["change"] == "restored"
    phone = rows(warehouse)[("gld_sales", "customers", "phone")]
    assert phone["removed_at"] is None and phone["first_seen"] == first_seen


def test_a_database_that_disappears_is_marked_removed_an_excluded_one_is_left(
    warehouse: Path,
) -> None:
    make_table(warehouse, "gld_other", "t", [("a", "TEXT")])
    run(warehouse, "s1")
    (warehouse / "gld_other.sqlite").unlink()
    gone = run(warehouse, "s2", exclude_patterns=["gld_scratch*"])
    assert gone["detect_changes"]["removed_columns"] == 1
    excluded = run(warehouse, "s3", exclude_patterns=["gld_scratch*", "gld_sales"])
    assert excluded["detect_changes"]["removed_columns"] == 0  # out of scope: untouched
    assert excluded["scanned"]["databases"] == 0


def test_crash_part_way_leaves_whole_rows_and_the_retry_completes(
    warehouse: Path, tmp_path: Path
) -> None:
    run(warehouse, "s1")
    change_schema(warehouse)
    control = tmp_path / "control"
    shutil.copytree(warehouse, control)
    expected = run(control, "s2", sync_options={"batch_size": 1})

    backend = LocalBackend(warehouse)

    def crash(index: int) -> None:
        if index == 2:
            raise RuntimeError("disk on fire")

    backend.batch_hook = crash
    params = {
        "semantic_database": "semantic_layer_v1",
        "databases": ["gld_*"],
        "exclude_patterns": ["gld_scratch*"],
        "sync_mode": "delta",
        "sync_options": {"batch_size": 1},
        "auto_generation": {"patterns": PATTERNS},
        "session_id": "s2",
    }
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_sync(params, backend, apply=True)
    partial = rows(warehouse)
    assert sum(r["last_sync_session"] == "s2" for r in partial.values()) == 2  # batches 0, 1
    assert [r[0] for r in log_rows(warehouse)] == ["s1"]  # the session is not finished

    backend.batch_hook = None
    retried = run_sync(params, backend, apply=True)
    assert retried["detect_changes"] == expected["detect_changes"]
    assert retried["sync_metadata"] == expected["sync_metadata"]
    assert retried["rows_to_write"] == 2  # only what the crash left undone
    assert log_rows(warehouse) == log_rows(control)
    ignore = {"row_id", "written_at", "first_seen", "last_seen", "removed_at"}
    final = {k: {c: v for c, v in r.items() if c not in ignore} for k, r in rows(warehouse).items()}
    wanted = {k: {c: v for c, v in r.items() if c not in ignore} for k, r in rows(control).items()}
    assert final == wanted


def test_after_a_crash_the_next_session_completes_the_work(warehouse: Path) -> None:
    run(warehouse, "s1")
    change_schema(warehouse)
    backend = LocalBackend(warehouse)
    backend.batch_hook = lambda index: (_ for _ in ()).throw(RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        run_sync(
            {
                "semantic_database": "semantic_layer_v1",
                "databases": ["gld_*"],
                "sync_options": {"batch_size": 2},
                "session_id": "s2",
            },
            backend,
            apply=True,
        )
    assert rows(warehouse)[("gld_sales", "orders", "amount")]["column_type"] == "real"
    result = run(warehouse, "s3")
    assert result["detect_changes"]["new_columns"] == 2
    assert rows(warehouse)[("gld_sales", "orders", "amount")]["column_type"] == "decimal(10,2)"
    assert run(warehouse, "s4")["detect_changes"]["has_changes"] is False


HOSTILE_TABLES = [
    'orders"; DROP TABLE field_metadata; --',
    "it's -- a table",
    "tab\tle\nwith\r\nbreaks",
    "表🙂\u2028\u202e",
    "x" * 900,
]
HOSTILE_COLUMNS = ["'; DELETE FROM sync_log; --", 'quote"d', "new\nline", "ünï", "?", "\\x41"]


def test_hostile_table_and_column_names_round_trip_exactly(warehouse: Path) -> None:
    for table in HOSTILE_TABLES:
        make_table(warehouse, "gld_sales", table, [(c, "TEXT") for c in HOSTILE_COLUMNS])
    make_table(warehouse, "gld_sales", "long", [("c" * 1024, "TEXT"), ("d" * 1025, "TEXT")])
    result = run(warehouse, "s1", sync_mode="full")
    stored = rows(warehouse)
    for table in HOSTILE_TABLES:
        for column in HOSTILE_COLUMNS:
            assert stored[("gld_sales", table, column)]["column_type"] == "text"
    assert ("gld_sales", "long", "c" * 1024) in stored
    assert ("gld_sales", "long", "d" * 1025) not in stored  # too long: skipped, said so
    assert any("longer than 1024" in w for w in result["warnings"])
    assert [r[0] for r in log_rows(warehouse)] == ["s1"]
    assert run(warehouse, "s2", sync_mode="delta")["rows_to_write"] == 0


def test_settings_are_checked(warehouse: Path) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"semantic_database": "Bad-Name"}, "semantic_database"),
        ({"sync_mode": "sometimes"}, "sync_mode"),
        ({"databases": []}, "at least one"),
        ({"databases": "gld_*"}, "list of glob"),
        ({"auto_generation": {"patterns": [{"pattern": "("}]}}, r"patterns\[0\]"),
        ({"digsync_tables": {"other": "x_table"}}, "unknown role"),
        ({"digsync_tables": {"sync_log": 'a"b'}}, "digsync_tables.sync_log"),
        ({"sync_options": {"batch_size": 0}}, "batch_size"),
        ({"session_id": "1'; --"}, "session_id"),
    ]
    for extra, message in cases:
        with pytest.raises(SettingsError, match=message):
            run(warehouse, "s1", **extra)


def test_store_tables_can_be_renamed_and_must_exist_when_not_created(warehouse: Path) -> None:
    tables = {"field_metadata": "columns_meta", "sync_log": "runs"}
    run(warehouse, "s1", digsync_tables=tables)
    with closing(sqlite3.connect(warehouse / "semantic_layer_v1.sqlite")) as conn:
        assert conn.execute("SELECT count(*) FROM columns_meta").fetchone() == (5,)
        assert conn.execute("SELECT session_id FROM runs").fetchall() == [("s1",)]
    (warehouse / "semantic_layer_v1.sqlite").unlink()
    with pytest.raises(StoreError, match="does not exist"):
        run(warehouse, "s2", create_if_missing=False)


def test_plan_without_apply_writes_nothing(warehouse: Path) -> None:
    result = run(warehouse, "s1", apply=False)
    assert result["applied"] is False and result["rows_to_write"] == 5
    assert not (warehouse / "semantic_layer_v1.sqlite").exists()


def test_demo_runs_and_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_demo(tmp_path / "demo", out=lines.append)
    assert result["second"]["detect_changes"] == {
        "has_changes": True,
        "new_tables": 1,
        "new_columns": 4,
        "changed_columns": 1,
        "removed_columns": 1,
    }
    assert result["again"]["already_finished"] is True
    assert len(result["report"]) == 6
    assert any("Delta report" in line for line in lines)
    run_demo(tmp_path / "demo", out=lines.append)  # again: its own folder is reused
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError):
        run_demo(tmp_path / "mine", out=lines.append)


def test_table_patterns_and_table_excludes_pick_tables(warehouse: Path) -> None:
    make_table(warehouse, "gld_sales", "tmp_orders", [("x", "INTEGER")])
    summary = run(warehouse, "t1", databases=["gld_sales.*"], exclude_patterns=["*.tmp_*"])
    assert summary["scanned"]["tables"] == 2
    assert {key[1] for key in rows(warehouse)} == {"orders", "customers"}
    # Narrowing the scope to one table leaves the other table's rows alone (not removed).
    narrowed = run(warehouse, "t2", databases=["gld_sales.cust*"], exclude_patterns=[])
    assert narrowed["detect_changes"]["removed_columns"] == 0
    assert all(row["removed_at"] is None for row in rows(warehouse).values())


def test_overwrite_auto_generated_false_keeps_what_was_generated(warehouse: Path) -> None:
    first = {"patterns": [{"pattern": "email", "description": "Old text"}]}
    changed = {"patterns": [{"pattern": "email", "description": "New text"}]}
    run(warehouse, "a1", auto_generation=first)
    key = ("gld_sales", "customers", "email")
    keep = {**changed, "content_rules": {"overwrite_auto_generated": False}}
    run(warehouse, "a2", sync_mode="full", auto_generation=keep)
    assert rows(warehouse)[key]["description"] == "Old text"
    run(warehouse, "a3", sync_mode="full", auto_generation=changed)
    assert rows(warehouse)[key]["description"] == "New text"
    assert rows(warehouse)[key]["description_source"] == "auto"
