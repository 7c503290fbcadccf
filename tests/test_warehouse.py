"""warehouse: {type: sqlite, path: DIR}: the self-hosted mode, rendered without TD."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import digsync.runtime as runtime
from digsync.config.model import load_config, parse_config
from digsync.dig.lint.core import lint_paths
from digsync.dig.loader import load_dig
from digsync.errors import ConfigError
from digsync.render.project import render_project, render_workflow
from digsync.render.writer import sync_files
from tests.conftest import BASE, EXAMPLE

SQLITE = BASE + "warehouse:\n  type: sqlite\n  path: data\n"


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "/srv/conf/config.yaml")
    return [str(p) for p in info.value.problems]


def sqlite_config(tmp_path: Path, text: str = SQLITE) -> Any:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_td_stays_the_default_and_renders_as_before() -> None:
    config = parse_config(BASE)
    assert config.warehouse.type == "td" and not config.warehouse.is_local
    doc = render_workflow(config)
    assert doc["_export"]["docker"] == {"image": config.docker_image}
    assert doc["_export"]["td"] == {"database": "semantic_layer_v1"}
    assert doc["+detect_changes"]["_env"] == {"TD_API_KEY": "${secret:td.apikey}"}
    report = doc["+sync_if_changed"]["_do"]["+delta_report"]
    assert report == {"td>": "queries/delta_report.sql", "database": "semantic_layer_v1"}
    assert "queries/delta_report.sql" in render_project(config).files


def test_sqlite_renders_no_docker_image_no_td_key_and_a_py_delta_report(tmp_path: Path) -> None:
    config = sqlite_config(tmp_path)
    doc = render_workflow(config)
    folder = str(tmp_path / "data")
    assert doc["_export"] == {
        "digsync_tables": {"field_metadata": "field_metadata", "sync_log": "sync_log"}
    }
    assert doc["+detect_changes"]["_env"] == {"DIGSYNC_WAREHOUSE": folder}
    do = doc["+sync_if_changed"]["_do"]
    assert do["+sync_metadata"]["_env"] == {"DIGSYNC_WAREHOUSE": folder}
    assert do["+delta_report"] == {
        "py>": "digsync_tasks.delta_report",
        "_env": {"DIGSYNC_WAREHOUSE": folder},
        "semantic_database": "semantic_layer_v1",
    }
    files = render_project(config).files
    text = files["semantic_layer_sync.dig"].decode()
    for td_only in ("td.apikey", "docker:", "image:", "td>", "TD_API_KEY"):
        assert td_only not in text
    assert "queries/delta_report.sql" not in files


def test_python_names_the_command_py_runs(tmp_path: Path) -> None:
    config = sqlite_config(tmp_path, SQLITE + "  python: /usr/bin/python3\n")
    assert render_workflow(config)["_export"]["py"] == {"python": "/usr/bin/python3"}
    assert "py" not in render_workflow(sqlite_config(tmp_path))["_export"]


def test_an_absolute_path_is_kept_and_a_relative_one_is_from_the_config_folder(
    tmp_path: Path,
) -> None:
    absolute = sqlite_config(tmp_path, SQLITE.replace("path: data", "path: /var/wh/"))
    assert absolute.warehouse.folder(absolute.path) == "/var/wh"
    nested = tmp_path / "team"
    nested.mkdir()
    relative = sqlite_config(nested, SQLITE.replace("path: data", "path: ../shared/wh"))
    assert relative.warehouse.folder(relative.path) == str(tmp_path / "shared" / "wh")


def test_the_sqlite_render_passes_the_digdag_lint_profile(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8") + "\nwarehouse:\n  type: sqlite\n  path: wh\n"
    config = sqlite_config(tmp_path, text)
    out = tmp_path / "out"
    sync_files(out, render_project(config).files)
    assert lint_paths([str(out)], profile="digdag") == []
    td = lint_paths([str(out)], profile="td")  # not a TD project: py> has no image there
    assert {f.code for f in td} == {"td-docker-image"}, td


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            "warehouse:\n  type: sqlite\n",
            "warehouse.path: missing: type sqlite needs the folder of <database>.sqlite files",
        ),
        (
            "warehouse:\n  path: data\n",
            "warehouse.path: path is used only with type: sqlite (type td reads Treasure Data)",
        ),
        (
            "warehouse:\n  type: duckdb\n",
            "warehouse.type: expected one of td, sqlite; got 'duckdb'",
        ),
        (
            "warehouse:\n  type: sqlite\n  path: /data/${session_date}\n",
            "warehouse.path: must be a plain folder path: Digdag evaluates '${' in it",
        ),
        (
            "warehouse:\n  type: sqlite\n  path: /data/a$$b\n",
            "warehouse.path: must be a plain folder path: Digdag evaluates '${' in it as a "
            "variable and turns '$$' into '$'",
        ),
        (
            "warehouse:\n  python: python3\n",
            "warehouse.python: python is used only with type: sqlite",
        ),
        (
            "warehouse:\n  type: sqlite\n  path: wh\n  python: python3 -u\n",
            "warehouse.python: expected a command name or absolute path such as python3",
        ),
        (
            "warehouse:\n  type: sqlite\n  path: data\ntarget:\n  type: td\n",
            "warehouse.type: warehouse type sqlite runs only on self-hosted Digdag; "
            "target.type td pushes to Treasure Data",
        ),
    ],
)
def test_warehouse_mistakes_are_errors_with_their_place(section: str, expected: str) -> None:
    errors = errors_of(BASE + section)
    assert any(expected in e for e in errors), errors
    assert all(e.startswith("/srv/conf/config.yaml:") for e in errors)


def test_td_only_workflow_keys_are_ignored_with_a_warning(tmp_path: Path) -> None:
    text = SQLITE.replace(
        "  name: semantic_layer_sync\n",
        "  name: semantic_layer_sync\n  docker_image: digdag/digdag-python:3.10\n",
    )
    config = sqlite_config(tmp_path, text)
    assert [w.key_path for w in config.warnings] == ["workflow.docker_image"]
    assert "ignored with warehouse type sqlite" in config.warnings[0].message
    assert "digdag-python" not in render_project(config).files["semantic_layer_sync.dig"].decode()


def test_the_warehouse_changes_the_content_hash(tmp_path: Path) -> None:
    assert sqlite_config(tmp_path).content_hash != parse_config(BASE).content_hash


def test_delta_report_task_prints_and_stores_the_session_s_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    with sqlite3.connect(warehouse / "gld_sales.sqlite") as conn:
        conn.execute("CREATE TABLE orders (order_id INTEGER, email TEXT)")
    monkeypatch.setenv("DIGSYNC_WAREHOUSE", str(warehouse))
    monkeypatch.setitem(__import__("sys").modules, "digdag", None)
    monkeypatch.setattr(runtime, "STORED", {})
    runtime.sync_metadata(semantic_database="semantic_layer_v1", databases=["gld_*"], session_id=9)
    capsys.readouterr()
    runtime.delta_report("semantic_layer_v1", session_id=9)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "delta report for session 9: 2 change(s)"
    assert '"column_name": "email"' in out[1] and '"last_change": "new"' in out[1]
    assert runtime.STORED["delta_report"] == {"rows": 2}


def test_delta_report_outside_a_local_warehouse_says_where_the_report_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DIGSYNC_WAREHOUSE", raising=False)
    monkeypatch.setenv("TD_API_KEY", "1/abc")
    with pytest.raises(runtime.errors.SettingsError, match=r"td> queries/delta_report\.sql"):
        runtime.delta_report("semantic_layer_v1", session_id=1)


def test_the_rendered_dig_loads_as_digdag_reads_it(tmp_path: Path) -> None:
    config = sqlite_config(tmp_path)
    dig = render_project(config).files["semantic_layer_sync.dig"].decode()
    doc = load_dig(dig, "semantic_layer_sync.dig")
    report = doc.data["+sync_if_changed"]["_do"]["+delta_report"]
    assert report["py>"] == "digsync_tasks.delta_report"


def test_a_sqlite_project_is_not_pushed_to_treasure_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from digsync.cli import main
    from tests.push_helpers import push_workdir

    push_workdir(tmp_path, monkeypatch, SQLITE)
    monkeypatch.setenv("TD_API_KEY", "1/not-used")
    code = main(["push", "--target", "td", "--json"])
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert code == 2 and result["status"] == "failed"
    assert result["message"] == (
        "semantic_layer_sync: warehouse type sqlite runs only on self-hosted Digdag, and the "
        "td target is Treasure Data; push with --target digdag (or local), or set warehouse "
        "type td"
    )
    assert main(["push", "--json"]) == 0  # the local target takes it
    capsys.readouterr()


def test_the_sqlite_render_s_tasks_run_with_what_the_dig_passes(tmp_path: Path) -> None:
    """Each py> task of the rendered project, run the way Digdag's runner runs it: the
    task's own parameters over _export and Digdag's built-ins, its _env as environment,
    the project folder as working directory."""
    import sqlite3

    from tests.test_runtime_entrypoints import FAKE_DIGDAG, RUNNER

    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    with sqlite3.connect(warehouse / "gld_sales.sqlite") as conn:
        conn.execute("CREATE TABLE orders (order_id INTEGER, email TEXT)")
    config = sqlite_config(tmp_path, SQLITE.replace("path: data", "path: wh"))
    project = tmp_path / "project"
    sync_files(project, render_project(config).files)
    doc = load_dig((project / "semantic_layer_sync.dig").read_text(), "w.dig").data
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    (fakes / "digdag.py").write_text(FAKE_DIGDAG, encoding="utf-8")

    def run(task: dict[str, Any], session_id: int) -> dict[str, Any]:
        import json
        import os
        import subprocess
        import sys

        builtins = {"session_id": session_id, "session_time": "2027-01-01T00:00:00+00:00"}
        own = {k: v for k, v in task.items() if k not in ("py>", "_env")}
        params = {**doc["_export"], **builtins, **own}
        out = tmp_path / "stored.jsonl"
        out.unlink(missing_ok=True)
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(fakes), "FAKE_DIGDAG_OUT": str(out)}
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, task["py>"], json.dumps(params)],
            cwd=project,
            env={**env, **task["_env"]},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(out.read_text().splitlines()[-1]))

    do = doc["+sync_if_changed"]["_do"]
    assert run(doc["+detect_changes"], 1)["detect_changes"]["has_changes"] is True
    assert run(do["+sync_metadata"], 1)["sync_metadata"]["new_columns"] == 2
    assert run(do["+delta_report"], 1) == {"delta_report": {"rows": 2}}
    assert run(doc["+detect_changes"], 2)["detect_changes"]["has_changes"] is False
