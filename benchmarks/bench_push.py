"""Push against the loopback fake Digdag server (tests/fake_digdag.py), run in its own
process as a real server would be (in-process it would share our GIL).

1. 1,000 projects with 10 changed: the number of PUTs (must be 10) and the wall time
   (goal < 3 s), with the number of requests the re-push made.
2. Latency from a config change to a confirmed push of one project: p50 and p99.

--baseline (or BENCH_WITH_BASELINE=1) first prints the figures of the baseline revision.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import EXAMPLE, ROOT, ChildServer, with_baseline

sys.path.insert(0, str(ROOT))

from digsync.deploy.batch import push_many
from digsync.deploy.targets.pool import TargetChoice

SERVER = """
import sys
from tests.fake_digdag import FakeDigdag
with FakeDigdag() as server:
    print(server.url, flush=True)
    for line in sys.stdin:
        if line.strip() == "puts":
            n = sum(1 for r in server.requests if r.method == "PUT" and r.path == "/api/projects")
            print(n, len(server.requests), flush=True)
        elif line.strip() == "clear":
            server.clear_requests()
            print("ok", flush=True)
"""


class Server(ChildServer):
    """The fake Digdag server in a child process."""

    def __init__(self) -> None:
        super().__init__(SERVER)


PROJECTS = int(os.environ.get("BENCH_PROJECTS", "1000"))
CHANGED = 10
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def write_configs(root: Path, count: int) -> list[str]:
    template = EXAMPLE.read_text(encoding="utf-8")
    paths = []
    for i in range(count):
        path = root / f"p{i:04d}.yaml"
        path.write_text(template.replace("project: semantic_layer_sync", f"project: p{i:04d}"))
        paths.append(str(path))
    return paths


def many(server: Server, root: Path) -> None:
    paths = write_configs(root, PROJECTS)
    choice = TargetChoice("digdag", server.url)
    start = time.perf_counter()
    first = push_many(paths, choice, jobs=8)
    initial = time.perf_counter() - start
    assert all(r.status == "pushed" for r in first), [r for r in first if r.status != "pushed"]
    for path in paths[:: PROJECTS // CHANGED][:CHANGED]:
        text = Path(path).read_text()
        Path(path).write_text(text.replace('time: "03:00:00"', 'time: "04:00:00"'))
    server.ask("clear")
    start = time.perf_counter()
    results = push_many(paths, choice, jobs=8)
    elapsed = time.perf_counter() - start
    put_count, requests = (int(x) for x in server.ask("puts").split())
    statuses = {s: sum(1 for r in results if r.status == s) for s in ("pushed", "unchanged")}
    print(f"initial push of {PROJECTS} projects:            {initial:7.2f} s")
    print(
        f"re-push {PROJECTS} projects, {CHANGED} changed:        {elapsed:7.2f} s  "
        f"PUTs: {put_count}  {statuses}  requests: {requests}"
    )


def latency(server: Server, root: Path) -> None:
    (root / "one").mkdir()
    (path,) = write_configs(root / "one", 1)
    choice = TargetChoice("digdag", server.url)
    push_many([path], choice)
    text = Path(path).read_text()
    samples = []
    for i in range(ROUNDS):
        Path(path).write_text(text.replace('"03:00:00"', f'"0{i % 2 + 4}:00:00"'))
        start = time.perf_counter()
        (result,) = push_many([path], choice)
        samples.append(time.perf_counter() - start)
        assert result.status == "pushed" and not result.warnings, result
    samples.sort()
    p50 = statistics.median(samples) * 1000
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000
    print(
        f"config change -> push confirmed ({ROUNDS} rounds): p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
    )


def main() -> None:
    os.environ.setdefault("DIGSYNC_STATE_DIR", tempfile.mkdtemp(prefix="digsync-bench-state-"))
    server = Server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            many(server, Path(tmp))
            latency(server, Path(tmp))
    finally:
        server.close()


if __name__ == "__main__":
    with_baseline(main, "bench_push.py")
