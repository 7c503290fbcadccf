"""Issue #14, "Files in one place": what digsync writes sits beside config.yaml.

The local target's folder and generate's default folder are read against config.yaml's
folder (not the current one), generate never writes into the local target's folder,
the config lock lives in the state folder, and examples/ ships the schema its config
names.
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from pathlib import Path

import pytest

from digsync.cli import main
from digsync.config import files as configfile
from digsync.config.schema import json_schema
from tests.conftest import BASE, ROOT

PROJECT = "semantic_layer_sync"
DIG = f"{PROJECT}/{PROJECT}.dig"


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """conf/config.yaml, and elsewhere/ as the current folder."""
    monkeypatch.delenv("DIGSYNC_TARGET", raising=False)
    monkeypatch.delenv("DIGSYNC_STATE_DIR", raising=False)
    monkeypatch.setenv("DIGSYNC_USER", "tester")
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "config.yaml").write_text(BASE, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return conf, elsewhere


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- 1. the local target's folder is beside config.yaml ----------------------------


def test_local_push_from_elsewhere_lands_beside_the_config_and_status_agrees(
    layout: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf, elsewhere = layout
    config = str(conf / "config.yaml")
    code, out, err = run(capsys, "push", "--config", config, "--target", "local")
    assert code == 0, out + err
    assert (conf / "workflows" / DIG).is_file()
    assert not (elsewhere / "workflows").exists()
    assert (conf / ".digsync" / PROJECT).is_dir()
    # from yet another folder, status reads the same files and finds no drift
    other = tmp_path / "other"
    other.mkdir()
    os.chdir(other)
    code, out, err = run(capsys, "status", "--config", config, "--target", "local")
    assert code == 0, out + err
    assert f"{PROJECT}: in sync" in out
    code, out, err = run(capsys, "plan", "--config", config, "--target", "local")
    assert code == 0, out + err


def test_relative_workflows_dir_is_read_in_the_config_folder_and_absolute_as_given(
    layout: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf, elsewhere = layout
    config = conf / "config.yaml"
    config.write_text(BASE + "target:\n  workflows_dir: pushed/here\n", encoding="utf-8")
    assert run(capsys, "push", "--config", str(config))[0] == 0
    assert (conf / "pushed" / "here" / DIG).is_file()
    assert not (elsewhere / "pushed").exists()

    absolute = tmp_path / "abs" / "wf"
    config.write_text(BASE + f"target:\n  workflows_dir: {absolute}\n", encoding="utf-8")
    from digsync.config.targets import settings

    assert settings(None, None, {"workflows_dir": str(absolute)}, conf).workflows_dir == absolute
    assert settings(None, None, {}, conf).workflows_dir == conf / "workflows"


# --- 2. generate never writes into the local target's folder ------------------------


def test_generate_refuses_the_local_target_folder(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    conf, _ = layout
    os.chdir(conf)
    code, _, err = run(capsys, "generate", "--config", "config.yaml", "--project-dir", "workflows")
    assert code == 2
    assert str((conf / "workflows").resolve()) in err
    assert "digsync push --target local" in err and "--project-dir" in err
    assert not (conf / "workflows").exists()
    # from another folder, naming the same folder another way: refused too
    os.chdir(conf.parent)
    code, _, err = run(
        capsys, "generate", "--config", "conf/config.yaml", "--project-dir", "conf/workflows"
    )
    assert code == 2 and "local target" in err
    # --output inside the folder writes there just as well
    target = conf / "workflows" / PROJECT / "x.dig"
    assert run(capsys, "generate", "--config", "conf/config.yaml", "--output", str(target))[0] == 2
    assert not (conf / "workflows").exists()


def test_generate_check_may_compare_the_target_folder(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    conf, _ = layout
    config = str(conf / "config.yaml")
    assert run(capsys, "push", "--config", config)[0] == 0
    code, out, err = run(
        capsys, "generate", "--config", config, "--project-dir", str(conf / "workflows"), "--check"
    )
    assert code == 0, out + err  # it writes nothing


def test_generate_into_workflows_is_fine_when_the_target_is_not_local(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    conf, _ = layout
    config = conf / "config.yaml"
    config.write_text(BASE + "target:\n  type: td\n", encoding="utf-8")
    out = conf / "workflows"
    assert run(capsys, "generate", "--config", str(config), "--project-dir", str(out))[0] == 0
    assert (out / DIG).is_file()


def test_the_template_header_commands_keep_status_in_sync(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Run the commands the header of `digsync init`'s config suggests, in its folder:
    status must then report no drift (the old header rendered over workflows/)."""
    conf, _ = layout
    os.chdir(conf)
    (conf / "config.yaml").unlink()
    assert run(capsys, "init")[0] == 0
    header = []
    for line in (conf / "config.yaml").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    found = [re.match(r"#[\w ]+:\s+digsync ([^(]+)", line) for line in header]
    commands = [m.group(1).split() for m in found if m]
    assert [c[0] for c in commands] == ["validate", "generate", "push", "schedule"]
    assert not any("--project-dir" in c and "workflows" in c for c in commands)
    for args in commands:
        code, out, err = run(capsys, *args)
        assert code == 0, (args, out, err)
    assert (conf / "build" / DIG).is_file()
    assert (conf / "workflows" / DIG).is_file()
    code, out, err = run(capsys, "status")
    assert code == 0, out + err
    assert f"{PROJECT}: in sync" in out


