"""The sync runtime's Treasure Data backend against a real HTTP server (tests/fake_td.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from digsync.runtime import TDBackend, run_sync, settings_from_params
from digsync.runtime.errors import SettingsError, StoreError, TDApiError, TDJobError
from digsync.runtime.td_api import TDClient
from tests.fake_td import API_KEY, FakeTD, fake_td

ROOT = Path(__file__).resolve().parents[1]
SEMANTIC = "semantic_layer_v1"
PATTERNS = [{"pattern": "email", "tag": "pii", "description": "Email", "pii_category": "email"}]


@pytest.fixture
def td() -> Iterator[FakeTD]:
    with fake_td(polls_queued=2, polls_running=2) as server:
        server.add_table("gld_sales", "orders", [("order_id", "long"), ("amount", "double")])
        server.add_table(
            "gld_sales",
            "customers",
            [("customer_id", "long"), ("email", "string"), ("phone", "string")],
        )
        server.add_table("gld_scratch", "tmp", [("a", "long")])
        server.add_table("raw", "events", [("id", "long")])
        server.add_database(SEMANTIC)
        yield server


class Sleeps(list[float]):
    """Records sleeps instead of sleeping (no test waits on a clock)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def backend(server: FakeTD, sleeps: Sleeps | None = None, **options: Any) -> TDBackend:
    client = TDClient(
        API_KEY,
        server.url,
        poll_interval=0.0,
        sleep=Sleeps() if sleeps is None else sleeps,
        timeout=5,
        **options,
    )
    return TDBackend(client)


def params(session: str, **extra: Any) -> dict[str, Any]:
    return {
        "semantic_database": SEMANTIC,
        "databases": ["gld_*"],
        "exclude_patterns": ["gld_scratch*"],
        "sync_mode": "delta",
        "auto_generation": {"patterns": PATTERNS},
        "session_id": session,
        **extra,
    }


def metadata(server: FakeTD) -> list[tuple[Any, ...]]:
    return server.sql(
        SEMANTIC,
        "SELECT database_name, table_name, column_name, column_type, previous_type, last_change,"
        " removed_at IS NOT NULL, description, description_source, last_sync_session"
        " FROM field_metadata ORDER BY 1, 2, 3, written_at",
    )


def change_schema(server: FakeTD) -> None:
    server.add_table("gld_sales", "refunds", [("refund_id", "long")])
    server.add_table(
        "gld_sales",
        "orders",
        [("order_id", "long"), ("amount", "string"), ("customer_email", "string")],
    )
    server.add_table("gld_sales", "customers", [("customer_id", "long"), ("email", "string")])


def test_sync_and_schema_changes_through_the_job_api(td: FakeTD) -> None:
    first = run_sync(params("101"), backend(td), apply=True)
    assert first["detect_changes"] == {
        "has_changes": True,
        "new_tables": 2,
        "new_columns": 5,
        "changed_columns": 0,
        "removed_columns": 0,
    }
    assert {job.status for job in td.jobs.values()} == {"success"}  # queued, running, done
    assert len(metadata(td)) == 5
    change_schema(td)
    second = run_sync(params("102"), backend(td), apply=True)
    assert second["detect_changes"] == {
        "has_changes": True,
        "new_tables": 1,
        "new_columns": 2,
        "changed_columns": 1,
        "removed_columns": 1,
    }
    by_key = {(r[1], r[2]): r for r in metadata(td)}
    assert len(by_key) == len(metadata(td)) == 7  # old versions were deleted
    assert by_key[("orders", "amount")][3:6] == ("string", "double", "type_changed")
    assert by_key[("customers", "phone")][5:7] == ("removed", 1)
    assert by_key[("customers", "email")][7:10] == ("Email", "auto", "101")
    assert td.sql(SEMANTIC, "SELECT session_id, new_columns FROM sync_log ORDER BY 1") == [
        ("101", 5),
        ("102", 2),
    ]


def test_writes_are_batched_never_one_query_per_row(td: FakeTD) -> None:
    for i in range(30):
        td.add_table("gld_many", f"t{i:02}", [(f"c{j}", "string") for j in range(10)])
    run_sync(params("1", sync_options={"batch_size": 70}), backend(td), apply=True)
    inserts = [s for s in td.statements if s.startswith('INSERT INTO "field_metadata"')]
    assert len(inserts) == math.ceil(305 / 70)
    assert td.job_issues == 2 + len(inserts) + 1  # two CREATE TABLEs, inserts, the log row
    td.clear_counters()
    run_sync(params("2", sync_mode="full"), backend(td), apply=True)
    kinds = [s.split(None, 1)[0] for s in td.statements]
    assert kinds == ["SELECT", "SELECT", "INSERT", "DELETE", "INSERT"]  # 500 rows per batch


def test_rerunning_a_finished_session_issues_no_writes(td: FakeTD) -> None:
    done = run_sync(params("7"), backend(td), apply=True)
    td.clear_counters()
    again = run_sync(params("7"), backend(td), apply=True)
    assert again["already_finished"] is True
    assert again["detect_changes"] == done["detect_changes"]
    assert [s.split(None, 1)[0] for s in td.statements] == ["SELECT", "SELECT"]


