"""The library calls behind the CLI commands (one function per command)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digsync.config.model import Config
from digsync.errors import ConfigError, InputError, Problem
from digsync.render.writer import FileAction


class GenerateResult:
    """Per-file actions and the warnings of every config, in order."""

    def __init__(self) -> None:
        self.actions: list[FileAction] = []
        self.warnings: list[str] = []
        self.prepared: dict[str, Prepared] = {}
        """By path as given: each config, its file's bytes and its render (None for
        schedule-only), so ``generate --push`` neither parses nor renders again."""

    @property
    def changed(self) -> bool:
        return any(a.action != "identical" for a in self.actions)

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "files": [{"path": str(a.path), "action": a.action} for a in self.actions],
            "warnings": self.warnings,
        }


POOL_FROM = 200
"""Configs from which generate checks and renders them on every core (a pool's start
costs ~20 ms; --project and --output take one config, so they never meet a pool)."""

Prepared = tuple[Config, bytes, dict[str, bytes] | None]
"""A checked config, its file's bytes, and its rendered files (None: not yet, or
schedule-only)."""


def _load_all(paths: list[str]) -> list[Prepared]:
    loaded = _on_every_core(paths) if len(paths) >= POOL_FROM else None
    prepared: list[Prepared] = []
    problems: list[Problem] = []
    for one in loaded if loaded is not None else (_load_one(p) for p in paths):
        if isinstance(one, list):
            problems.extend(one)
        else:
            prepared.append(one)
    if problems:
        raise ConfigError(problems)
    return prepared


def _load_one(path: str, render: bool = False) -> Prepared | list[Problem]:
    """The config with its bytes (and render), or its problems (a ConfigError does not
    survive pickling whole)."""
    from digsync.config.model import read_config

    try:
        config, text = read_config(path)
    except ConfigError as exc:
        return exc.problems
    if not render or config.source:
        return config, text, None
    from digsync.render.project import config_label, render_project

    return config, text, render_project(config, config_label(config)).files


def _load_and_render(path: str) -> Prepared | list[Problem]:
    return _load_one(path, render=True)


def _on_every_core(paths: list[str]) -> list[Prepared | list[Problem]] | None:
    """Check and render many configs in forked workers, in order; None where there is
    one core or no fork (the caller then does it here)."""
    import multiprocessing
    import os

    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, 8)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(_load_and_render, paths, chunksize=max(1, len(paths) // (workers * 4)))


DEFAULT_PROJECT_DIR = "build"
"""generate's folder when neither --project-dir nor --output is given, beside config.yaml:
the project lands in <config dir>/build/<project>/."""


def generate(
    paths: list[str],
    output: str | None = None,
    project_dir: str | None = None,
    project: str | None = None,
    check: bool = False,
    target: str | None = None,
    progress: Callable[[str], object] | None = None,
) -> GenerateResult:
    """Render every config and write (or, with check, compare) its files.

    Without ``project_dir`` and ``output`` each project goes to ``build/<project>/``
    beside its config. Writing into the local target's folder is refused (``target``
    is the --target flag, for telling which target a config pushes to). ``progress``
    is called with each project's name once its files are written."""
    if len(paths) > 1 and (output or project):
        raise InputError("--output and --project take one --config; use --project-dir for several")
    prepared = _load_all(paths)
    if project:
        from digsync.config.model import check_project_name

        check_project_name(project)
        prepared = [(prepared[0][0]._replace(project=project), prepared[0][1], None)]
    configs = [config for config, _, _ in prepared]
    _refuse_duplicate_projects(configs)
    plans = [(config, *_destination(config, output, project_dir)) for config in configs]
    if not check:  # --check writes nothing, so it may compare any folder
        resolve = functools.cache(Path.resolve)
        for config, root, _ in plans:
            if not config.source:
                _refuse_target_folder(config, root, target, resolve)
    result = GenerateResult()
    for path, (config, root, own), (_, text, files) in zip(paths, plans, prepared, strict=True):
        files = _generate_one(config, root, own, output, check, result, files)
        result.prepared[path] = (config, text, files)
        if progress is not None:
            progress(config.project)
    return result


