"""What the push tests share: a working folder with a clean environment, the CLI
pointed at a fake Digdag server, and a sleep and clock for the client that never wait."""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import TypedDict

import pytest

from digsync.cli import main
from digsync.deploy.digdag_api import DigdagClient
from digsync.deploy.targets import rest
from tests.fake_digdag import FakeDigdag


class PushJson(TypedDict):
    """One entry of ``push --json``'s results: a PushResult as JSON."""

    project: str
    status: str  # pushed | unchanged | failed
    revision: str | None
    message: str
    warnings: list[str]
    needs_adopt: bool


TARGET_ENV = (
    "DIGSYNC_TARGET",
    "DIGSYNC_ENDPOINT",
    "DIGSYNC_REGION",
    "DIGSYNC_STATE_DIR",
    "TD_API_KEY",
    "DIGDAG_AUTHORIZATION",
)


def push_workdir(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: str,
    retry_total: str = "20",
    http_timeout: str = "1",
) -> Path:
    """tmp_path as the working folder with config.yaml, no target settings from the
    environment, a fixed author and fast retries."""
    monkeypatch.chdir(tmp_path)
    for name in TARGET_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DIGSYNC_USER", "tester")
    monkeypatch.setenv("DIGSYNC_RETRY_BASE", "0.01")
    monkeypatch.setenv("DIGSYNC_RETRY_MAX_BACKOFF", "0.05")
    monkeypatch.setenv("DIGSYNC_RETRY_TOTAL", retry_total)
    monkeypatch.setenv("DIGSYNC_HTTP_TIMEOUT", http_timeout)
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    return tmp_path


def cli(capsys: pytest.CaptureFixture[str], server: FakeDigdag, *args: str) -> tuple[int, str, str]:
    """Run digsync against the fake server: (exit code, stdout, stderr)."""
    code = main([*args, "--target", "digdag", "--endpoint", server.url])
    out, err = capsys.readouterr()
    return code, out, err


class FakeTime:
    """The Digdag client's sleep and clock without waiting: ``sleep`` records the seconds
    asked for and skips them, and ``clock`` runs ahead of time.monotonic by every second
    skipped, so the client's deadlines (and those of ``bounded``) pass as if it had slept."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self._skipped = 0.0
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._skipped += seconds

    def clock(self) -> float:
        with self._lock:
            return time.monotonic() + self._skipped


def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Every Digdag client the CLI makes (the td and digdag targets) sleeps and reads the
    time through one FakeTime."""
    fake = FakeTime()
    monkeypatch.setattr(
        rest, "DigdagClient", functools.partial(DigdagClient, sleep=fake.sleep, clock=fake.clock)
    )
    return fake
