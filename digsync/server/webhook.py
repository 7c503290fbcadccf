"""The event trigger: a signed call re-reads config.yaml and pushes, and a burst of calls
within the debounce window becomes one push."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("digsync.server")


class Debouncer:
    """Run ``action`` once, ``delay`` seconds after the last of a burst of triggers.

    A trigger that arrives while the action runs schedules one more run afterwards,
    so the last change is never lost. ``runs`` counts finished runs.
    """

    def __init__(self, delay: float, action: Callable[[], object]) -> None:
        self.delay = delay
        self.action = action
        self.runs = 0
        self._cond = threading.Condition()
        self._due = 0.0
        self._requested = False
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def trigger(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._due = time.monotonic() + self.delay
            self._requested = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="digsync-debounce")
                self._thread.daemon = True
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is due or running; False if timeout came first."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._requested or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def flush(self) -> None:
        """Make a pending run due now instead of at the end of the window."""
        with self._cond:
            self._due = time.monotonic()
            self._cond.notify_all()

    def close(self, timeout: float = 30.0) -> None:
        """Run what is pending now (an accepted call is never dropped), then stop."""
        self.flush()
        self.wait_idle(timeout)
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed or not self._requested:
                        self._thread = None
                        self._cond.notify_all()
                        return
                    left = self._due - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                self._requested = False
                self._busy = True
            try:
                self.action()
            except Exception:
                log.exception("the debounced push failed")
            finally:
                with self._cond:
                    self._busy = False
                    self.runs += 1
                    self._cond.notify_all()
