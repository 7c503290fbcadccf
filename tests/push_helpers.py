"""What the push tests share: a working folder with a clean environment, and the CLI
pointed at a fake Digdag server."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import pytest

from digsync.cli import main
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
