"""Small pieces of the sync runtime: SQL quoting, batching, parsing, templates, versions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from digsync.runtime.autogen import (
    AutoGeneration,
    Generated,
    compile_auto_generation,
    compile_rules,
    generate,
    render,
)
from digsync.runtime.errors import SettingsError, TDApiError, redact
from digsync.runtime.model import CatalogColumn, MetaRow, Snapshot, name_problem, show
from digsync.runtime.schema import parse_tags, row_from_values, row_to_values
from digsync.runtime.settings import settings_from_params
from digsync.runtime.sql import MAX_STATEMENT_BYTES, batched, ident, literal, row_values
from digsync.runtime.td_api import base_url, parse_rows, segment
from tests.fake_td import FakeSqlError, translate


def test_literals_double_quotes_and_escape_control_characters() -> None:
    assert literal(None) == "NULL"
    assert literal(True) == "TRUE"
    assert literal(42) == "42"
    assert literal("it's") == "'it''s'"
    assert literal("a\\b; --") == "'a\\b; --'"  # plain literals have no backslash escapes
    assert literal("a\nb'\\") == "U&'a\\000Ab''\\\\'"
    assert literal("\x1b[31m\x7f\x85") == "U&'\\001B[31m\\007F\\0085'"
    assert literal("表🙂\u2028") == "'表🙂\u2028'"
    for bad in ("a\x00b", "\ud800"):
        with pytest.raises(ValueError):
            literal(bad)


@pytest.mark.parametrize(
    "value", ["plain", "it's", "new\nline\r\t", "x'); DROP TABLE t; --", "\\'\\", "🙂\x01'"]
)
def test_literals_round_trip_through_the_fake_trino(value: str) -> None:
    import sqlite3

    statement = translate(f"SELECT {literal(value)}")
    assert sqlite3.connect(":memory:").execute(statement).fetchone() == (value,)


def test_identifiers_are_checked_and_quoted() -> None:
    assert ident("field_metadata") == '"field_metadata"'
    assert ident("2024_meta") == '"2024_meta"'
    for bad in ('a"b', "A", "a b", "", "x" * 256, "a;b"):
        with pytest.raises(ValueError):
            ident(bad)


def test_batches_respect_row_count_and_statement_size() -> None:
    items = [row_values([i, "x"]) for i in range(10)]
    statements = list(batched("INSERT INTO t VALUES ", items, "", 4))
    assert len(statements) == 3
    assert statements[0] == "INSERT INTO t VALUES (0, 'x'),\n(1, 'x'),\n(2, 'x'),\n(3, 'x')"
    big = ["'" + "y" * 300_000 + "'"] * 7
    sized = list(batched("SELECT ", big, "", 100))
    assert len(sized) == 4 and all(len(s.encode()) <= MAX_STATEMENT_BYTES for s in sized)
    with pytest.raises(ValueError, match="larger than"):
        list(batched("SELECT ", ["'" + "z" * MAX_STATEMENT_BYTES + "'"], "", 1))
    assert list(batched("X", [], "", 5)) == []


def test_the_fake_refuses_what_trino_on_td_would() -> None:
    for statement in (
        "SELECT 1; DROP TABLE t",
        "SELECT 'a\nb'",
        "SELECT ?",
        "UPDATE t SET a = 1",
        "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING",
        "DELETE FROM t",
        "PRAGMA table_info(t)",
    ):
        with pytest.raises(FakeSqlError):
            translate(statement)
    assert translate("-- c\nDELETE FROM t WHERE a = 'x;y'") == "\nDELETE FROM t WHERE a = 'x;y'"


def test_job_results_as_json_lines_or_one_array() -> None:
    assert parse_rows(b"") == []
    assert parse_rows(b"[]") == []
    assert parse_rows(b'["a",1,null]\n["b\\n",2,3.5]\n') == [["a", 1, None], ["b\n", 2, 3.5]]
    assert parse_rows('["x\u2028y"]\n'.encode()) == [["x\u2028y"]]
    assert parse_rows(b'[["a",1],["b",2]]') == [["a", 1], ["b", 2]]
    assert parse_rows(b'["only", "row"]') == [["only", "row"]]
    with pytest.raises(ValueError):
        parse_rows(b'{"a": 1}\n')


def test_endpoints_and_path_segments() -> None:
    assert base_url("api.treasuredata.co.jp") == "https://api.treasuredata.co.jp"
    assert base_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    for bad in ("ftp://x", "https://", "host?x=1", "ho st"):
        with pytest.raises(SettingsError):
            base_url(bad)
    assert segment("a/../b?c#d e") == "a%2F..%2Fb%3Fc%23d%20e"


def test_errors_never_show_the_key() -> None:
    error = TDApiError("listing", 500, "https://h/v3/x", redact("bad key SECRET!", "SECRET"))
    assert str(error) == "listing failed: HTTP 500 from https://h/v3/x: bad key ***!"
    assert "SECRET" not in str(error)


COLUMN = CatalogColumn("gld_sales", "customers", "email_address", "varchar")


def test_generation_collects_tags_and_takes_first_description_and_category() -> None:
    rules = compile_rules(
        [
            {"pattern": "^zzz", "tag": "never", "description": "no"},
            {"pattern": "email", "tag": "pii", "description": None, "pii_category": "email"},
            {"pattern": "address", "tag": "contact", "description": "{column} of {table}"},
            {"pattern": "e", "tag": "pii", "description": "later", "pii_category": "other"},
        ]
    )
    generated = generate(AutoGeneration(rules), COLUMN)
    assert generated.tags == ("pii", "contact")
    assert generated.description == "email_address of customers"
    assert (generated.is_pii, generated.pii_category) == (True, "email")
    assert generate(AutoGeneration(rules), replace(COLUMN, column="id")).tags == ()
    tagged = generate(AutoGeneration(compile_rules([{"pattern": ".", "tag": "pii"}])), COLUMN)
    assert tagged.is_pii and tagged.pii_category is None


def test_templates_fill_only_known_names() -> None:
    assert render("{database}.{table}.{column} ({type})", COLUMN) == (
        "gld_sales.customers.email_address (varchar)"
    )
    assert render("{{column}} {column.__class__} {0} {unknown}", COLUMN) == (
        "{column} {column.__class__} {0} {unknown}"
    )


def test_bad_patterns_are_named() -> None:
    with pytest.raises(SettingsError, match=r"patterns\[1\]\.pattern"):
        compile_rules([{"pattern": "a"}, {"pattern": "[unclosed"}])
    with pytest.raises(SettingsError, match=r"patterns\[0\]\.tag"):
        compile_rules([{"pattern": "a", "tag": 5}])


def test_names_that_cannot_be_synced() -> None:
    assert name_problem("ok name; -- '\"\n") is None
    assert name_problem("") == "empty"
    assert "NUL" in str(name_problem("a\x00"))
    assert "surrogate" in str(name_problem("\udc80"))
    assert "1024" in str(name_problem("x" * 1025))
    assert show("a\nb\x1b\\") == "a\\nb\\x1b\\\\"


def row(**changes: object) -> MetaRow:
    base = MetaRow(
        "db", "t", "c", "long", "int", "text", "auto", ("pii",), True, "email",
        "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z",
        "s1", "type_changed", "s0", "r1", 10,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_rows_round_trip_and_hand_written_values_are_read_leniently() -> None:
    assert row_from_values(row_to_values(row())) == row()
    values = list(row_to_values(row()))
    values[7], values[8], values[14] = "pii, email", "true", None  # tags, is_pii, last_change
    read = row_from_values(values)
    assert (read.tags, read.is_pii, read.last_change) == (("pii", "email"), True, "unchanged")
    assert parse_tags('["a", "a", null, "b"]') == ("a", "b")
    values[0] = None
    with pytest.raises(Exception, match="database_name"):
        row_from_values(values)


def test_the_newest_version_of_a_row_wins() -> None:
    old, new, other = row(row_id="a", written_at=1), row(row_id="b", written_at=2), row(column="d")
    snapshot = Snapshot.from_versions([new, other, old])
    assert snapshot.rows[("db", "t", "c")] == new
    assert snapshot.stale_row_ids == ["a"]
    tie = Snapshot.from_versions([row(row_id="x", written_at=5), row(row_id="y", written_at=5)])
    assert tie.rows[("db", "t", "c")].row_id == "y" and tie.stale_row_ids == ["x"]


ORIGINAL_SECTION = {
    "enabled": True,
    "content_rules": {
        "prefix_auto_generated": "[AUTO]",
        "overwrite_existing": False,
        "overwrite_auto_generated": False,
        "skip_fields_matching": ["time", "td_*"],
    },
    "generate": {"field_descriptions": True, "tags": True, "pii_detection": True},
    "patterns": [
        {
            "name": "identifiers",
            "match": [{"pattern": "^.*_id$"}, {"pattern": "^id$"}],
            "tag": "ID",
            "description_template": "Identifier for {entity}",
            "pii_category": None,
        },
        {
            "name": "timestamps",
            "match": [{"pattern": "^(created|updated)_at$"}],
            "tag": "timestamp",
            "description_template": "When {entity} was {action}",
        },
        {
            "name": "email",
            "match": [{"pattern": "(?i)^email$"}, {"pattern": ".*_email$"}],
            "tag": "contact_info",
            "description_template": "Email address for communication",
            "pii_category": "email",
        },
    ],
}


def gen(section: dict[str, object], column: str, table: str = "loyalty_profile") -> Generated:
    auto = compile_auto_generation(section)
    return generate(auto, CatalogColumn("gld_cstore", table, column, "varchar"))


def test_the_original_systems_pattern_shape_is_understood() -> None:
    assert gen(ORIGINAL_SECTION, "customer_id") == Generated(
        "[AUTO] Identifier for customer", ("ID",), False, None
    )
    assert gen(ORIGINAL_SECTION, "id").description == "[AUTO] Identifier for loyalty profile"
    assert gen(ORIGINAL_SECTION, "created_at").description == "[AUTO] When created was created"
    assert gen(ORIGINAL_SECTION, "EMAIL") == Generated(
        "[AUTO] Email address for communication", ("contact_info",), True, "email"
    )
    assert gen(ORIGINAL_SECTION, "backup_email").pii_category == "email"


def test_skipped_fields_and_disabled_generation_get_nothing() -> None:
    assert gen(ORIGINAL_SECTION, "td_client_id") == Generated(None, (), False, None)
    assert gen(ORIGINAL_SECTION, "time") == Generated(None, (), False, None)
    assert gen({**ORIGINAL_SECTION, "enabled": False}, "customer_id") == Generated(
        None, (), False, None
    )


def test_generate_switches_drop_their_part() -> None:
    section = {
        **ORIGINAL_SECTION,
        "generate": {"field_descriptions": False, "pii_detection": False},
    }
    assert gen(section, "email") == Generated(None, ("contact_info",), False, None)
    section = {**ORIGINAL_SECTION, "generate": {"tags": False}}
    assert gen(section, "email") == Generated(
        "[AUTO] Email address for communication", (), True, "email"
    )


def test_overwrite_auto_generated_is_read() -> None:
    assert compile_auto_generation(ORIGINAL_SECTION).regenerate is False
    assert compile_auto_generation({"patterns": []}).regenerate is True


def test_bad_original_patterns_are_named() -> None:
    broken = {"patterns": [{"match": [{"pattern": "ok"}, {"pattern": "(unclosed"}]}]}
    with pytest.raises(SettingsError, match=r"patterns\[0\]\.match\[1\]\.pattern"):
        compile_auto_generation(broken)
    with pytest.raises(SettingsError, match=r"patterns\[0\]\.pattern must be a non-empty"):
        compile_auto_generation({"patterns": [{"tag": "x"}]})


def test_scope_patterns_may_name_tables() -> None:
    settings = settings_from_params(
        {
            "semantic_database": "semantic_layer_v1",
            "databases": ["analytics", "dwh.fact_*", "gld_*"],
            "exclude_patterns": ["*.temp_*", "gld_scratch"],
        }
    )
    assert settings.in_scope("dwh") and settings.in_scope("analytics")
    assert not settings.in_scope("gld_scratch") and not settings.in_scope("raw")
    assert settings.table_in_scope("dwh", "fact_sales")
    assert not settings.table_in_scope("dwh", "dim_store")
    assert not settings.table_in_scope("dwh", "temp_fact")
    assert not settings.table_in_scope("analytics", "temp_x")
    assert settings.table_in_scope("analytics", "anything")
    assert not settings.table_in_scope("semantic_layer_v1", "field_metadata")