def _destination(config: Config, output: str | None, project_dir: str | None) -> tuple[Path, bool]:
    """The folder the project is written to, and whether it is digsync's own
    (DIR/<project>/, where a workflow no longer rendered is removed)."""
    if output and not project_dir:
        return Path(output).parent, False
    folder = Path(project_dir) if project_dir else Path(config.path).parent / DEFAULT_PROJECT_DIR
    return folder / config.project, True


def _refuse_target_folder(
    config: Config, root: Path, target: str | None, resolve: Callable[[Path], Path]
) -> None:
    """generate must not write where the local target keeps what it pushed: the target
    would then hold files it never recorded, and status would report drift for ever.
    ``resolve`` is Path.resolve, remembered for the run (a batch shares its folders)."""
    from digsync.config.targets import local_folder, target_kind

    if target_kind(target, config.target) != "local":
        return
    folder = resolve(local_folder(config.target, resolve(Path(config.path)).parent))
    written = resolve(root)
    if written == folder or folder in written.parents:
        raise InputError(
            f"{config.path}: refusing to generate into {written}: it is inside the local "
            f"target's folder {folder} (target.workflows_dir), which only digsync push "
            "writes; run digsync push --target local to update it, or choose another "
            f"--project-dir (default: {DEFAULT_PROJECT_DIR}/ beside the config)"
        )


def _generate_one(
    config: Config,
    root: Path,
    own: bool,
    output: str | None,
    check: bool,
    result: GenerateResult,
    files: dict[str, bytes] | None = None,
) -> dict[str, bytes] | None:
    """Write one config's project (``files``: already rendered, by a worker); the
    render, as a push sends it (None in schedule-only mode)."""
    from digsync.render.project import GENERATED_MARK, config_label, render_project
    from digsync.render.writer import remove_stale, sync_files

    result.warnings.extend(str(w) for w in config.warnings)
    if config.source:
        result.actions.append(_schedule_only(config, check))
        return None
    rendered = files if files is not None else render_project(config, config_label(config)).files
    files = rendered
    if output and not own:  # --output FILE.dig: the workflow takes that name
        dig = Path(output).name
        files = {
            (dig if rel.endswith(".dig") and "/" not in rel else rel): data
            for rel, data in rendered.items()
        }
    backup = _backup(config)
    result.actions.extend(sync_files(root, files, check=check, backup=backup))
    if own:  # DIR/<project>/ is digsync's own: a workflow it no longer renders goes
        result.actions.extend(remove_stale(root, files, GENERATED_MARK, check, backup))
    return rendered


def _backup(config: Config) -> Callable[[str, bytes], object]:
    """Keep a generated file's previous content in the history folder before overwriting."""
    from digsync.history.ledger import Ledger, state_dir

    # The ledger and stamp are found at the first backup: a run that overwrites nothing
    # takes no stamp (and resolves no state folder).
    opened: list[tuple[Ledger, str]] = []

    def backup(rel: str, old: bytes) -> object:
        if not opened:
            ledger = Ledger(state_dir(config.path), config.project)
            opened.append((ledger, ledger.backup_stamp()))
        ledger, stamp = opened[0]
        return ledger.backup(rel, old, stamp)

    return backup


def _refuse_duplicate_projects(configs: list[Config]) -> None:
    seen: dict[str, str] = {}
    for config in configs:
        if config.project in seen:
            raise InputError(
                f"{config.path} and {seen[config.project]} both render project "
                f"'{config.project}'; give each a distinct workflow.project"
            )
        seen[config.project] = config.path


def _schedule_only(config: Config, check: bool) -> FileAction:
    from digsync.render.schedule_only import read_source, rewrite_schedule, source_path
    from digsync.render.writer import sync_files

    text = read_source(config)
    target = source_path(config)
    new = rewrite_schedule(text, str(target), config)
    files = {target.name: new.encode("utf-8")}
    return sync_files(target.parent, files, check=check, backup=_backup(config))[0]
