"""digsync watch with real files: a hand edit, an editor's rename-over, a git pull, an
invalid edit and a burst of edits. Most tests step the loop with a clock of their own,
so no assertion depends on how fast the machine is."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from digsync.deploy.targets.pool import TargetChoice
from digsync.editor.service import ConfigService
from digsync.editor.watch import Watcher, WatchEvent, file_state, run
from digsync.history.ledger import Ledger
from tests.server_fixtures import CONFIG, PROJECT, digsync_child, prepare_workdir

DEBOUNCE = 1.0


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return prepare_workdir(tmp_path, monkeypatch)


@pytest.fixture
def service(config: Path) -> Iterator[ConfigService]:
    svc = ConfigService(config, TargetChoice("local"))
    yield svc
    svc.close()


@pytest.fixture
def watcher(service: ConfigService, config: Path) -> Watcher:
    return Watcher(service, config, DEBOUNCE)


def pushes(config: Path) -> list[str]:
    return [e["result"] for e in Ledger(config.parent / ".digsync", PROJECT).entries()]


def dig(config: Path) -> str:
    return (config.parent / "workflows" / PROJECT / f"{PROJECT}.dig").read_text()


def replace(path: Path, text: str) -> None:
    """Write as editors do, in one step (a real-time loop never sees a half-written file)."""
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def settle(watcher: Watcher, start: float) -> WatchEvent | None:
    """Poll right after a change, then once the debounce time has passed."""
    assert watcher.poll(start) is None
    return watcher.poll(start + DEBOUNCE)


def test_a_hand_edit_is_pushed_after_the_debounce(watcher: Watcher, config: Path) -> None:
    assert watcher.poll(0.0) is None  # nothing changed since the start
    config.write_text(CONFIG.replace('"03:00:00"', '"04:00:00"'))
    assert watcher.poll(0.5) is None
    assert watcher.poll(0.5 + DEBOUNCE / 2) is None  # still resting
    event = watcher.poll(0.5 + DEBOUNCE)
    assert event is not None
    assert event.kind == "pushed"
    assert event.message.startswith(f"{config}: pushed revision digsync-")
    assert 'daily>: "04:00:00"' in dig(config)
    assert pushes(config) == ["pushed"]
    assert watcher.poll(10.0) is None


def test_an_editors_rename_over_the_file_is_caught(watcher: Watcher, config: Path) -> None:
    before = file_state(config)
    tmp = config.parent / ".config.yaml.swp"
    tmp.write_text(CONFIG.replace("sync_mode: delta", "sync_mode: full"))
    os.replace(tmp, config)
    assert file_state(config).inode != before.inode
    event = settle(watcher, 1.0)
    assert event is not None and event.kind == "pushed"
    assert "sync_mode: full" in dig(config)


def test_a_git_pull_is_caught(watcher: Watcher, config: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed for this test")

    def git(*args: str) -> None:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
        env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
        subprocess.run(["git", *args], cwd=config.parent, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "config.yaml")
    git("commit", "-q", "-m", "daily at 03")
    git("checkout", "-q", "-b", "upstream")
    config.write_text(CONFIG.replace("frequency: daily", "frequency: hourly").replace(
        '"03:00:00"', '"20:00"'
    ))  # fmt: skip
    git("commit", "-q", "-am", "hourly")
    git("checkout", "-q", "main")
    watcher = Watcher(watcher.service, config, DEBOUNCE)  # watching from here on
    git("merge", "-q", "--ff-only", "upstream")  # what git pull does
    event = settle(watcher, 1.0)
    assert event is not None and event.kind == "pushed"
    assert 'hourly>: "20:00"' in dig(config)


def test_an_invalid_edit_is_reported_with_file_and_line_and_nothing_is_pushed(
    watcher: Watcher, config: Path, service: ConfigService
) -> None:
    config.write_text(
        CONFIG.replace("frequency: daily", "frequency: dayly").replace("gld_*", "GLD")
    )
    event = settle(watcher, 1.0)
    assert event is not None
    assert (event.kind, event.message) == ("invalid", f"{config}: 2 error(s); nothing pushed")
    assert [str(p).split(": ")[0] for p in event.problems] == [f"{config}:6:15", f"{config}:12:16"]
    assert str(event.problems[1]).startswith(
        f"{config}:12:16: sync.schedule.frequency: expected one of manual, hourly,"
    )
    assert pushes(config) == []
    assert not (config.parent / "workflows").exists()
    assert [r["result"] for r in service.audit.entries()] == ["invalid"]
    config.write_text(CONFIG.replace('"03:00:00"', '"06:00:00"'))  # fixed: now it is pushed
    fixed = settle(watcher, 5.0)
    assert fixed is not None and fixed.kind == "pushed"


def test_a_burst_of_edits_is_one_push_of_the_last(watcher: Watcher, config: Path) -> None:
    now = 0.0
    for hour in range(4, 10):
        config.write_text(CONFIG.replace('"03:00:00"', f'"{hour:02d}:00:00"'))
        now += DEBOUNCE / 4  # each edit comes before the last one has rested
        assert watcher.poll(now) is None
    event = watcher.poll(now + DEBOUNCE)
    assert event is not None and event.kind == "pushed"
    assert watcher.poll(now + 10 * DEBOUNCE) is None
    assert pushes(config) == ["pushed"]
    assert 'daily>: "09:00:00"' in dig(config)


def test_a_touch_or_an_edit_undone_pushes_nothing(watcher: Watcher, config: Path) -> None:
    os.utime(config, ns=(1, 1))
    assert settle(watcher, 1.0) is None
    config.write_text(CONFIG.replace("delta", "full"))
    assert watcher.poll(5.0) is None
    config.write_text(CONFIG)
    assert settle(watcher, 5.1) is None
    assert pushes(config) == []


def test_a_file_that_goes_away_and_comes_back(watcher: Watcher, config: Path) -> None:
    config.unlink()
    gone = settle(watcher, 1.0)
    assert gone is not None
    assert (gone.kind, gone.message) == (
        "missing",
        f"{config} is missing; waiting for it to come back",
    )
    config.write_text(CONFIG.replace("delta", "full"))
    back = settle(watcher, 5.0)
    assert back is not None and back.kind == "pushed"


def test_the_loop_runs_in_real_time_until_stopped(service: ConfigService, config: Path) -> None:
    watcher = Watcher(service, config, debounce=0.1)
    events: list[WatchEvent] = []
    arrived, stop = threading.Event(), threading.Event()

    def report(event: WatchEvent) -> None:
        events.append(event)
        arrived.set()

    loop = threading.Thread(target=run, args=(watcher, stop, report), kwargs={"interval": 0.01})
    loop.start()
    replace(config, CONFIG.replace('"03:00:00"', '"07:00:00"'))
    assert arrived.wait(timeout=60)
    stop.set()
    loop.join(timeout=60)
    assert not loop.is_alive()
    assert [e.kind for e in events] == ["pushed"]


def test_digsync_watch_pushes_an_edit_and_exits_0_on_ctrl_c(config: Path) -> None:
    args = ("watch", "--config", str(config), "--debounce", "0.1")
    with digsync_child(*args, cwd=config.parent) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == f"watching {config} (debounce 0.1 s); Ctrl-C to stop\n"
        replace(config, CONFIG.replace('"03:00:00"', '"08:00:00"'))
        assert proc.stdout.readline().startswith(f"{config}: pushed revision digsync-")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    assert 'daily>: "08:00:00"' in dig(config)


def test_a_pending_push_is_retried_at_start(watcher: Watcher, config: Path) -> None:
    from digsync.history import pending

    assert watcher.resume() is None  # nothing pending: nothing to do
    pending.mark(config.parent / ".digsync" / PROJECT, "push failed: 503 from PUT ...")
    event = watcher.resume()
    assert event is not None and event.kind == "pushed"
    assert pushes(config) == ["pushed"]
    assert pending.read(config.parent / ".digsync" / PROJECT) is None
    assert watcher.resume() is None


def test_digsync_watch_json_prints_one_line_per_event(config: Path) -> None:
    import json

    args = ("watch", "--config", str(config), "--debounce", "0.1", "--json")
    with digsync_child(*args, cwd=config.parent) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stderr.readline() == f"watching {config} (debounce 0.1 s); Ctrl-C to stop\n"
        replace(config, CONFIG.replace("frequency: daily", "frequency: dayly"))
        invalid = json.loads(proc.stdout.readline())
        assert (invalid["kind"], invalid["message"]) == (
            "invalid",
            f"{config}: 1 error(s); nothing pushed",
        )
        (problem,) = [p for p in invalid["problems"] if p["severity"] == "error"]
        assert (problem["key_path"], problem["hint"]) == (
            "sync.schedule.frequency",
            "did you mean 'daily'?",
        )
        replace(config, CONFIG.replace('"03:00:00"', '"08:00:00"'))
        pushed = json.loads(proc.stdout.readline())
        assert pushed["kind"] == "pushed" and pushed["message"].startswith(f"{config}: pushed")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
