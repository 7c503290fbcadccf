"""generate over many configs checks and renders them on every core: the files, the
order of actions and the problems are those of one config at a time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digsync.errors import ConfigError
from digsync.render import generate as gen
from tests.conftest import EXAMPLE


def _configs(root: Path, count: int, bad: int | None = None) -> list[str]:
    template = EXAMPLE.read_text(encoding="utf-8")
    paths = []
    for i in range(count):
        text = template.replace("project: semantic_layer_sync", f"project: p{i}")
        if i == bad:
            text = text.replace("frequency: daily", "frequency: fortnightly", 1)
        path = root / f"c{i}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_pool_writes_what_one_at_a_time_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _configs(tmp_path, 6)
    monkeypatch.setattr(gen, "POOL_FROM", 10_000)
    alone = gen.generate(paths, project_dir=str(tmp_path / "alone"))
    monkeypatch.setattr(gen, "POOL_FROM", 2)
    pooled = gen.generate(paths, project_dir=str(tmp_path / "pooled"))
    assert _tree(tmp_path / "pooled") == _tree(tmp_path / "alone")
    assert len(_tree(tmp_path / "alone")) > 6
    if len(os.sched_getaffinity(0)) > 1:  # the pooled run did fork: the workers answer
        assert gen._on_every_core(paths[:2]) is not None
    strip = [(a.path.relative_to(tmp_path / "alone"), a.action) for a in alone.actions]
    assert [(a.path.relative_to(tmp_path / "pooled"), a.action) for a in pooled.actions] == strip


def test_a_pool_reports_every_problem_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _configs(tmp_path, 5, bad=3)
    monkeypatch.setattr(gen, "POOL_FROM", 10_000)
    with pytest.raises(ConfigError) as alone:
        gen.generate(paths, project_dir=str(tmp_path / "out"))
    monkeypatch.setattr(gen, "POOL_FROM", 2)
    with pytest.raises(ConfigError) as pooled:
        gen.generate(paths, project_dir=str(tmp_path / "out"))
    assert pooled.value.problems == alone.value.problems
    assert "c3.yaml" in str(pooled.value) and not (tmp_path / "out").exists()
