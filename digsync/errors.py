"""The exception tree: user errors (exit 2 or 1) versus bugs (exit 3)."""

from __future__ import annotations

from typing import NamedTuple


class DigsyncError(Exception):
    """Root of every error digsync raises on purpose. Message is shown to the user."""

    exit_code = 2


class UsageError(DigsyncError):
    """Bad command-line usage or a missing file."""


class Mark(NamedTuple):
    """A position in a file; line and column are 1-based. (A tuple: one per YAML node.)"""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class YamlSyntaxError(DigsyncError):
    """The text is not YAML, or breaks a loading rule (such as duplicate keys)."""

    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(f"{mark}: {message}")
        self.mark = mark
        self.message = message


class ScheduleError(DigsyncError):
    """A schedule, cron pattern or time zone that Digdag would reject."""


class Problem(NamedTuple):
    """One config finding: where, which key, what is wrong, and how to fix it."""

    mark: Mark | None
    key_path: str
    message: str
    hint: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.mark}: " if self.mark else ""
        key = f"{self.key_path}: " if self.key_path else ""
        hint = f" ({self.hint})" if self.hint else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{key}{self.message}{hint}"


class ConfigError(DigsyncError):
    """config.yaml has one or more errors; all of them are carried."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
