"""Helpers shared by the benchmark scripts (they print figures; nothing is asserted)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "config.yaml"
BIN = Path(sys.executable).parent


def time_calls(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds per call over repeat calls (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def time_command(
    argv: Sequence[str], repeat: int, cwd: Path | None = None, check: bool = True
) -> float:
    """Median wall seconds of a whole process, interpreter start included.

    Byte-code caching is on, as in a normal install (this workplace sets
    PYTHONDONTWRITEBYTECODE); one warm-up run writes the caches.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run() -> None:
        subprocess.run(
            argv,
            check=check,
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    run()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


class ChildServer:
    """A fake server run by ``script`` in a child process (so it does not share our
    GIL): it prints its URL first, then answers one line per command on stdin."""

    def __init__(self, script: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=ROOT,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout and self.proc.stdin
        self.url = self.proc.stdout.readline().strip()

    def ask(self, command: str) -> str:
        assert self.proc.stdout and self.proc.stdin
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
