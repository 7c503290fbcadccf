"""The one exception tree. digsync raises only these on purpose; anything else is a bug.

    DigsyncError                  every error digsync raises on purpose (message for users)
    ├── InputError                a file, setting or value digsync cannot use
    │   └── UsageError            the command line itself is wrong (raised by cli/ only)
    ├── ConfigError               config.yaml has problems; carries every Problem
    ├── YamlSyntaxError           text that is not YAML, or breaks a loading rule
    ├── ScheduleError             a schedule, cron pattern or time zone Digdag refuses
    ├── TargetError               a target failed: the server, tdx, or the local folder
    │   └── RemoteError           an HTTP request failed for good (action, status, URL)
    ├── DriftError                the target is not as planned; nothing was changed
    └── (in their stages)         ArchiveError, Busy, StaleETag, RollbackRefused, ...

The command line maps them to exit codes in one table (digsync.cli.EXIT_CODES): drift
and findings exit 1; usage, input, config and target failures exit 2; a bug exits 3.
The Config API and ``--json`` give each a snake_case code (:func:`error_code`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple


class DigsyncError(Exception):
    """Root of every error digsync raises on purpose. Message is shown to the user."""


class InputError(DigsyncError):
    """A file, setting or value digsync cannot use (a missing config file, an unknown
    target, a missing credential); the library raises this, never UsageError."""


class UsageError(InputError):
    """The command line itself is wrong (an option, or options that do not go together)."""


class TargetError(DigsyncError):
    """A push target failed: the workflow server, the tdx CLI or the local folder."""


class RemoteError(TargetError):
    """A request to the workflow server failed for good."""

    def __init__(self, action: str, method: str, url: str, status: int | None, message: str):
        self.action, self.method, self.url, self.status = action, method, url, status
        self.server_message = message
        where = f"{status} from {method} {url}" if status else f"{method} {url}"
        super().__init__(f"{action} failed: {where}: {message}")


class DriftError(DigsyncError):
    """The target is not as planned (someone else pushed, or owns the project);
    nothing was changed."""


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


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, as Digdag's EditDistance computes it."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def close_matches(word: str, candidates: Sequence[str]) -> list[str]:
    """Digdag's EditDistance.suggest with ratio 0.5: the candidates at most half their
    own length away from ``word``, in the order given."""
    return [c for c in candidates if edit_distance(word, c) <= len(c) // 2]


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    """The hint of an unknown name: ``did you mean 'X'?`` with the closest choice by
    :func:`edit_distance` (case aside), or None when none is close."""
    lowered = {c.lower(): c for c in choices}
    near = close_matches(word.lower(), list(lowered))
    if not near:
        return None
    best = min(near, key=lambda c: edit_distance(word.lower(), c))
    return f"did you mean '{lowered[best]}'?"


class ConfigError(DigsyncError):
    """config.yaml has one or more errors; all of them are carried."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def problem_json(p: Problem) -> dict[str, Any]:
    """A problem as data: the one shape of the CLI's ``--json`` and the Config API's
    ``problems`` (docs/api.md). Line and column are null where the input was not YAML;
    the file, when there is one, is in ``text``."""
    return {
        "key_path": p.key_path,
        "message": p.message,
        "hint": p.hint,
        "severity": p.severity,
        "line": p.mark.line if p.mark else None,
        "column": p.mark.column if p.mark else None,
        "text": str(p),
    }


# By class name, so this module imports none of the modules that define them; a class
# not named takes the code of its nearest named base (a SourceError is a usage_error).
_CODES = {
    "ConfigError": "invalid_config",
    "UsageError": "usage_error",
    "InputError": "usage_error",
    "YamlSyntaxError": "invalid_yaml",
    "ScheduleError": "invalid_schedule",
    "RemoteError": "target_error",
    "TdxError": "target_error",
    "TargetFailed": "target_error",
    "TargetError": "target_error",
    "NotOurs": "adopt_required",
    "ConcurrentChange": "concurrent_change",
    "RevisionExists": "revision_exists",
    "ArchiveError": "archive_error",
    "SyncFailed": "sync_failed",
    "RollbackRefused": "rollback_failed",
    "StaleETag": "precondition_failed",
    "Busy": "busy",
    "DriftError": "concurrent_change",
    "DigsyncError": "error",
    "KeyboardInterrupt": "interrupted",
}


def error_code(exc: BaseException) -> str:
    """The snake_case code of an error: ``invalid_config``, ``usage_error``, ...;
    ``internal_error`` for anything digsync does not raise on purpose (a bug)."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _CODES:
            return _CODES[cls.__name__]
    return "internal_error"


def error_json(
    error: str | list[str], code: str, problems: Sequence[Problem] = ()
) -> dict[str, Any]:
    """The error document of ``--json`` on failure, in the Config API's error shape:
    ``{"error": str | [str], "code": str, "problems": [problem]}``."""
    return {"error": error, "code": code, "problems": [problem_json(p) for p in problems]}


def exception_json(exc: BaseException) -> dict[str, Any]:
    """``error_json`` of an exception; a ConfigError lists its errors, as the API does."""
    if isinstance(exc, ConfigError):
        errors = [str(p) for p in exc.problems if p.severity == "error"]
        return error_json(errors or [str(p) for p in exc.problems], "invalid_config", exc.problems)
    return error_json(str(exc), error_code(exc))
