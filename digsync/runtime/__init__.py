"""The workflow's own tasks, shipped in every rendered project as the package ``digsync_tasks``.

Digdag's py> runner imports ``digsync_tasks`` and calls ``digsync_tasks.detect_schema_changes`` and
``digsync_tasks.sync_metadata`` with the task parameters of the same names (the .dig's
``semantic_database``, ``databases``, ``exclude_patterns``, ``sync_mode``,
``sync_options``, ``auto_generation``, ``digsync_tables``, plus Digdag's own
``session_id`` and ``session_time``). Results go to ``digdag.env.store`` for the later
tasks (``${detect_changes.has_changes}``, ``${sync_metadata.new_columns}``, ...).

Standard library only, relative imports only: the files are copied as they are.
Inside Treasure Data the backend is TD (``TD_API_KEY``, ``TD_API_SERVER``, optional
``DIGSYNC_POLL_INTERVAL``); with ``DIGSYNC_WAREHOUSE`` set to a folder, the local SQLite
backend is used instead (config.yaml's ``warehouse: {type: sqlite}``, where the render
also calls ``digsync_tasks.delta_report``, the report that td> runs on TD).
Outside Digdag, stored values go to ``STORED`` (the CLI and tests read it).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

try:
    from .detect import Plan
    from .errors import SettingsError
    from .settings import settings_from_params
    from .store_sqlite import LocalBackend, session_report
    from .store_td import TDBackend
    from .sync import Backend, apply_plan, format_summary, plan_sync, run_sync, summarize
except ImportError as exc:
    # Digdag's py> runner takes an ImportError while importing the package for "no such
    # module" and retries a class lookup, which hides the cause ("Empty module name").
    raise RuntimeError(
        f"the workflow's tasks cannot be imported: {exc} (the Python that runs py> "
        f"needs {exc.name or 'that module'}; it must be Python 3.9 or later)"
    ) from exc

__all__ = [
    "STORED",
    "Backend",
    "LocalBackend",
    "TDBackend",
    "apply_plan",
    "delta_report",
    "detect_schema_changes",
    "format_summary",
    "plan_sync",
    "run_sync",
    "settings_from_params",
    "summarize",
    "sync_metadata",
]

STORED: dict[str, Any] = {}
"""What the tasks stored when not running under Digdag."""

# Both entry points spell out the same parameters on purpose: Digdag's runner passes a
# function only the names inspect.getfullargspec finds on it, which ignores wrappers.


def detect_schema_changes(
    semantic_database: str,
    databases: list[str],
    exclude_patterns: list[str] | None = None,
    sync_mode: str = "full",
    sync_options: dict[str, Any] | None = None,
    auto_generation: dict[str, Any] | None = None,
    digsync_tables: dict[str, str] | None = None,
    create_if_missing: bool = True,
    session_id: str | int | None = None,
    session_time: str | None = None,
) -> dict[str, Any]:
    """py> task: compare the catalog with the semantic layer; store ``detect_changes``."""
    params = dict(locals())
    plan = _plan(params, _backend())
    print(format_summary(summarize(plan, applied=False)), flush=True)
    stored = {"detect_changes": plan.counts.detect_changes()}
    _store(stored)
    return stored


def sync_metadata(
    semantic_database: str,
    databases: list[str],
    exclude_patterns: list[str] | None = None,
    sync_mode: str = "full",
    sync_options: dict[str, Any] | None = None,
    auto_generation: dict[str, Any] | None = None,
    digsync_tables: dict[str, str] | None = None,
    create_if_missing: bool = True,
    session_id: str | int | None = None,
    session_time: str | None = None,
) -> dict[str, Any]:
    """py> task: write the semantic layer and the sync log; store ``sync_metadata``."""
    params = dict(locals())
    backend = _backend()
    plan = _plan(params, backend)
    apply_plan(plan, backend)
    print(format_summary(summarize(plan, applied=True)), flush=True)
    stored = {"sync_metadata": plan.counts.sync_metadata()}
    _store(stored)
    return stored


def delta_report(
    semantic_database: str,
    digsync_tables: dict[str, str] | None = None,
    session_id: str | int | None = None,
) -> dict[str, Any]:
    """py> task on a local warehouse: what this session changed (the rows that
    ``queries/delta_report.sql`` selects on TD), printed to the task log; stores
    ``delta_report.rows``."""
    settings = settings_from_params(
        {
            "semantic_database": semantic_database,
            "databases": ["*"],
            "digsync_tables": digsync_tables,
            "session_id": session_id,
        }
    )
    backend = _backend()
    if not isinstance(backend, LocalBackend):
        raise SettingsError(
            "digsync_tasks.delta_report reads a local warehouse (DIGSYNC_WAREHOUSE); on Treasure "
            "Data the report is td> queries/delta_report.sql"
        )
    rows = session_report(backend, settings.store, settings.session_id)
    _log_to_stdout()
    print(f"delta report for session {settings.session_id}: {len(rows)} change(s)", flush=True)
    for row in rows:
        print(json.dumps(row, ensure_ascii=False, sort_keys=True), flush=True)
    stored = {"delta_report": {"rows": len(rows)}}
    _store(stored)
    return stored


def _plan(params: dict[str, Any], backend: Backend) -> Plan:
    _log_to_stdout()
    return plan_sync(settings_from_params(params), backend)


def _backend() -> Backend:
    warehouse = os.environ.get("DIGSYNC_WAREHOUSE")
    if warehouse:
        return LocalBackend(warehouse)
    return TDBackend.from_env()


def _store(values: dict[str, Any]) -> None:
    """``digdag.env.store`` under Digdag; else keep the values in ``STORED``."""
    try:
        import digdag  # type: ignore[import-not-found]  # provided by Digdag's py> runner
    except ImportError:
        STORED.update(values)
        return
    digdag.env.store(values)


def _log_to_stdout() -> None:
    logger = logging.getLogger("digsync.runtime")
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
