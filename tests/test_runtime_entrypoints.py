"""The py> entry points, imported the way Digdag's py> runner imports them.

The runtime package is copied as a rendered project would hold it (``digsync_tasks/``, every
``*.py`` except ``_local*``), then a fresh interpreter, with digsync, PyYAML and httpx
made unimportable, imports ``digsync_tasks`` from the project folder, passes the parameters the
function names (as ``digdag_inspect_arguments`` in Digdag's runner.py does) and records
``digdag.env.store`` calls through a fake ``digdag`` module.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import digsync.runtime as runtime
from digsync.config.model import parse_config
from digsync.render.project import task_params
from tests.conftest import BASE
from tests.fake_td import API_KEY, FakeTD, fake_td

RUNTIME = Path(runtime.__file__).parent

FAKE_DIGDAG = '''
"""Stands in for the module Digdag's runner puts in sys.modules."""
import json, os

class _Env:
    def __init__(self):
        self.store_params = {}

    def store(self, params={}, **kwds):
        self.store_params.update(params)
        self.store_params.update(kwds)
        with open(os.environ["FAKE_DIGDAG_OUT"], "a", encoding="utf-8") as f:
            f.write(json.dumps({**params, **kwds}) + "\\n")

env = _Env()
'''

RUNNER = """
import inspect, json, os, sys
for blocked in ("digsync", "yaml", "httpx"):
    sys.modules[blocked] = None  # the py> container has none of them
sys.path.append(os.path.abspath(os.getcwd()))  # as runner.py adds the project folder
command, params = sys.argv[1], json.loads(sys.argv[2])
module, name = command.rsplit(".", 1)
function = getattr(__import__(module, fromlist=[name]), name)
spec = inspect.getfullargspec(function)
assert spec.varkw is None  # else Digdag would pass every parameter
function(**{key: params[key] for key in spec.args if key in params})
"""


def shipped_files() -> list[Path]:
    """What the lead copies into a rendered project's ``digsync_tasks/``."""
    return sorted(p for p in RUNTIME.glob("*.py") if not p.name.startswith("_local"))


def make_project(tmp: Path) -> Path:
    project = tmp / "project"
    (project / "digsync_tasks").mkdir(parents=True)
    for path in shipped_files():
        shutil.copyfile(path, project / "digsync_tasks" / path.name)
    fakes = tmp / "fakes"
    fakes.mkdir()
    (fakes / "digdag.py").write_text(FAKE_DIGDAG, encoding="utf-8")
    return project


def run_task(
    project: Path, command: str, params: dict[str, Any], env: dict[str, str]
) -> list[dict[str, Any]]:
    out = project.parent / "stored.jsonl"
    out.unlink(missing_ok=True)
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(project.parent / "fakes"),
        "FAKE_DIGDAG_OUT": str(out),
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, command, json.dumps(params)],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def td() -> Iterator[FakeTD]:
    with fake_td() as server:
        server.add_table("gld_sales", "orders", [("order_id", "long"), ("email", "string")])
        server.add_table("gld_scratch", "t", [("a", "long")])
        server.add_database("semantic_layer_v1")
        yield server


def digdag_params(session_id: int) -> dict[str, Any]:
    """Task parameters as Digdag passes them: the task's own, _export, built-ins."""
    return {
        "semantic_database": "semantic_layer_v1",
        "databases": ["gld_*"],
        "exclude_patterns": ["gld_scratch*"],
        "sync_mode": "delta",
        "sync_options": {"batch_size": 500},
        "auto_generation": {
            "patterns": [
                {"pattern": "email", "tag": "pii", "description": "E-mail", "pii_category": "email"}
            ]
        },
        "td": {"database": "semantic_layer_v1"},
        "docker": {"image": "treasuredata/customscript-python:3.12.11-td0"},
        "digsync_tables": {"field_metadata": "field_metadata", "sync_log": "sync_log"},
        "session_id": session_id,
        "session_time": "2026-01-01T03:00:00+00:00",
        "session_uuid": "0b0e5b8c-0000-0000-0000-000000000000",
        "attempt_id": 7,
        "timezone": "UTC",
    }


def test_tasks_run_as_digdag_runs_them_and_store_their_results(td: FakeTD, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    env = {"TD_API_KEY": API_KEY, "TD_API_SERVER": td.url, "DIGSYNC_POLL_INTERVAL": "0.01"}
    detect = run_task(project, "digsync_tasks.detect_schema_changes", digdag_params(42), env)
    assert detect == [
        {
            "detect_changes": {
                "has_changes": True,
                "new_tables": 1,
                "new_columns": 2,
                "changed_columns": 0,
                "removed_columns": 0,
            }
        }
    ]
    assert td.job_issues == 0  # detection reads only (the store does not exist yet)
    synced = run_task(project, "digsync_tasks.sync_metadata", digdag_params(42), env)
    assert synced == [{"sync_metadata": {"new_tables": 1, "new_columns": 2, "auto_gen_count": 1}}]
    assert td.sql("semantic_layer_v1", "SELECT session_id FROM sync_log") == [("42",)]
    again = run_task(project, "digsync_tasks.detect_schema_changes", digdag_params(43), env)
    assert again[0]["detect_changes"]["has_changes"] is False


def test_a_missing_key_fails_the_task_with_a_clear_message(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, "digsync_tasks.sync_metadata", json.dumps(digdag_params(1))],
        cwd=project,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path / "fakes")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "TD_API_KEY is not set" in done.stderr


def test_without_digdag_results_go_to_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wh").mkdir()
    monkeypatch.setenv("DIGSYNC_WAREHOUSE", str(tmp_path / "wh"))
    monkeypatch.setitem(sys.modules, "digdag", None)
    monkeypatch.setattr(runtime, "STORED", {})
    params = digdag_params(5)
    accepted = inspect.signature(runtime.sync_metadata).parameters
    runtime.sync_metadata(**{k: v for k, v in params.items() if k in accepted})
    assert runtime.STORED == {
        "sync_metadata": {"new_tables": 0, "new_columns": 0, "auto_gen_count": 0}
    }


def test_entry_points_accept_what_the_rendered_dig_passes() -> None:
    config = parse_config(BASE.replace("sync_mode: delta", "sync_mode: delta\n  batch_size: 10"))
    passed = set(task_params(config))
    assert "sync_options" in passed
    passed |= {
        "auto_generation",
        "digsync_tables",
        "create_if_missing",
        "session_id",
        "session_time",
    }
    for function in (runtime.detect_schema_changes, runtime.sync_metadata):
        spec = inspect.getfullargspec(function)
        assert spec.varkw is None and spec.varargs is None
        assert set(spec.args) == passed
        required = spec.args[: len(spec.args) - len(spec.defaults or ())]
        assert required == ["semantic_database", "databases"]


def test_the_shipped_package_uses_only_the_standard_library() -> None:
    names = [p.name for p in shipped_files()]
    assert "__init__.py" in names and not any(n.startswith("_local") for n in names)
    for path in RUNTIME.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                allowed = top in sys.stdlib_module_names or (
                    top == "digdag" and path.name == "__init__.py"
                )
                assert allowed, f"{path.name} imports {module}"


def test_shipped_files_compile_on_their_own(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    code = textwrap.dedent(
        """
        import sys
        sys.modules["digsync"] = None
        sys.path.insert(0, ".")
        import digsync_tasks, digsync_tasks.sync, digsync_tasks.store_td
        import digsync_tasks.store_sqlite
        print(sorted(n for n in dir(digsync_tasks) if not n.startswith("_")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "detect_schema_changes" in done.stdout and "sync_metadata" in done.stdout


def test_a_module_missing_on_the_server_is_named_not_hidden(tmp_path: Path) -> None:
    """Digdag's runner treats an ImportError while importing ``digsync_tasks`` as "no such module"
    and retries ``digsync_tasks`` as a class path, which ends in "Empty module name". The package
    raises a RuntimeError that names the missing module instead."""
    project = make_project(tmp_path)
    code = textwrap.dedent(
        """
        import os, sys
        sys.modules["sqlite3"] = None  # a server Python built without sqlite3
        sys.path.append(os.getcwd())
        fragments = "digsync_tasks.detect_schema_changes".split(".")
        name = fragments.pop()
        try:
            getattr(__import__(".".join(fragments), fromlist=[name]), name)
        except ImportError:  # the runner's class fallback
            fragments.pop()
            __import__(".".join(fragments), fromlist=[name])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: the workflow's tasks cannot be imported: ")
    assert "needs sqlite3" in last and "Empty module name" not in done.stderr


def test_a_tasks_module_installed_in_the_image_does_not_shadow_the_project(
    tmp_path: Path,
) -> None:
    """Digdag's runner appends the project folder to sys.path, so a package of the same
    name already importable in the image wins. The rendered package's name must be one no
    image carries: here a package ``tasks`` sits on the interpreter's own path."""
    from digsync.render.project import render_project, render_workflow

    config = parse_config(BASE, "config.yaml")
    project = tmp_path / "project"
    for name, data in render_project(config).files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_bytes(data)
    fakes = tmp_path / "fakes"
    (fakes / "tasks").mkdir(parents=True)
    (fakes / "tasks" / "__init__.py").write_text(
        "raise SystemExit('the image tasks package was imported')\n", encoding="utf-8"
    )
    (fakes / "digdag.py").write_text(FAKE_DIGDAG, encoding="utf-8")
    command = render_workflow(config)["+detect_changes"]["py>"]
    module, name = command.rsplit(".", 1)
    code = (
        "import os, sys\n"
        "sys.path.append(os.getcwd())\n"
        f"print(callable(getattr(__import__({module!r}, fromlist=[{name!r}]), {name!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(fakes)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "True\n"