def test_manual_version_inserted_by_a_person_wins_and_is_kept(td: FakeTD) -> None:
    run_sync(params("1"), backend(td), apply=True)
    old = td.sql(SEMANTIC, "SELECT * FROM field_metadata WHERE column_name = 'email'")[0]
    manual = list(old)
    manual[5], manual[6] = "Login e-mail", "manual"  # description, description_source
    manual[16], manual[17] = "by-hand-1", old[17] + 1  # row_id, written_at
    td.sql(
        SEMANTIC, f"INSERT INTO field_metadata VALUES ({', '.join('?' * len(old))})", tuple(manual)
    )
    td.add_table("gld_sales", "customers", [("customer_id", "long"), ("email", "varchar")])
    result = run_sync(params("2", sync_mode="full"), backend(td), apply=True)
    email = [r for r in metadata(td) if r[2] == "email"]
    assert len(email) == 1  # the two older versions are gone
    assert email[0][3] == "varchar" and email[0][7:9] == ("Login e-mail", "manual")
    assert result["sync_metadata"]["auto_gen_count"] == 0


HOSTILE_DB = "gld_we/ird?x=1#../"
HOSTILE = [
    "x'); DROP TABLE field_metadata; --",
    'double "quoted"',
    "line\nbreak\rand\ttab\x1b[31m",
    "ünï🙂\u2028\u2029",
    "back\\slash U&'\\0041'",
    "semi;colon -- comment /* c */",
    "y" * 1000,
]


def test_hostile_names_are_data_never_sql(td: FakeTD) -> None:
    for name in HOSTILE:
        td.add_table(HOSTILE_DB, name, [(c, "string") for c in HOSTILE])
    td.add_table("gld_sales", "nul", [("a\x00b", "string"), ("ok", "string")])
    result = run_sync(params("1", sync_options={"batch_size": 7}), backend(td), apply=True)
    stored = {(r[0], r[1], r[2]) for r in metadata(td)}
    for table in HOSTILE:
        for column in HOSTILE:
            assert (HOSTILE_DB, table, column) in stored
    assert ("gld_sales", "nul", "ok") in stored
    assert any("NUL" in w for w in result["warnings"])
    assert any("\\x00" not in s and "U&'" in s for s in td.statements)  # escapes were needed
    assert run_sync(params("2"), backend(td), apply=True)["rows_to_write"] == 0
    table_lists = {path for method, path in td.requests if path.startswith("/v3/table/list/")}
    assert "/v3/table/list/gld_we%2Fird%3Fx%3D1%23..%2F" in table_lists


def test_delta_report_sql_selects_the_session_changes(td: FakeTD) -> None:
    run_sync(params("101"), backend(td), apply=True)
    change_schema(td)
    run_sync(params("102"), backend(td), apply=True)
    text = (ROOT / "digsync" / "queries" / "delta_report.sql").read_text()
    assert "${" in text
    sql = (
        text.replace("${digsync_tables.field_metadata}", "field_metadata")
        .replace("${digsync_tables.sync_log}", "sync_log")
        .replace("${session_id}", "102")
    )
    rows = backend(td).client.query(SEMANTIC, sql, "delta report")
    assert sorted((r[0], r[3]) for r in rows) == [
        ("new", "customer_email"),
        ("new", "refund_id"),
        ("removed", "phone"),
        ("type_changed", "amount"),
    ]
    assert {r[15:17] == [1, 2] for r in rows} == {True}  # l.new_tables, l.new_columns


def test_transient_errors_are_retried_with_backoff(td: FakeTD) -> None:
    sleeps = Sleeps()
    td.fail("GET", "/v3/table/list/", status=503, times=2)
    td.fail("GET", "/v3/job/status/", status=500)
    td.fail("POST", "/v3/job/issue/", status=429, retry_after="7")
    result = run_sync(params("1"), backend(td, sleeps), apply=True)
    assert result["applied"] is True
    assert 7.0 in sleeps  # Retry-After respected
    assert len(metadata(td)) == 5


def test_a_lost_answer_to_a_job_issue_does_not_run_the_statement_twice(td: FakeTD) -> None:
    td.lose_answer("POST", "/v3/job/issue/presto/", query_contains="CREATE TABLE")
    run_sync(params("1"), backend(td), apply=True)
    change_schema(td)
    td.lose_answer("POST", "/v3/job/issue/presto/", query_contains='INSERT INTO "field_')
    run_sync(params("2"), backend(td), apply=True)
    lookups = [p for m, p in td.requests if p.startswith("/v3/job/status_by_domain_key/")]
    assert len(lookups) == 2
    inserts = [s for s in td.statements if s.startswith('INSERT INTO "field_metadata"')]
    assert len(inserts) == 2  # one per session, none twice
    keys = [(r[1], r[2]) for r in metadata(td)]
    assert len(keys) == len(set(keys)) == 7


