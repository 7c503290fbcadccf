"""Helpers shared by the benchmark scripts (they print figures; nothing is asserted)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "config.yaml"
BIN = Path(sys.executable).parent
BASELINE = "1204060"
"""The revision the figures are compared with by default: the state before the
performance work (a flat layout: digsync.remote.push_many and so on)."""


def baseline_wanted() -> bool:
    """--baseline on the command line, or BENCH_WITH_BASELINE=1."""
    return "--baseline" in sys.argv[1:] or os.environ.get("BENCH_WITH_BASELINE") == "1"


def with_baseline(main: Callable[[], None], script: str, current: Sequence[str] = ()) -> None:
    """Run ``main``; when baseline_wanted(), first run the same script at the baseline
    revision, so the two sets of figures come from one run on the same (noisy) machine.

    ``script`` is the file name in benchmarks/. The baseline runs its own copy of it
    (its modules have other paths), except the files named in ``current``: those are
    copied from this checkout into the baseline's tree first (for a script that only
    drives the baseline through processes and HTTP, so that both runs measure the
    same cases)."""
    if baseline_wanted():
        revision = os.environ.get("BENCH_BASELINE") or BASELINE
        print(f"--- baseline ({revision}) ---", flush=True)
        run_baseline(script, revision, current)
        print("--- now ---", flush=True)
    main()


def run_baseline(script: str, revision: str = BASELINE, current: Sequence[str] = ()) -> None:
    """Run benchmarks/<script> of ``revision`` in a throwaway git worktree (removed
    afterwards), in a child process that imports digsync from that worktree."""
    with tempfile.TemporaryDirectory(prefix="digsync-bench-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run(
            [*git, "worktree", "add", "--detach", "--quiet", str(tree), revision], check=True
        )
        try:
            for name in current:
                shutil.copyfile(ROOT / "benchmarks" / name, tree / "benchmarks" / name)
            env = {k: v for k, v in os.environ.items() if k != "BENCH_WITH_BASELINE"}
            env["PYTHONPATH"] = str(tree)
            subprocess.run(
                [sys.executable, str(tree / "benchmarks" / script)],
                cwd=tree / "benchmarks",
                env=env,
                check=True,
            )
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)
            subprocess.run([*git, "worktree", "prune"], check=False)


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
