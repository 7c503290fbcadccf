"""``digsync sync``: the workflow's own tasks run from the command line.

The same code as the py> tasks (``digsync.runtime``), with the parameters the rendered
.dig would pass them, against the local SQLite warehouse or Treasure Data.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

from digsync.config.model import load_config
from digsync.errors import DigsyncError, UsageError
from digsync.render.project import WAREHOUSE_ENV, task_params


class SyncOptions(NamedTuple):
    config: str
    apply: bool = False
    approve: bool = False
    warehouse: str | None = None
    demo: bool = False
    verbose: bool = False
    json: bool = False


class SyncFailed(DigsyncError):
    """The sync could not read the catalog or write the semantic layer."""


def run_sync_command(
    options: SyncOptions,
    ask: Callable[[str], str] = input,
    out: Callable[[str], None] = print,
) -> int:
    """Plan (and with ``apply`` write) one sync; 0 done or nothing to do, 1 declined."""
    from digsync.runtime import errors as runtime_errors

    if options.approve and not options.apply:
        raise UsageError("--approve goes with --apply")
    try:
        if options.demo:
            return _demo(options, out)
        return _sync(options, ask, out)
    except runtime_errors.SettingsError as exc:
        raise UsageError(str(exc)) from None
    except runtime_errors.SyncError as exc:
        raise SyncFailed(f"sync failed: {exc}") from None


def _sync(options: SyncOptions, ask: Callable[[str], str], out: Callable[[str], None]) -> int:
    from digsync.runtime import (
        apply_plan,
        format_summary,
        plan_sync,
        settings_from_params,
        summarize,
    )

    config = load_config(options.config)
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    local = config.warehouse.folder(config.path) if config.warehouse.is_local else None
    backend = _backend(options.warehouse or local)
    plan = plan_sync(settings_from_params(task_params(config)), backend)
    summary = summarize(plan, applied=False)
    limit = len(summary["changes"]) if options.verbose else 20
    if not options.apply:
        _show(options, summary, out, format_summary(summary, limit=limit))
        return 0
    if plan.done is None and not plan.rows:
        _show(options, summary, out, "Nothing to change: the semantic layer is up to date.")
        return 0
    if not options.approve:
        if options.json:
            raise UsageError("--apply --json needs --approve (there is no one to ask)")
        out(format_summary(summary, limit=limit))
        question = f"Write {len(plan.rows)} row(s) to {plan.settings.store.database}? [y/N] "
        try:
            answer = ask(question)  # a terminal, or an answer piped in (echo y | ...)
        except (EOFError, OSError):
            raise UsageError(
                "no answer on stdin, so nothing was written: add --approve to write without asking"
            ) from None
        if answer.strip().lower() not in ("y", "yes"):
            out("Nothing written.")
            return 1
    apply_plan(plan, backend)
    applied = summarize(plan, applied=True)
    _show(options, applied, out, format_summary(applied, limit=limit))
    return 0


def _show(
    options: SyncOptions, summary: dict[str, Any], out: Callable[[str], None], text: str
) -> None:
    out(json.dumps(summary, indent=2) if options.json else text)


def _backend(warehouse: str | None) -> Any:
    from digsync.runtime import LocalBackend, TDBackend

    folder = warehouse or os.environ.get(WAREHOUSE_ENV)
    if folder:
        if not os.path.isdir(folder):
            raise UsageError(f"--warehouse {folder}: no such folder")
        return LocalBackend(folder)
    if not os.environ.get("TD_API_KEY"):
        raise UsageError(
            "digsync sync reads Treasure Data with TD_API_KEY (and TD_API_SERVER); set it, "
            "or use a local warehouse: --warehouse DIR (try: digsync sync --demo --warehouse DIR)"
        )
    return TDBackend.from_env()


def _demo(options: SyncOptions, out: Callable[[str], None]) -> int:
    from digsync.runtime._local_demo import run_demo

    if not options.warehouse:
        raise UsageError("--demo needs --warehouse DIR (a new folder, or an earlier demo's)")
    try:
        result = run_demo(options.warehouse, out=(lambda _line: None) if options.json else out)
    except FileExistsError as exc:
        raise UsageError(str(exc)) from None
    if options.json:
        out(json.dumps({k: result[k] for k in ("first", "second", "again")}, indent=2))
    return 0
