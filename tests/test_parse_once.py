"""A save, a push and generate --push check each config once and render it once
(counted where every check and every render goes: config.model.check_loaded and
render.project.render_dig)."""

from __future__ import annotations

import copy
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from digsync.cli import main
from digsync.config import model
from digsync.deploy.targets.pool import TargetChoice
from digsync.editor.service import ConfigService
from digsync.render import project
from tests.conftest import EXAMPLE
from tests.fake_digdag import fake_digdag
from tests.push_helpers import push_workdir


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(model, "check_loaded", counting("check", model.check_loaded))
    monkeypatch.setattr(project, "render_dig", counting("render", project.render_dig))
    return calls


def test_a_save_checks_and_renders_the_config_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: Counter[str]
) -> None:
    monkeypatch.setenv("DIGSYNC_STATE_DIR", str(tmp_path / "state"))
    path = tmp_path / "config.yaml"
    shutil.copy(EXAMPLE, path)
    service = ConfigService(path, TargetChoice("local"))
    try:
        data, _ = service.read()
        assert service.save(copy.deepcopy(data)).workflow_updated
        for hour in ("04", "05"):
            edit = copy.deepcopy(data)
            edit["sync"]["schedule"]["time"] = f"{hour}:00:00"
            counted.clear()
            outcome = service.save(edit)
            assert outcome.workflow_updated and outcome.push_error is None
            assert counted == {"check": 1, "render": 1}
    finally:
        service.close()


def test_generate_push_checks_and_renders_each_config_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: Counter[str]
) -> None:
    push_workdir(tmp_path, monkeypatch, EXAMPLE.read_text(encoding="utf-8"))
    paths = []
    for name in ("one", "two"):
        config = tmp_path / f"{name}.yaml"
        config.write_text(
            EXAMPLE.read_text(encoding="utf-8").replace(
                "project: semantic_layer_sync", f"project: {name}"
            ),
            encoding="utf-8",
        )
        paths += ["--config", str(config)]
    with fake_digdag() as server:
        target = ["--target", "digdag", "--endpoint", server.url]
        code = main(["generate", *paths, "--project-dir", "out", "--push", *target])
        assert code == 0
        assert sorted(p["name"] for p in server.projects.values()) == ["one", "two"]
    assert counted == {"check": 2, "render": 2}
