"""Under load and failure: concurrent saves, ETag races, kill -9 during saves, a push
target that is down, and the path to a real (fake) Digdag server end to end."""

from __future__ import annotations

import copy
import random
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from digsync.cli import main
from digsync.config.model import parse_config
from digsync.editor.roundtrip import same
from digsync.yamlio.load import load
from tests.fake_digdag import FakeDigdag, fake_digdag
from tests.server_fixtures import (
    API,
    CONFIG,
    PROJECT,
    config_data,
    live_server,
    prepare_workdir,
    server_process,
)

NO_WEBHOOK = CONFIG.split("notifications:")[0] + CONFIG.split("channel: ")[1].split("\n", 1)[1]
DIG = f"{PROJECT}.dig"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return prepare_workdir(tmp_path, monkeypatch, NO_WEBHOOK)


def variant(base: dict[str, Any], i: int) -> dict[str, Any]:
    """The base config with a daily time of its own."""
    data = copy.deepcopy(base)
    data["sync"]["schedule"]["time"] = f"{i // 60 % 24:02d}:{i % 60:02d}:00"
    return data


def stranger(path: Path, allowed: list[Any]) -> str | None:
    """None when config.yaml is valid and one of allowed, else what it holds."""
    text = path.read_text(encoding="utf-8")
    parse_config(text, str(path))  # valid, or this raises
    data = load(text, str(path)).data
    return None if any(same(data, a) for a in allowed) else text


def is_one_of(path: Path, allowed: list[Any]) -> bool:
    return stranger(path, allowed) is None


@pytest.mark.slow
def test_100_concurrent_saves_leave_a_valid_config_equal_to_one_of_them(config: Path) -> None:
    base = config_data(config)
    submitted = [variant(base, i) for i in range(100)]
    problems: list[str] = []
    done = threading.Event()

    def reader() -> None:  # config.yaml is never torn, never something else
        while not done.wait(0.002):
            try:
                text = stranger(config, [base, *submitted])
                if text is not None:
                    problems.append(f"config.yaml holds a config nobody sent:\n{text}")
            except Exception as exc:
                problems.append(repr(exc))

    with live_server(config) as url:
        start = threading.Barrier(len(submitted))
        statuses: list[int] = []

        def save(data: dict[str, Any]) -> None:
            with httpx.Client(base_url=url, timeout=120) as http:
                start.wait()
                statuses.append(http.post(f"{API}/config", json=data).status_code)

        threads = [threading.Thread(target=save, args=(d,)) for d in submitted]
        watcher = threading.Thread(target=reader)
        watcher.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        watcher.join()
        status = httpx.get(f"{url}{API}/status").json()
    assert problems == []
    assert statuses == [200] * 100
    assert is_one_of(config, submitted)
    assert (status["in_sync"], status["drift"]) == (True, [])  # the target runs the last one


def test_racers_with_the_same_etag_one_wins_the_rest_get_412(config: Path) -> None:
    with live_server(config) as url:
        got = httpx.get(f"{url}{API}/config")
        etag, base = got.headers["ETag"], got.json()
        start = threading.Barrier(8)
        results: list[tuple[int, int]] = []

        def race(i: int) -> None:
            with httpx.Client(base_url=url, timeout=120) as http:
                start.wait()
                r = http.post(f"{API}/config", json=variant(base, i), headers={"If-Match": etag})
                results.append((r.status_code, i))

        threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    codes = sorted(code for code, _ in results)
    assert codes == [200] + [412] * 7
    (winner,) = [i for code, i in results if code == 200]
    assert same(config_data(config), variant(base, winner))


