"""Schedule-only mode: rewrite just ``timezone`` and ``schedule:`` of a hand-written .dig.

Every other byte, comments included, is kept. Positions come from the parsed node
tree; the new values are serialised, never pasted. What plan and push send is that
.dig's folder, as ``digdag push`` would archive it, with the rewritten .dig in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from digsync.config import Config
from digsync.errors import Mark, UsageError
from digsync.yamlemit import dump, key, scalar
from digsync.yamlload import compose


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
        raise UsageError(
            f"{path}: schedule-only mode needs a .dig whose top level is a block mapping"
        )
    found: dict[str, tuple[Any, Any]] = {}
    for k, v in root.value:
        if k.id == "scalar" and k.value in ("timezone", "schedule"):
            if k.start_mark.column != 0:
                mark = Mark(path, k.start_mark.line + 1, k.start_mark.column + 1)
                raise UsageError(f"{mark}: expected top-level '{k.value}' at column 1")
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


def source_path(config: Config) -> Path:
    """The hand-written .dig that workflow.source names (relative to the config file)."""
    assert config.source is not None
    return Path(config.path).parent / config.source


def source_project(config: Config) -> dict[str, bytes]:
    """The project of schedule-only mode: every regular file in the folder of
    workflow.source and below, as ``digdag push`` archives a project (names starting
    with '.' are left out), with that .dig's timezone and schedule rewritten.

    Also left out: the config file, its JSON Schema, and the local target's
    ``workflows/`` folder (a push there would otherwise nest copies of itself)."""
    source = source_path(config)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"{config.path}: workflow.source {config.source}: {why}") from None
    root = source.resolve().parent
    config_file = Path(config.path).resolve()
    workflows = Path(str(config.target.get("workflows_dir") or "workflows"))
    skipped_dirs = {
        (Path.cwd() / workflows).resolve(),
        (config_file.parent / workflows).resolve(),
    }
    files: dict[str, bytes] = {}
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
        files[rel.as_posix()] = path.read_bytes()
    files[source.name] = rewrite_schedule(text, str(source), config).encode("utf-8")
    return dict(sorted(files.items()))
