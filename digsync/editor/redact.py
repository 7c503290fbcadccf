"""Credentials never reach a terminal or a CI log: every CLI output line is redacted.

A server that echoes the request's Authorization header in an error would otherwise
put ``TD1 <key>`` or ``Bearer <token>`` into the message digsync prints. Redacted are
the credentials this process holds (the values of ``TD_API_KEY``, ``TDX_API_KEY``,
``DIGDAG_AUTHORIZATION``, ``DIGSYNC_WEBHOOK_SECRET`` and ``DIGSYNC_API_TOKEN``) and
anything that reads as an Authorization value (``TD1 …``, ``Bearer …``, ``Basic …``).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

MASK = "********"
CREDENTIAL_VARIABLES = (
    "TD_API_KEY",
    "TDX_API_KEY",
    "DIGDAG_AUTHORIZATION",
    "DIGSYNC_WEBHOOK_SECRET",
)
MIN_CREDENTIAL = 4  # shorter values would mask ordinary words of a message
_AUTH_VALUE = re.compile(
    r"\b(TD1|Bearer|Basic|Token)(\s+)"
    r"(?=[\w+/=.~\-]*[0-9/+=]|[\w+/=.~\-]+[A-Z])[A-Za-z0-9+/=._~\-]{8,}"
)
"""An Authorization value: the scheme, then a token of 8+ characters with a digit, one of
/ + =, or a capital after its first letter (so "Basic authentication" is left alone)."""


def credentials(env: Mapping[str, str] | None = None) -> set[str]:
    """The credentials this process holds: the TD API key, the Digdag Authorization value
    (and its token), the webhook secret and every DIGSYNC_API_TOKEN token."""
    env = os.environ if env is None else env
    values = {env.get(name, "").strip() for name in CREDENTIAL_VARIABLES}
    auth = env.get("DIGDAG_AUTHORIZATION", "").strip()
    values.add(auth.partition(" ")[2].strip())
    for item in env.get("DIGSYNC_API_TOKEN", "").split(","):
        values.add(item.strip())
        values.add(item.partition(":")[2].strip())
    return {v for v in values if len(v) >= MIN_CREDENTIAL}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, this process's credentials and Authorization
    values replaced by the mask (longest first, so a key inside a longer one goes too)."""
    return _masked(text, sorted({*secrets, *credentials()}, key=len, reverse=True))


def _masked(text: str, longest_first: Iterable[str]) -> str:
    for secret in longest_first:
        if secret:
            text = text.replace(secret, MASK)
    return _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


class RedactingStream:
    """A text stream that redacts what is written to it; everything else is the
    wrapped stream's (isatty for colour, fileno, encoding)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        # The process's credentials, read once: a batch prints thousands of lines.
        self._secrets = sorted(credentials(), key=len, reverse=True)

    def write(self, text: str) -> int:
        self._stream.write(_masked(text, self._secrets))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def redacted_output() -> Iterator[None]:
    """stdout and stderr redacted for the duration (the CLI's whole run)."""
    saved = sys.stdout, sys.stderr
    sys.stdout = RedactingStream(saved[0])
    sys.stderr = RedactingStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
