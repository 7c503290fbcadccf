"""digsync serve under load; the API server and the loopback fake Digdag server each run
in their own process, as they would in production.

1. POST config -> push confirmed (the target's next run is read back and matches the
   preview): p50 and p99 over 200 sequential saves alternating the schedule, with
   --target local (goal: p99 < 50 ms) and against the Digdag API (goal: p99 < 60 ms).
2. Requests per second for GET config and POST preview with 16 concurrent clients.

--baseline (or BENCH_WITH_BASELINE=1) first prints the baseline revision's figures, from
this script run in the baseline's tree (it drives `digsync serve` over HTTP only).
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from _common import EXAMPLE, ROOT, with_baseline

sys.path.insert(0, str(ROOT))

from bench_push import Server  # the fake Digdag server in a child process

from tests.server_fixtures import server_process

API = "/api/semantic-layer"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
CLIENTS = 16
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))


def saves(url: str, label: str) -> None:
    with httpx.Client(base_url=url, timeout=120) as http:
        data = http.get(f"{API}/config").json()
        first = http.post(f"{API}/config", json=data)
        assert first.status_code == 200, first.text
        samples = []
        for i in range(ROUNDS):
            edit = copy.deepcopy(data)
            edit["sync"]["schedule"]["time"] = f"0{i % 2 + 4}:00:00"
            start = time.perf_counter()
            r = http.post(f"{API}/config", json=edit)
            samples.append(time.perf_counter() - start)
            body = r.json()
            assert r.status_code == 200 and body["workflowUpdated"], body
            assert body["scheduleCheck"] == [], body  # the server's next run matched
    samples.sort()
    p50 = statistics.median(samples) * 1000
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000
    print(
        f"POST config -> push confirmed, {label:<17} ({ROUNDS} saves):  "
        f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms",
        flush=True,
    )


def throughput(url: str, label: str, method: str, path: str, body: Any = None) -> None:
    counts = [0] * CLIENTS
    failures: list[str] = []
    start = threading.Barrier(CLIENTS + 1)
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            start.wait()
            while not stop.is_set():
                r = http.request(method, path, json=body)
                if r.status_code != 200:
                    failures.append(r.text)
                    return
                counts[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    assert not failures, failures[:1]
    total = sum(counts)
    rate = total / elapsed
    print(
        f"{label:<14} {CLIENTS} clients: {rate:8.0f} requests/s  ({total} in {elapsed:.1f} s)",
        flush=True,
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="digsync-bench-serve-") as tmp:
        config = Path(tmp) / "local" / "config.yaml"
        config.parent.mkdir()
        config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
        env = {"DIGSYNC_STATE_DIR": str(Path(tmp) / "local-state")}
        with server_process(config, target="local", env=env, cwd=config.parent) as server:
            saves(server.url, "--target local")
    digdag = Server()
    try:
        with tempfile.TemporaryDirectory(prefix="digsync-bench-serve-") as tmp:
            config = Path(tmp) / "config.yaml"
            config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
            env = {"DIGSYNC_STATE_DIR": str(Path(tmp) / "state")}
            with server_process(
                config, target="digdag", endpoint=digdag.url, env=env, cwd=Path(tmp)
            ) as server:
                saves(server.url, "Digdag API")
                data = httpx.get(f"{server.url}{API}/config").json()
                throughput(server.url, "GET config", "GET", f"{API}/config")
                throughput(server.url, "POST preview", "POST", f"{API}/preview", data)
    finally:
        digdag.close()


if __name__ == "__main__":
    with_baseline(main, "bench_serve.py", current=("bench_serve.py", "_common.py"))
