"""``digsync serve``: the Config API, the webhook trigger and the web UI on uvicorn.

Public: :func:`run_server` (the command) and :func:`digsync.server.app.create_app`.

FastAPI, uvicorn and anyio come with the ``serve`` extra (``pip install 'digsync[serve]'``)
and are imported only when the server starts: this package's own import needs none of
them (``digsync watch`` uses its service code).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from pathlib import Path
from typing import Any

from digsync.deploy.targets.pool import TargetChoice
from digsync.errors import InputError


class _NoQuery(logging.Filter):
    """Access log lines show the path only: a query string never reaches the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def server_config(app: Any, host: str, port: int, log_level: str = "info") -> Any:
    """The uvicorn configuration digsync serves with (also used by the test fixtures)."""
    import uvicorn

    logging.getLogger("uvicorn.access").addFilter(_NoQuery())
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        server_header=False,
        proxy_headers=False,  # no proxy is trusted to rewrite the client or the scheme
        timeout_graceful_shutdown=10,
    )


# The top-level modules of the serve extra and what they pull in.
SERVE_MODULES = frozenset(
    {"fastapi", "uvicorn", "anyio", "starlette", "pydantic", "pydantic_core", "h11", "click"}
)
SERVE_EXTRA_HINT = "pip install 'digsync[serve]'"


def missing_extra(exc: ModuleNotFoundError) -> InputError | None:
    """The usage error for a module of the serve extra that is not installed."""
    missing = (exc.name or "").partition(".")[0]
    if missing not in SERVE_MODULES:
        return None
    return InputError(
        f"digsync serve needs the serve extra ({missing} is not installed): {SERVE_EXTRA_HINT}"
    )


def run_server(config_path: str, host: str, port: int, choice: TargetChoice) -> int:
    """Serve until Ctrl-C; refuse a non-loopback address unless DIGSYNC_API_TOKEN is set.

    Port 0 takes a free port; the line printed once the server accepts names the port
    it bound."""
    try:
        import uvicorn

        from digsync.server.app import create_app
    except ModuleNotFoundError as exc:
        error = missing_extra(exc)
        if error is None:
            raise
        raise error from None

    from digsync.config.model import load_config
    from digsync.errors import ConfigError
    from digsync.server.settings import ServerSettings, is_loopback

    settings = ServerSettings.from_env(config_path, choice, host)
    if not is_loopback(host) and not settings.tokens:
        raise InputError(
            f"--host {host}: refusing to serve beyond this machine without a token; "
            "set DIGSYNC_API_TOKEN (writes then need Authorization: Bearer <token>), "
            "or use --host 127.0.0.1"
        )
    if not Path(config_path).is_file():
        raise InputError(f"{config_path}: no such config file (create one with: digsync init)")
    try:
        load_config(config_path)
    except ConfigError as exc:  # serve anyway: the UI is one way to fix it
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{config_path} has errors; saves are refused until they are fixed", file=sys.stderr)
    sock = listen(host, port)
    url = url_of(host, sock.getsockname()[1])  # the bound port: port 0 takes a free one

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:  # the app has started and the socket accepts connections
                print(f"digsync serve: open {url}  (Ctrl-C to stop)", flush=True)

    server = Server(server_config(create_app(settings), host, sock.getsockname()[1]))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after shutdown
        server.run(sockets=[sock])
    return 0


def listen(host: str, port: int) -> socket.socket:
    """A bound listening socket; a busy port or a bad address is a usage error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only for sockets
    # that say TCP; without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock
