"""Terminal output: colour and progress on a terminal, plain text everywhere else.

Colour when the stream is a TTY (not ``TERM=dumb``), never with ``NO_COLOR``, always with
``FORCE_COLOR``. Progress lines go to stderr only on a TTY and never when ``CI`` is set,
so logs of CI runs and pipes stay plain.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import TextIO

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
}
RESULT_STYLE = {"pushed": "green", "failed": "red", "unchanged": "dim", "pending": "yellow"}


def use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return _is_tty(stream) and os.environ.get("TERM") != "dumb"


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False


def paint(text: str, style: str | None, color: bool) -> str:
    """``text`` in the style (a key of the colour table), when colour is on."""
    if not color or not style or not text:
        return text
    return f"\x1b[{_CODES[style]}m{text}\x1b[0m"


def diff_lines(diff: str, color: bool) -> str:
    """A unified diff with added, removed and hunk lines coloured."""
    if not color:
        return diff
    out = []
    for line in diff.splitlines(keepends=True):
        body, end = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        if line.startswith(("+++", "---")):
            style: str | None = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = None
        out.append(paint(body, style, color) + end)
    return "".join(out)


class Progress:
    """``with Progress(total, "pushing") as p: p.advance()``: a self-overwriting line on
    stderr for long batches; silent off a terminal, in CI, and for a single item."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.stream = stream or sys.stderr
        self.shown = total > 1 and _is_tty(self.stream) and not os.environ.get("CI")

    def __enter__(self) -> Progress:
        self._draw()
        return self

    def advance(self, note: str = "") -> None:
        self.done += 1
        self._draw(note)

    def _draw(self, note: str = "") -> None:
        if not self.shown:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        text = f"{self.label} [{bar}] {self.done}/{self.total} {note}"[:120]
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