@pytest.mark.slow
def test_kill_9_during_a_save_loop_leaves_a_valid_config(config: Path) -> None:
    rng = random.Random(4)
    base = config_data(config)
    submitted = [variant(base, i) for i in range(40)]
    for round_ in range(4):
        with server_process(config, cwd=config.parent) as server:
            saved = threading.Event()

            def loop(url: str = server.url, saved: threading.Event = saved) -> None:
                with httpx.Client(base_url=url, timeout=30) as http:
                    for i in range(10_000):
                        try:
                            http.post(f"{API}/config", json=submitted[i % len(submitted)])
                        except httpx.HTTPError:
                            return  # the server is gone
                        saved.set()

            saver = threading.Thread(target=loop)
            saver.start()
            assert saved.wait(timeout=60)
            threading.Event().wait(rng.uniform(0.0, 0.3))  # a random moment in the loop
            server.proc.kill()
            server.proc.wait()
            saver.join()
        assert is_one_of(config, [base, *submitted]), f"round {round_}"
    leftovers = list(config.parent.glob(".config.yaml.*.tmp"))
    with server_process(config, cwd=config.parent):
        pass  # a new server cleans up what killed writers left behind
    assert all(not p.exists() for p in leftovers)


@pytest.fixture
def digdag() -> Any:
    with fake_digdag() as server:
        yield server


