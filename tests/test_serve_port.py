"""``digsync serve --port 0`` takes a free port and prints the one it bound, once it accepts.

The child reads a copy of the bundled example with the local target; the test reads the
URL from its first line of stdout and asks /healthz there.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
from pathlib import Path

import httpx
import pytest

from digsync import __version__
from tests.conftest import EXAMPLE
from tests.server_fixtures import child

LINE = re.compile(r"digsync serve: open (http://127\.0\.0\.1:(\d+)/)  \(Ctrl-C to stop\)\n")


def _serves_on_the_printed_port(argv: list[str], tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "config.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGSYNC_", "TD_"))}
    with child(argv, tmp_path, env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=30)
            pytest.fail(f"digsync serve exited {proc.returncode}: {proc.stderr.read()}")
        found = LINE.fullmatch(line)
        assert found, line
        url, port = found.group(1), int(found.group(2))
        assert 0 < port < 65536
        # Printed after startup: the server answers at once, no retry loop needed.
        health = httpx.get(f"{url}healthz", timeout=10)
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "version": __version__}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0


def test_cli_serve_on_port_0_prints_the_bound_port(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "digsync", "serve", "--config", "config.yaml"]
    _serves_on_the_printed_port([*argv, "--target", "local", "--port", "0"], tmp_path)


def test_run_server_on_port_0_prints_the_bound_port(tmp_path: Path) -> None:
    """The server side alone (digsync.server.run_server), apart from the CLI's checks."""
    code = (
        "import sys\n"
        "from digsync.deploy.targets.pool import TargetChoice\n"
        "from digsync.server import run_server\n"
        "sys.exit(run_server('config.yaml', '127.0.0.1', 0, TargetChoice(target='local')))\n"
    )
    _serves_on_the_printed_port([sys.executable, "-c", code], tmp_path)
