"""The runtime's exceptions. Messages are shown to people (Digdag task logs, the CLI).

Every error says what was being done; none carries the TD API key (see ``redact``).
"""

from __future__ import annotations


class SyncError(Exception):
    """Root of every error the runtime raises on purpose."""


class SettingsError(SyncError):
    """The task parameters (or the CLI's settings) are not usable."""


class CatalogError(SyncError):
    """A source catalog could not be read."""


class StoreError(SyncError):
    """The semantic store could not be read or written."""


class TDApiError(SyncError):
    """A Treasure Data REST call failed: the action, HTTP status, URL and server message."""

    def __init__(self, action: str, status: int | None, url: str, message: str) -> None:
        shown = "no answer" if status is None else f"HTTP {status}"
        super().__init__(f"{action} failed: {shown} from {url}: {message}")
        self.action = action
        self.status = status
        self.url = url
        self.message = message


class TDJobError(SyncError):
    """A Trino job ended in ``error`` (or ``killed``) or did not finish in time."""

    def __init__(self, action: str, job_id: str, status: str, message: str) -> None:
        super().__init__(f"{action} failed: job {job_id} ended {status}: {message}")
        self.action = action
        self.job_id = job_id
        self.status = status
        self.message = message


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced, so no message leaks a key."""
    if secret:
        text = text.replace(secret, "***")
    return text
