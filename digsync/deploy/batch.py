"""Push many configs at once: each file read and checked once, pushed in parallel."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from digsync.config.model import parse_config
from digsync.deploy.push import PushResult, invalid_result, push
from digsync.deploy.targets.pool import TargetChoice, TargetPool
from digsync.errors import ConfigError, InputError
from digsync.render.generate import Prepared


def push_path(
    path: str,
    pool: TargetPool,
    expect_revision: str | None = None,
    schedule_from: str | None = None,
    author: str | None = None,
    project: str | None = None,
    adopt: bool = False,
    prepared: Prepared | None = None,
) -> PushResult:
    """Read, check and push one config file; an invalid file is a failed result.

    ``project`` overrides workflow.project (``generate --project NAME --push``);
    ``prepared`` is the file as generate read, checked and rendered it."""
    if prepared is not None:
        config, text, files = prepared
        return push(
            config._replace(project=project) if project is not None else config,
            text,
            pool,
            expect_revision=expect_revision,
            schedule_from=schedule_from,
            author=author,
            adopt=adopt,
            files=files if project in (None, config.project) else None,  # its render
        )
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such config file (create one with: digsync init)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read config: {exc}") from None
    try:
        config = parse_config(_decoded(path, text), path)
    except ConfigError as exc:
        return invalid_result(path, exc)
    if project is not None:
        config = config._replace(project=project)
    return push(
        config,
        text,
        pool,
        expect_revision=expect_revision,
        schedule_from=schedule_from,
        author=author,
        adopt=adopt,
    )


def _decoded(path: str, text: bytes) -> str:
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read config: {exc}") from None


def push_many(
    paths: list[str],
    choice: TargetChoice,
    jobs: int = 4,
    expect_revision: str | None = None,
    schedule_from: str | None = None,
    project: str | None = None,
    adopt: bool = False,
    progress: Callable[[str], object] | None = None,
    prepared: Mapping[str, Prepared] | None = None,
) -> list[PushResult]:
    """Push every config, at most ``jobs`` at a time; results in the order given.
    ``progress`` is called with each project's name as its push ends; ``prepared``
    holds configs already read, checked and rendered (generate --push), by path.

    A config file that is not there is a usage error before anything is pushed (found
    midway it would end the command without the summary of the pushes already made)."""
    missing = [path for path in paths if not Path(path).is_file()]
    if missing and len(paths) > 1:
        raise InputError(f"no such config file: {', '.join(missing)}; nothing was pushed")
    if project is not None:
        from digsync.config.model import check_project_name

        if len(paths) > 1:
            raise InputError("--project takes one --config")
        check_project_name(project)
    ready = prepared or {}
    # A batch lists each target's projects once instead of asking once per project.
    pool = TargetPool(choice, listing=len(paths) > 1)
    try:
        if len(paths) == 1:
            return [
                push_path(
                    paths[0],
                    pool,
                    expect_revision,
                    schedule_from,
                    project=project,
                    adopt=adopt,
                    prepared=ready.get(paths[0]),
                )
            ]
        workers = max(1, min(jobs, len(paths), int(os.environ.get("DIGSYNC_MAX_JOBS", "32"))))
        with ThreadPoolExecutor(max_workers=workers) as executor:
            futures = [
                executor.submit(
                    push_path, p, pool, None, schedule_from, adopt=adopt, prepared=ready.get(p)
                )
                for p in paths
            ]
            for done in as_completed(futures):
                if progress is not None:
                    progress(done.result().project)
            return [future.result() for future in futures]
    finally:
        pool.close()
