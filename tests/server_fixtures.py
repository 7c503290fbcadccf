"""Run the real digsync server on 127.0.0.1 for tests (API tests, Playwright UI tests).

    from tests.server_fixtures import live_server

    with live_server(tmp_path / "config.yaml") as url:          # local target
        httpx.get(f"{url}/api/semantic-layer/config")

    with fake_digdag() as digdag, live_server(config, target="digdag", endpoint=digdag.url) as url:
        ...                                                       # pushes reach FakeDigdag

``live_server(config_path, *, target="local", endpoint=None, state_dir=None, token=None,
webhook_secret=None, webhook_debounce=0.2) -> Iterator[str]`` starts uvicorn with
``create_app`` in a background thread on a free port and yields the base URL without a
trailing slash (``http://127.0.0.1:PORT``); leaving the block shuts it down. ``token``
is a ``DIGSYNC_API_TOKEN`` value (``"secret"`` or ``"alice:t1,bob:t2"``). The state
folder defaults to ``.digsync/`` beside the config. The local target writes
``workflows/`` relative to the current directory: chdir to a tmp folder first.

``serve_app(app)`` runs an app you built yourself (to reach ``app.state``), and
``server_process(config_path, ...)`` runs ``digsync serve`` in a child process
(for kill -9 tests and benchmarks); it yields a :class:`ServerProcess`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from digsync.deploy.targets.pool import TargetChoice
from digsync.server import listen, server_config
from digsync.server.app import create_app
from digsync.server.settings import ServerSettings, parse_tokens

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0


def settings_for(
    config_path: Path | str,
    *,
    target: str = "local",
    endpoint: str | None = None,
    state_dir: Path | None = None,
    token: str | None = None,
    webhook_secret: str | None = None,
    webhook_debounce: float = 0.2,
    **extra: Any,
) -> ServerSettings:
    """Server settings as live_server builds them (extra: any other ServerSettings field)."""
    return ServerSettings(
        config_path=Path(config_path),
        choice=TargetChoice(target, endpoint),
        state_dir=state_dir,
        tokens=parse_tokens(token or ""),
        webhook_secret=webhook_secret,
        webhook_debounce=webhook_debounce,
        **extra,
    )


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1:<free port> in a thread; yield its URL."""
    import uvicorn

    sock = listen("127.0.0.1", 0)  # as digsync serve binds (TCP_NODELAY on answers)
    port = sock.getsockname()[1]
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def live_server(config_path: Path | str, **options: Any) -> Iterator[str]:
    """The digsync app for config_path, served on 127.0.0.1; yields the base URL."""
    with serve_app(create_app(settings_for(config_path, **options))) as url:
        yield url


class ServerProcess(NamedTuple):
    url: str
    proc: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def digsync_child(*args: str, cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """``python -m digsync ARGS`` as a child with text pipes; killed if still alive."""
    with child([sys.executable, "-m", "digsync", *args], cwd, dict(os.environ)) as proc:
        yield proc


@contextmanager
def child(argv: list[str], cwd: Path, env: Mapping[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``argv`` as a child with text pipes and digsync importable; killed if still alive."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def server_process(
    config_path: Path | str,
    *,
    target: str = "local",
    endpoint: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[ServerProcess]:
    """``digsync serve`` in a child process on a free port; killed (if alive) at the end."""
    args = [sys.executable, "-m", "digsync", "serve", "--config", str(config_path)]
    args += ["--target", target] + (["--endpoint", endpoint] if endpoint else [])
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for _ in range(5):  # another process may take the free port before the child binds
        port = free_port()
        proc = subprocess.Popen(
            [*args, "--port", str(port)],
            cwd=cwd,
            env=child_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        if _wait_ready(url, proc):
            break
        proc.kill()
        proc.wait()
    else:
        raise RuntimeError("digsync serve did not start")
    try:
        yield ServerProcess(url, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False


# --- shared by the server tests --------------------------------------------------------

WEBHOOK = "https://hooks.slack.com/services/T0SERVER/B0SERVER/ServerTestWebhookSecret"
CONFIG = f"""\
# digsync config for the server tests
semantic_database:
  name: semantic_layer_v1      # the semantic layer

scope:
  databases: ["gld_*"]         # source databases
  exclude_patterns: []

sync:
  sync_mode: delta             # full | delta
  schedule:
    frequency: daily           # how often
    time: "03:00:00"
    timezone: UTC

notifications:
  on_error:
    enabled: true
    channels:
      - type: slack
        channel: "{WEBHOOK}"

workflow:
  project: semantic_layer_sync
  name: semantic_layer_sync
"""
PROJECT = "semantic_layer_sync"
API = "/api/semantic-layer"
_ENV = (
    "DIGSYNC_TARGET",
    "DIGSYNC_ENDPOINT",
    "DIGSYNC_REGION",
    "DIGSYNC_STATE_DIR",
    "DIGSYNC_API_TOKEN",
    "DIGSYNC_WEBHOOK_SECRET",
    "DIGSYNC_CORS_ORIGINS",
    "TD_API_KEY",
    "DIGDAG_AUTHORIZATION",
)


def prepare_workdir(tmp_path: Path, monkeypatch: Any, text: str = CONFIG) -> Path:
    """chdir to tmp_path, clear digsync's variables, fast retries, write config.yaml."""
    monkeypatch.chdir(tmp_path)
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DIGSYNC_USER", "tester")
    monkeypatch.setenv("DIGSYNC_RETRY_BASE", "0.01")
    monkeypatch.setenv("DIGSYNC_RETRY_MAX_BACKOFF", "0.05")
    monkeypatch.setenv("DIGSYNC_RETRY_TOTAL", "10")
    monkeypatch.setenv("DIGSYNC_HTTP_TIMEOUT", "5")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def config_data(path: Path) -> Any:
    """config.yaml as data, read the way digsync reads it."""
    from digsync.yamlio.load import load

    return load(path.read_text(encoding="utf-8"), str(path)).data
