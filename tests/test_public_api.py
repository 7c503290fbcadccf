"""The library's public names: exactly those of digsync.__all__, imported on first use,
and enough to check, render, lint, plan, push, see drift and roll back a config."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import digsync
from tests.conftest import EXAMPLE

PUBLIC = [
    "Config",
    "lint_paths",
    "load_config",
    "make_plan",
    "push",
    "render_project",
    "rollback",
    "status",
]


def test_the_exported_names_are_the_public_api() -> None:
    assert sorted(digsync.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(digsync, name) is not None
        assert name in dir(digsync)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = digsync.nothing  # what the test is about: __getattr__ refuses it


def test_importing_digsync_imports_none_of_its_stages() -> None:
    code = (
        "import sys, digsync\n"
        "print(sorted(m for m in sys.modules if m.startswith('digsync.')))\n"
        "digsync.load_config\n"
        "print('digsync.config.model' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[]", "True"]


def test_a_config_goes_from_file_to_a_pushed_project_and_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIGSYNC_TARGET", raising=False)
    monkeypatch.delenv("DIGSYNC_STATE_DIR", raising=False)
    path = tmp_path / "config.yaml"
    shutil.copy(EXAMPLE, path)
    config = digsync.load_config(path)
    assert isinstance(config, digsync.Config)
    files = digsync.render_project(config).files
    assert "semantic_layer_sync.dig" in files

    plan = digsync.make_plan(config, target="local")
    assert plan.changed and plan.remote is None
    first = digsync.push(config, target="local")
    assert first.status == "pushed", first.message
    assert (tmp_path / "workflows" / config.project / "semantic_layer_sync.dig").read_bytes() == (
        files["semantic_layer_sync.dig"]
    )
    assert digsync.lint_paths([tmp_path / "workflows" / config.project]) == []
    assert digsync.status(config, target="local").in_sync
    assert not digsync.make_plan(config, target="local").changed

    text = path.read_text(encoding="utf-8").replace("frequency: daily", "frequency: hourly", 1)
    assert text != path.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    changed = digsync.load_config(path)
    second = digsync.push(changed, target="local")
    assert second.status == "pushed" and second.revision != first.revision

    back = digsync.rollback(changed, target="local")
    assert back.to_revision == first.revision
    assert digsync.make_plan(config, target="local").changed is False  # runs the first again


def test_progress_is_a_callback_and_the_library_draws_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from digsync.deploy.batch import push_many
    from digsync.deploy.targets.pool import TargetChoice
    from digsync.render.generate import generate

    paths = []
    for name in ("one", "two", "three"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            EXAMPLE.read_text(encoding="utf-8").replace(
                "project: semantic_layer_sync", f"project: {name}"
            ),
            encoding="utf-8",
        )
        paths.append(str(path))
    generated: list[str] = []
    generate(paths, project_dir=str(tmp_path / "out"), progress=generated.append)
    pushed: list[str] = []
    results = push_many(paths, TargetChoice("local"), jobs=2, progress=pushed.append)
    assert generated == ["one", "two", "three"]
    assert sorted(pushed) == ["one", "three", "two"]
    assert [r.status for r in results] == ["pushed"] * 3
    assert capsys.readouterr() == ("", "")
