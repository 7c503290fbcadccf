"""What one running server needs to know, read once from the arguments and environment.

Environment (all optional):
  DIGSYNC_API_TOKEN         one token, or a comma list of name:token; writes need it
  DIGSYNC_WEBHOOK_SECRET    HMAC-SHA256 key of POST /api/semantic-layer/webhook
  DIGSYNC_WEBHOOK_DEBOUNCE  seconds a burst of webhook calls is gathered into one push
  DIGSYNC_CORS_ORIGINS      comma list of origins allowed to call the API from a browser
  DIGSYNC_ALLOWED_HOSTS     comma list of extra Host names accepted (loopback binds)
  DIGSYNC_STATE_DIR         where history lives (default .digsync/ beside config.yaml)
  DIGSYNC_SAVE_WAIT         seconds a save waits for one in progress before a 503 (10)
  DIGSYNC_PUSH_TIMEOUT      seconds one push may take in all, its retries included (180)
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from digsync.deploy.targets.pool import TargetChoice
from digsync.errors import InputError
from digsync.history.ledger import state_dir

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_DEBOUNCE = 2.0
DEFAULT_SAVE_WAIT = 10.0
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class ServerSettings(NamedTuple):
    """``tokens`` maps each accepted token to the name the audit log records."""

    config_path: Path
    choice: TargetChoice = TargetChoice()
    state_dir: Path | None = None
    tokens: Mapping[str, str] = {}
    webhook_secret: str | None = None
    webhook_debounce: float = DEFAULT_DEBOUNCE
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] | None = LOOPBACK_NAMES  # None: any Host header
    max_body_bytes: int = MAX_BODY_BYTES
    save_wait: float = DEFAULT_SAVE_WAIT

    @property
    def state(self) -> Path:
        return self.state_dir or state_dir(self.config_path)

    @classmethod
    def from_env(
        cls,
        config_path: str | Path,
        choice: TargetChoice | None = None,
        host: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
    ) -> ServerSettings:
        """Settings for ``digsync serve``; raises InputError for a malformed variable."""
        env = os.environ if env is None else env
        hosts: tuple[str, ...] | None = None
        if is_loopback(host):
            hosts = (*LOOPBACK_NAMES, host, *_split(env.get("DIGSYNC_ALLOWED_HOSTS", "")))
        state = env.get("DIGSYNC_STATE_DIR")
        return cls(
            config_path=Path(config_path),
            choice=choice or TargetChoice(),
            state_dir=Path(state) if state else None,
            tokens=parse_tokens(env.get("DIGSYNC_API_TOKEN", "")),
            webhook_secret=env.get("DIGSYNC_WEBHOOK_SECRET") or None,
            webhook_debounce=_seconds(env.get("DIGSYNC_WEBHOOK_DEBOUNCE")),
            save_wait=_seconds(
                env.get("DIGSYNC_SAVE_WAIT"), DEFAULT_SAVE_WAIT, "DIGSYNC_SAVE_WAIT"
            ),
            cors_origins=_split(env.get("DIGSYNC_CORS_ORIGINS", "")),
            allowed_hosts=hosts,
        )


def parse_tokens(text: str) -> dict[str, str]:
    """``tok`` -> {tok: "api"}; ``alice:t1,bob:t2`` -> {t1: "alice", t2: "bob"}."""
    tokens: dict[str, str] = {}
    for item in _split(text):
        name, sep, token = item.partition(":")
        if not sep:
            name, token = "api", item
        if not name or not token:
            raise InputError(
                "DIGSYNC_API_TOKEN: expected a token or a comma list of name:token entries"
            )
        tokens[token] = name
    return tokens


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _seconds(
    text: str | None,
    default: float = DEFAULT_DEBOUNCE,
    name: str = "DIGSYNC_WEBHOOK_DEBOUNCE",
) -> float:
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise InputError(f"{name}: expected seconds from 0 to 3600")
    return value
