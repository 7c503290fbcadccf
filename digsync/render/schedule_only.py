"""Schedule-only mode: rewrite just ``timezone`` and ``schedule:`` of a hand-written .dig.

Every other byte, comments included, is kept. Positions come from the parsed node
tree; the new values are serialised, never pasted. What plan and push send is that
.dig's folder, as ``digdag push`` would archive it, with the rewritten .dig in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from digsync.config.model import Config
from digsync.errors import InputError, Mark
from digsync.yamlio.emit import dump, key, scalar
from digsync.yamlio.load import compose


def _last_index(node: Any) -> int:
    """End of the last scalar inside node: a block's own end mark runs into what follows."""
    if node.id == "scalar":
        return int(node.end_mark.index)
    if not node.value:
        return int(node.end_mark.index)
    if node.id == "mapping":
        if node.flow_style:
            return int(node.end_mark.index)
        return _last_index(node.value[-1][1])
    if node.flow_style:
        return int(node.end_mark.index)
    return _last_index(node.value[-1])


def _head_end(text: str) -> int:
    """Offset just past the leading comment and blank lines."""
    pos = 0
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        pos += len(line)
    return pos


def rewrite_schedule(text: str, path: str, config: Config) -> str:
    """The .dig text with timezone and schedule set from config, nothing else touched."""
    root = compose(text, path)
    if root is None or root.id != "mapping" or root.flow_style:
        raise InputError(
            f"{path}: schedule-only mode needs a .dig whose top level is a block mapping"
        )
    found: dict[str, tuple[Any, Any]] = {}
    for k, v in root.value:
        if k.id == "scalar" and k.value in ("timezone", "schedule"):
            if k.start_mark.column != 0:
                mark = Mark(path, k.start_mark.line + 1, k.start_mark.column + 1)
                raise InputError(f"{mark}: expected top-level '{k.value}' at column 1")
            found[k.value] = (k, v)
    edits: list[tuple[int, int, str]] = []
    tz_line = f"{key('timezone')}: {scalar(config.schedule.timezone)}"
    directive = config.schedule.directive
    block = dump({"schedule": directive}).rstrip("\n") if directive is not None else None
    if "timezone" in found:
        k, v = found["timezone"]
        edits.append((v.start_mark.index, _last_index(v), scalar(config.schedule.timezone)))
        tz_end = _line_end(text, _last_index(v))
    else:
        tz_end = _head_end(text)
        insert = tz_line + "\n"
        if "schedule" not in found and block is not None:
            insert += block + "\n"
            block = None
        edits.append((tz_end, tz_end, insert))
    if "schedule" in found:
        k, v = found["schedule"]
        start, end = k.start_mark.index, _last_index(v)
        if block is None:
            edits.append((start, _line_end(text, end), ""))
        else:
            edits.append((start, end, block))
    elif block is not None:
        edits.append((tz_end, tz_end, block + "\n"))
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _line_end(text: str, index: int) -> int:
    """Offset just past the newline that ends the line holding index."""
    nl = text.find("\n", index)
    return len(text) if nl == -1 else nl + 1


# Beside config.yaml but never part of the workflow: the JSON Schema ``digsync init``
# writes. The config file itself is left out too (its webhook URLs are secrets).
_NOT_PROJECT_FILES = ("digsync.schema.json",)


MAX_SOURCE_BYTES = 1024 * 1024
"""A hand-written .dig larger than this is refused (no workflow is that large)."""
MAX_PROJECT_FILES = 2000
MAX_PROJECT_BYTES = 2 * 1024 * 1024
"""Digdag's own default limit on a project archive (api.max_archive_total_size_limit)."""


class SourceError(InputError):
    """workflow.source names no readable .dig inside config.yaml's folder; ``why`` says
    what is wrong with it."""

    def __init__(self, config: Config, why: str) -> None:
        super().__init__(f"{config.path}: workflow.source {config.source}: {why}")
        self.why = why


def source_path(config: Config) -> Path:
    """The hand-written .dig that workflow.source names, resolved: a regular file inside
    config.yaml's folder (a symlink may not lead out of it). Raises SourceError."""
    assert config.source is not None
    folder = Path(config.path).resolve().parent
    path = folder / config.source
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise SourceError(
            config, "no such file (the path is relative to config.yaml's folder)"
        ) from None
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise SourceError(config, f"cannot be read: {exc}") from None
    if folder not in resolved.parents:
        raise SourceError(config, "leads out of config.yaml's folder (through a symlink)")
    if resolved.is_dir():
        raise SourceError(config, "a folder, not a .dig file")
    if not resolved.is_file():
        raise SourceError(config, "not a regular file")
    return path


def read_source(config: Config) -> str:
    """The text of the hand-written .dig, checked and size-capped. Raises SourceError."""
    path = source_path(config)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise SourceError(config, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(config, f"larger than {MAX_SOURCE_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(config, "not UTF-8 text") from None


def source_project(config: Config) -> dict[str, bytes]:
    """The project of schedule-only mode: every regular file in the folder of
    workflow.source and below, as ``digdag push`` archives a project (names starting
    with '.' are left out), with that .dig's timezone and schedule rewritten.

    Also left out: the config file, its JSON Schema, and the local target's
    ``workflows/`` folder (a push there would otherwise nest copies of itself)."""
    text = read_source(config)
    source = source_path(config)
    root = source.resolve().parent
    config_file = Path(config.path).resolve()
    workflows = Path(str(config.target.get("workflows_dir") or "workflows"))
    skipped_dirs = {
        (Path.cwd() / workflows).resolve(),
        (config_file.parent / workflows).resolve(),
    }
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_symlink() or not path.is_file():
            continue  # regular files only, as a project archive holds
        resolved = path.resolve()
        if resolved == config_file or (rel.parent == Path(".") and rel.name in _NOT_PROJECT_FILES):
            continue
        if any(d == resolved or d in resolved.parents for d in skipped_dirs):
            continue
        total += path.stat().st_size
        if len(files) >= MAX_PROJECT_FILES or total > MAX_PROJECT_BYTES:
            raise SourceError(
                config,
                f"its folder {root} holds more than {MAX_PROJECT_FILES} files or "
                f"{MAX_PROJECT_BYTES // (1024 * 1024)} MiB, the most a project may hold; "
                "put the workflow in a folder of its own",
            )
        files[rel.as_posix()] = path.read_bytes()
    files[source.name] = rewrite_schedule(text, str(source), config).encode("utf-8")
    return dict(sorted(files.items()))