def test_errors_name_action_status_url_message_and_never_the_key(td: FakeTD) -> None:
    td.fail("GET", "/v3/database/list", status=502, times=10)
    with pytest.raises(TDApiError) as caught:
        run_sync(params("1"), backend(td, attempts=3), apply=False)
    text = str(caught.value)
    assert "listing databases failed: HTTP 502 from http://127.0.0.1:" in text
    assert "/v3/database/list: injected failure" in text
    assert API_KEY not in text and API_KEY not in repr(backend(td).client)
    bad = TDBackend(TDClient("wrong-key", td.url, sleep=Sleeps()))
    before = len(td.requests)
    with pytest.raises(TDApiError, match="HTTP 401") as denied:
        run_sync(params("1"), bad, apply=False)
    assert len(td.requests) == before + 1  # 4xx: no retry
    assert "wrong-key" not in str(denied.value)


def test_a_failed_job_reports_the_server_message(td: FakeTD) -> None:
    td.fail_jobs('INSERT INTO "sync_log"', message="Query exceeded maximum time limit")
    wanted = r"writing the sync log failed: job \d+ ended error: Query exceeded maximum time"
    with pytest.raises(TDJobError, match=wanted):
        run_sync(params("1"), backend(td), apply=True)


def test_crash_between_insert_batches_then_the_retry_completes(td: FakeTD) -> None:
    run_sync(params("1"), backend(td), apply=True)
    change_schema(td)
    for i in range(3):
        td.add_table("gld_sales", f"extra{i}", [("c", "string")])
    # rows in key order: extra0, extra1 | extra2, orders.amount | ... : batch 2 fails
    td.fail_jobs("'extra2'")
    with pytest.raises(TDJobError, match=r"batch 2"):
        run_sync(params("2", sync_options={"batch_size": 2}), backend(td), apply=True)
    partial = {r[1]: r[9] for r in metadata(td)}
    assert (partial["extra0"], partial["extra1"]) == ("2", "2") and "extra2" not in partial
    assert td.sql(SEMANTIC, "SELECT session_id FROM sync_log") == [("1",)]
    retried = run_sync(params("2", sync_options={"batch_size": 2}), backend(td), apply=True)
    assert retried["detect_changes"] == {
        "has_changes": True,
        "new_tables": 4,
        "new_columns": 5,
        "changed_columns": 1,
        "removed_columns": 1,
    }
    assert retried["rows_to_write"] == 5  # the two written before the crash are not redone
    keys = [(r[1], r[2]) for r in metadata(td)]
    assert len(keys) == len(set(keys)) == 10
    assert td.sql(SEMANTIC, "SELECT session_id FROM sync_log ORDER BY 1") == [("1",), ("2",)]


def test_crash_before_superseded_versions_are_deleted_is_cleaned_next_time(td: FakeTD) -> None:
    run_sync(params("1"), backend(td), apply=True)
    change_schema(td)
    td.fail_jobs('DELETE FROM "field_metadata"')
    with pytest.raises(TDJobError):
        run_sync(params("2"), backend(td), apply=True)
    amounts = [r for r in metadata(td) if r[2] == "amount"]
    assert [r[3] for r in amounts] == ["double", "string"]  # two versions for a moment
    state = backend(td).load_state(settings_from_params(params("3")).store, "3")
    assert state.snapshot.rows[("gld_sales", "orders", "amount")].type == "string"  # newest wins
    assert len(state.snapshot.stale_row_ids) == 2  # amount and phone's old versions
    retried = run_sync(params("2"), backend(td), apply=True)
    assert retried["detect_changes"]["changed_columns"] == 1  # from the earlier attempt
    assert retried["rows_to_write"] == 0 and retried["rows_superseded"] == 2
    keys = [(r[1], r[2]) for r in metadata(td)]
    assert len(keys) == len(set(keys))


def test_the_semantic_database_is_created_only_when_allowed(td: FakeTD) -> None:
    other = params("1", semantic_database="brand_new_layer")
    with pytest.raises(StoreError, match="does not exist"):
        run_sync({**other, "create_if_missing": False}, backend(td), apply=True)
    assert "brand_new_layer" not in td.databases
    run_sync(other, backend(td), apply=True)
    assert td.sql("brand_new_layer", "SELECT count(*) FROM field_metadata") == [(5,)]


def test_results_as_one_json_array_are_read_too() -> None:
    with fake_td(result_format="array") as server:
        server.add_table("gld_a", "t", [("x", "string")])
        server.add_database(SEMANTIC)
        run_sync(params("1"), backend(server), apply=True)
        again = run_sync(params("1"), backend(server), apply=True)
        assert again["already_finished"] is True


def test_the_backend_from_the_environment(td: FakeTD) -> None:
    with pytest.raises(SettingsError, match="TD_API_KEY is not set"):
        TDBackend.from_env({})
    b = TDBackend.from_env({"TD_API_KEY": API_KEY, "TD_API_SERVER": td.url})
    assert b.client.base == td.url
    assert TDBackend.from_env({"TD_API_KEY": "k"}).client.base == "https://api.treasuredata.com"
    with pytest.raises(SettingsError, match="TD_API_SERVER"):
        TDBackend.from_env({"TD_API_KEY": "k", "TD_API_SERVER": "ftp://x"})