def test_push_target_down_is_the_500_contract_then_the_next_save_recovers(
    config: Path, digdag: FakeDigdag, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGSYNC_RETRY_ATTEMPTS", "1")
    with (
        live_server(config, target="digdag", endpoint=digdag.url) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        data = http.get(f"{API}/config").json()
        assert http.post(f"{API}/config", json=data).status_code == 200
        digdag.fail("PUT", "/api/projects", status=503, times=2, message="maintenance")
        data["sync"]["schedule"] = {"frequency": "hourly", "time": "10:00", "timezone": "UTC"}
        failed = http.post(f"{API}/config", json=data)
        assert failed.status_code == 500
        body = failed.json()
        assert set(body) == {"error", "code", "details", "etag", "pending"}
        assert (body["error"], body["code"], body["pending"]) == (
            "Config saved but workflow update failed",
            "push_failed",
            True,
        )
        assert body["details"].startswith(f"push failed: 503 from PUT {digdag.url}/api/projects?")
        assert body["details"].endswith(": maintenance")
        assert body["etag"] == failed.headers["ETag"] == http.get(f"{API}/config").headers["ETag"]
        assert config_data(config)["sync"]["schedule"]["frequency"] == "hourly"  # saved
        status = http.get(f"{API}/status").json()
        assert status["pending"]["error"] == body["details"]
        assert status["pending"]["attempts"] == 1
        assert status["in_sync"] is False
        since = status["pending"]["since"]
        assert status["drift"][0] == (
            f"a push is pending since {since} (1 failed attempt(s)): {body['details']}; "
            "digsync push retries it"
        )
        again = http.post(f"{API}/config", json=data)  # the same config: a retry, fails again
        assert again.status_code == 500
        assert http.get(f"{API}/status").json()["pending"]["attempts"] == 2
        recovered = http.post(f"{API}/config", json=data)
        assert recovered.status_code == 200 and recovered.json()["workflowUpdated"] is True
        assert 'hourly>: "10:00"' in digdag.files(PROJECT)[DIG].decode()
        status = http.get(f"{API}/status").json()
        assert (status["pending"], status["in_sync"]) == (None, True)
        audit = http.get(f"{API}/history").json()["audit"]
        assert [a["result"] for a in audit] == ["pushed", "failed", "failed", "pushed"]


def test_digsync_push_clears_a_pending_push(
    config: Path, digdag: FakeDigdag, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGSYNC_RETRY_ATTEMPTS", "1")
    with (
        live_server(config, target="digdag", endpoint=digdag.url) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        data = http.get(f"{API}/config").json()
        digdag.fail("PUT", "/api/projects", status=500, times=1)
        assert http.post(f"{API}/config", json=data).status_code == 500
        assert http.get(f"{API}/status").json()["pending"] is not None
        code = main(
            ["push", "--config", str(config), "--target", "digdag", "--endpoint", digdag.url]
        )
        assert code == 0
        status = http.get(f"{API}/status").json()
        assert (status["pending"], status["in_sync"]) == (None, True)


def test_a_closed_port_is_a_push_failure_that_status_still_reports(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.server_fixtures import free_port

    monkeypatch.setenv("DIGSYNC_RETRY_ATTEMPTS", "1")
    closed = f"http://127.0.0.1:{free_port()}"
    with live_server(config, target="digdag", endpoint=closed) as url:
        data = httpx.get(f"{url}{API}/config").json()
        failed = httpx.post(f"{url}{API}/config", json=data)
        status = httpx.get(f"{url}{API}/status").json()
    assert (failed.status_code, failed.json()["code"]) == (500, "push_failed")
    assert status["pending"]["error"] == failed.json()["details"]
    assert status["drift"][1].startswith("cannot read the target's state: find project failed")
    assert status["server_revision"] is None


def test_daily_to_hourly_through_the_api_reaches_the_digdag_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digdag: FakeDigdag
) -> None:
    config = prepare_workdir(tmp_path, monkeypatch)  # with a Slack webhook
    with (
        live_server(config, target="digdag", endpoint=digdag.url) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        data = http.get(f"{API}/config").json()
        assert http.post(f"{API}/config", json=data).json()["workflowUpdated"] is True
        assert 'daily>: "03:00:00"' in digdag.files(PROJECT)[DIG].decode()
        data["sync"]["schedule"]["frequency"] = "hourly"
        data["sync"]["schedule"]["time"] = "30:00"
        saved = http.post(f"{API}/config", json=data)
    assert saved.status_code == 200
    assert saved.json()["scheduleCheck"] == []  # the server's next run matches the preview
    revisions = digdag.revisions(PROJECT)
    assert len(revisions) == 2
    assert revisions[-1].name == saved.json()["revision"]
    assert 'hourly>: "30:00"' in digdag.files(PROJECT)[DIG].decode()
    assert digdag.schedules(PROJECT)[0]["nextRunTime"].endswith(":30:00Z")


def test_the_write_lock_holds_across_processes(config: Path) -> None:
    import fcntl
    import os
    import subprocess
    import sys

    from digsync.config.files import lock_path
    from tests.server_fixtures import ROOT

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom pathlib import Path\nfrom digsync.config.files import locked\n"
            "with locked(Path(sys.argv[1])):\n    print('held', flush=True)\n    input()\n",
            str(config),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline() == "held\n"
        fd = os.open(lock_path(config), os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a save would wait for
            holder.stdin.write("\n")
            holder.stdin.flush()
            assert holder.wait(timeout=60) == 0
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once the holder is done
        finally:
            os.close(fd)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


@pytest.mark.slow
def test_a_target_that_never_answers_does_not_freeze_health_reads_or_the_page(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """45 saves queue behind a target that holds every request: health, GET config and
    the page still answer, saves beyond the first wait at most DIGSYNC_SAVE_WAIT and then
    get 503 with Retry-After, and nothing is written twice."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("DIGSYNC_HTTP_TIMEOUT", "60")
    monkeypatch.setenv("DIGSYNC_PUSH_TIMEOUT", "20")  # room for 44 waits on a busy machine
    monkeypatch.setenv("DIGSYNC_RETRY_TOTAL", "60")  # the push deadline is the one that ends it
    with fake_digdag() as fake:
        fake.delay(seconds=30, times=None)  # the target holds every request past the deadline
        with (
            live_server(config, target="digdag", endpoint=fake.url, save_wait=0.5) as url,
            httpx.Client(base_url=url, timeout=60) as http,
        ):
            base = http.get(f"{API}/config").json()
            with ThreadPoolExecutor(max_workers=45) as pool:
                saves = [
                    pool.submit(http.post, f"{API}/config", json=variant(base, i))
                    for i in range(45)
                ]
                busy = [f.result() for f in saves[1:] if f.result(timeout=30).status_code == 503]
                assert saves[0].done() is False  # the first save still waits on the target
                with httpx.Client(base_url=url, timeout=5) as quick:
                    assert quick.get("/healthz").status_code == 200
                    assert quick.get(f"{API}/config").status_code == 200
                    assert quick.get("/").status_code == 200
                first = saves[0].result(timeout=60)
            assert len(busy) == 44
            assert {r.headers["Retry-After"] for r in busy} == {"2"}
            assert {r.json()["code"] for r in busy} == {"busy"}
            # the target never answered: the first save is saved, its push failed in time
            assert first.status_code == 500 and first.json()["code"] == "push_failed"
            assert "stopped: the push took longer than 20 s" in first.json()["details"]
