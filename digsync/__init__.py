"""digsync: keep a Treasure Data Workflow (Digdag) project in step with one config.yaml.

The library in eight names (imported on first use, so ``import digsync`` stays cheap)::

    import digsync

    config = digsync.load_config("config.yaml")       # ConfigError lists every problem
    files = digsync.render_project(config).files      # {path: bytes} of the project
    findings = digsync.lint_paths(["build/semantic_layer_sync"])
    plan = digsync.make_plan(config, target="local")  # files and schedules that change
    result = digsync.push(config, target="local")     # status: pushed | unchanged | failed
    digsync.status(config, target="local")            # drift; digsync.rollback(config)

Errors are the tree of :mod:`digsync.errors`; docs/architecture.md maps the packages.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Config",
    "lint_paths",
    "load_config",
    "make_plan",
    "push",
    "render_project",
    "rollback",
    "status",
]

_HOMES = {
    "Config": "digsync.config.model",
    "load_config": "digsync.config.model",
    "lint_paths": "digsync.dig.lint.core",
    "render_project": "digsync.render.project",
    "make_plan": "digsync.api",
    "push": "digsync.api",
    "rollback": "digsync.api",
    "status": "digsync.api",
}

if TYPE_CHECKING:
    from digsync.api import make_plan, push, rollback, status
    from digsync.config.model import Config, load_config
    from digsync.dig.lint.core import lint_paths
    from digsync.render.project import render_project


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'digsync' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # once found, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