# --- 3. generate's default folder is build/ beside the config ----------------------


def test_generate_defaults_to_build_beside_the_config(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    conf, elsewhere = layout
    code, out, err = run(capsys, "generate", "--config", str(conf / "config.yaml"))
    assert code == 0, out + err
    assert (conf / "build" / DIG).is_file()
    assert list(elsewhere.iterdir()) == []
    assert f"build/{DIG}" in out
    code, out, _ = run(capsys, "generate", "--config", str(conf / "config.yaml"), "--check")
    assert code == 0


def test_generate_default_takes_several_configs_each_beside_its_own(
    layout: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf, elsewhere = layout
    second = tmp_path / "second"
    second.mkdir()
    (second / "config.yaml").write_text(
        BASE.replace(f"project: {PROJECT}", "project: other"), encoding="utf-8"
    )
    args = ["generate", "--config", str(conf / "config.yaml"), "--config"]
    code, out, err = run(capsys, *args, str(second / "config.yaml"))
    assert code == 0, out + err
    assert (conf / "build" / DIG).is_file()
    assert (second / "build" / "other").is_dir()
    assert list(elsewhere.iterdir()) == []


# --- 19. the config lock is in the state folder --------------------------------------


def test_the_lock_is_in_the_private_state_folder_not_beside_the_config(
    layout: tuple[Path, Path],
) -> None:
    conf, _ = layout
    config = conf / "config.yaml"
    with configfile.locked(config, timeout=1):
        pass
    assert sorted(p.name for p in conf.iterdir()) == [".digsync", "config.yaml"]
    lock = configfile.lock_path(config)
    assert lock.parent == conf / ".digsync"
    assert lock.is_file()
    assert stat.S_IMODE(lock.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


def test_the_lock_still_serialises_and_times_out_with_busy(
    layout: tuple[Path, Path],
) -> None:
    conf, _ = layout
    config = conf / "config.yaml"
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with configfile.locked(config):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(configfile.Busy), configfile.locked(config, timeout=0.2):
            pass
    finally:
        release.set()
        thread.join(10)
    with configfile.locked(config, timeout=1):
        pass


def test_the_lock_follows_the_state_dir_override(
    layout: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf, _ = layout
    monkeypatch.setenv("DIGSYNC_STATE_DIR", str(tmp_path / "state"))
    with configfile.locked(conf / "config.yaml", timeout=1):
        pass
    assert (tmp_path / "state" / "config.yaml.lock").is_file()
    assert sorted(p.name for p in conf.iterdir()) == ["config.yaml"]


def test_an_old_empty_lock_beside_the_config_is_cleaned_up(layout: tuple[Path, Path]) -> None:
    conf, _ = layout
    old = conf / ".config.yaml.lock"
    old.write_bytes(b"")
    assert old in configfile.remove_stale_temps(conf / "config.yaml")
    assert not old.exists()


def test_serve_saves_leave_nothing_beside_the_config(layout: tuple[Path, Path]) -> None:
    from digsync.deploy.targets.pool import TargetChoice
    from digsync.editor.service import ConfigService

    conf, _ = layout
    config = conf / "config.yaml"
    service = ConfigService(config, TargetChoice("local", None))
    try:
        with configfile.locked(config, timeout=1):
            configfile.save(config, config.read_bytes() + b"# saved\n")
    finally:
        service.close()
    assert not (conf / ".config.yaml.lock").exists()
    assert not [p for p in conf.iterdir() if p.name.endswith(".lock")]


# --- 20. examples/ ships the schema its config names ---------------------------------


def test_examples_ship_the_schema_their_config_points_at() -> None:
    first = (ROOT / "examples" / "config.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./digsync.schema.json"
    shipped = ROOT / "examples" / "digsync.schema.json"
    assert shipped.is_file(), "run: digsync schema > examples/digsync.schema.json"
    assert json.loads(shipped.read_text(encoding="utf-8")) == json_schema(), (
        "examples/digsync.schema.json is stale; regenerate it with: "
        "digsync schema > examples/digsync.schema.json"
    )


def test_the_shipped_schema_is_what_digsync_schema_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert (ROOT / "examples" / "digsync.schema.json").read_text(encoding="utf-8") == printed, (
        "regenerate it with: digsync schema > examples/digsync.schema.json"
    )
