"""Real headless Chromium for the web UI tests: Debian's /usr/bin/chromium driven by
Playwright (no browser download), and a watcher that fails a test on any console
error, page error or Content-Security-Policy violation it did not expect."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, sync_playwright

CHROMIUM = os.environ.get("DIGSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MISSING = (
    "the browser tests need Debian's chromium at {path}, which is missing: "
    "install it with `sudo apt-get install chromium` (or `make browser`)"
)
# Listens before any page script runs; Playwright injects it outside the page's CSP.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""
FAILED_LOAD = "Failed to load resource: the server responded with a status of "


def chromium_missing() -> str | None:
    """Why the browser cannot run, or None when /usr/bin/chromium is there."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    return MISSING.format(path=CHROMIUM)


@contextmanager
def chromium(profile_dir: Path) -> Iterator[BrowserContext]:
    """One headless Chromium with a fresh profile in profile_dir."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


class PageWatch:
    """What went wrong in a page: console errors, uncaught errors, CSP violations.

    A failed HTTP response shows in Chromium's console as "Failed to load resource";
    a test that provokes one on purpose declares it with :meth:`expect_http`.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        self.expected: set[tuple[str, int]] = set()
        page.add_init_script(CSP_LISTENER)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def expect_http(self, path: str, status: int) -> None:
        """This test provokes `status` from `path` on purpose."""
        self.expected.add((path, status))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning"):
            return
        text = message.text
        if text.startswith(FAILED_LOAD):
            status = int(text[len(FAILED_LOAD) :].split(" ", 1)[0])
            path = urlsplit(message.location.get("url", "")).path
            if (path, status) in self.expected:
                return
            text = f"{text} [{path}]"
        self.console.append(f"console {message.type}: {text}")

    def problems(self) -> list[str]:
        """Everything unexpected so far (CSP violations read from the page)."""
        found = self.console + self.errors
        if not self.page.is_closed():
            violations: Any = self.page.evaluate("window.__cspViolations || []")
            found += [f"CSP violation: {v}" for v in violations]
        return found
