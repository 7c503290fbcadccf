"""``digsync sync``: the workflow's tasks from the command line, on both backends."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from digsync.cli import main, sync
from digsync.cli.sync import SyncOptions, run_sync_command
from digsync.config.model import load_config
from digsync.errors import UsageError
from digsync.render.project import task_params
from tests.conftest import BASE
from tests.fake_td import API_KEY, fake_td

CONFIG = (
    BASE
    + """\
auto_generation:
  patterns:
    - name: ids
      match: [{pattern: "_id$"}]
      tag: ID
      description_template: "Identifier for {entity}"
"""
)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    with closing(sqlite3.connect(warehouse / "gld_sales.sqlite")) as conn, conn:
        conn.execute("CREATE TABLE orders (order_id INTEGER, amount REAL)")
    with closing(sqlite3.connect(warehouse / "raw_x.sqlite")) as conn, conn:
        conn.execute("CREATE TABLE t (a INTEGER)")
    return config, warehouse


def stored(warehouse: Path) -> list[tuple[str, str, str | None]]:
    path = warehouse / "semantic_layer_v1.sqlite"
    if not path.exists():
        return []
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT table_name, column_name, description FROM field_metadata ORDER BY 1, 2"
        ).fetchall()


def test_the_parameters_are_those_the_workflow_passes(setup: tuple[Path, Path]) -> None:
    params = task_params(load_config(setup[0]))
    assert params["databases"] == ["gld_*"]
    assert params["auto_generation"]["patterns"][0]["tag"] == "ID"
    assert params["digsync_tables"] == {"field_metadata": "field_metadata", "sync_log": "sync_log"}
    assert vars(sync)["task_params"] is task_params  # sync runs what render passes: one definition


def test_without_apply_it_plans_and_writes_nothing(
    setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, warehouse = setup
    assert main(["sync", "--config", str(config), "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "1 new tables, 2 new columns" in out
    assert "+ gld_sales.orders.order_id  integer  (new)" in out
    assert "would write 2 rows (not applied)" in out
    assert stored(warehouse) == []


def test_apply_asks_first_and_a_no_writes_nothing(setup: tuple[Path, Path]) -> None:
    config, warehouse = setup
    lines: list[str] = []
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "n"

    options = SyncOptions(str(config), apply=True, warehouse=str(warehouse))
    assert run_sync_command(options, ask=answer, out=lines.append) == 1
    assert asked == ["Write 2 row(s) to semantic_layer_v1? [y/N] "]
    assert lines[-1] == "Nothing written."
    assert stored(warehouse) == []
    assert run_sync_command(options, ask=lambda _: "yes", out=lines.append) == 0
    assert stored(warehouse) == [
        ("orders", "amount", None),
        ("orders", "order_id", "Identifier for order"),
    ]


def test_apply_approve_writes_without_asking_and_json_is_the_summary(
    setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, warehouse = setup
    args = ["sync", "--config", str(config), "--warehouse", str(warehouse), "--apply"]
    assert main([*args, "--approve", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["applied"] is True
    assert summary["sync_metadata"] == {"new_tables": 1, "new_columns": 2, "auto_gen_count": 1}
    assert len(stored(warehouse)) == 2
    assert main([*args, "--approve"]) == 0
    assert "Nothing to change" in capsys.readouterr().out


def test_apply_reads_a_piped_answer_and_refuses_without_one(
    setup: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, warehouse = setup
    args = ["sync", "--config", str(config), "--warehouse", str(warehouse), "--apply"]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(args) == 2
    assert "no answer on stdin, so nothing was written: add --approve" in capsys.readouterr().err
    assert stored(warehouse) == []
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(args) == 1
    assert stored(warehouse) == []
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(args) == 0
    assert "Write 2 row(s) to semantic_layer_v1? [y/N] " in capsys.readouterr().out
    assert len(stored(warehouse)) == 2


def test_without_a_warehouse_or_key_it_says_what_to_set(
    setup: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TD_API_KEY", raising=False)
    monkeypatch.delenv("DIGSYNC_WAREHOUSE", raising=False)
    with pytest.raises(UsageError, match="TD_API_KEY"):
        run_sync_command(SyncOptions(str(setup[0])))


def test_against_treasure_data(
    setup: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_td() as td:
        td.add_table("gld_sales", "orders", [("order_id", "long"), ("email", "string")])
        td.add_database("semantic_layer_v1")
        monkeypatch.delenv("DIGSYNC_WAREHOUSE", raising=False)
        monkeypatch.setenv("TD_API_KEY", API_KEY)
        monkeypatch.setenv("TD_API_SERVER", td.url)
        monkeypatch.setenv("DIGSYNC_POLL_INTERVAL", "0.01")
        assert main(["sync", "--config", str(setup[0]), "--apply", "--approve"]) == 0
        assert "wrote 2 rows" in capsys.readouterr().out
        assert td.sql("semantic_layer_v1", "SELECT count(*) FROM field_metadata") == [(2,)]
        monkeypatch.setenv("TD_API_KEY", "wrong")
        assert main(["sync", "--config", str(setup[0])]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: sync failed: ")
        assert "wrong" not in err


def test_the_demo_runs_in_a_new_folder_and_refuses_a_foreign_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "demo"
    assert main(["sync", "--demo", "--warehouse", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "== Delta report of session demo-2" in out
    assert "no duplicates" in out
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x", encoding="utf-8")
    assert main(["sync", "--demo", "--warehouse", str(foreign)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (foreign / "keep.txt").read_text(encoding="utf-8") == "x"
