"""``digsync-hook``: the entry points of digsync's pre-commit hooks (.pre-commit-hooks.yaml).

``digsync-hook validate FILE...`` validates each digsync config among the files that
pre-commit passes. ``digsync-hook generate-check [FILE...]`` compares the committed
project of each config concerned with a fresh render, and prints one line per file
that differs (with its added and removed line counts) instead of the whole diff.

Which files are digsync configs: pre-commit selects files named ``config.yaml`` or
``config.yml`` outside dot-folders (``.circleci/``, ``.github/``, ...); of those, a file
is a digsync config when it has a top-level ``semantic_database:`` key (required in
every digsync config) or the ``# yaml-language-server: $schema=...digsync.schema.json``
line that ``digsync init`` writes first, so a config whose ``semantic_database`` is
misspelt is still checked. Other files named config.yaml (another tool's) are skipped.
``--config FILE`` checks FILE whatever the files are.

Which project generate-check compares: ``workflows/`` beside each config, the layout
that ``digsync init``, the quickstart and the CI recipe (examples/ci/) use, or
``--project-dir DIR`` (relative to the repository root). A changed generated file
(a ``.dig`` or ``.sql``) concerns the config nearest above it.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from digsync.cli import exit_code
from digsync.errors import ConfigError, DigsyncError

CONFIG_NAMES = ("config.yaml", "config.yml")
PROJECT_DIR = "workflows"
SUMMARY_LINES = 20
"""At most this many differing files are listed per config; the rest are counted."""

_MARKERS = re.compile(
    r"""^(?:["']?semantic_database["']?[ \t]*:"""
    r"""|\#[ \t]*yaml-language-server:[ \t]*\$schema=\S*digsync\.schema\.json)""",
    re.MULTILINE,
)


def is_digsync_config(path: Path) -> bool:
    """Whether the file looks like a digsync config (see the module docstring)."""
    try:
        text = path.read_bytes()[:1_000_000].decode("utf-8", "replace")
    except OSError:
        return False
    return _MARKERS.search(text) is not None


def _unique(paths: Iterable[Path]) -> list[Path]:
    seen: set[Path] = set()
    out = []
    for path in paths:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def _owner(path: Path) -> Path | None:
    """The digsync config nearest above a file (its folder first, then each parent)."""
    for folder in path.parents:
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file() and is_digsync_config(candidate):
                return candidate
    return None


def validate(files: Sequence[str], configs: Sequence[str]) -> int:
    """Validate the explicit configs and every digsync config among files."""
    chosen = [Path(c) for c in configs]
    for name in files:
        path = Path(name)
        if is_digsync_config(path):
            chosen.append(path)
        else:
            print(f"{name}: skipped, not a digsync config (no top-level semantic_database)")
    if not chosen:
        return 0
    from digsync.cli import main as cli_main

    args = ["validate"]
    for path in _unique(chosen):
        args += ["--config", str(path)]
    return cli_main(args)


def _counts(diff: str) -> tuple[int, int]:
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++ "):
            added += 1
        elif line.startswith("-") and not line.startswith("--- "):
            removed += 1
    return added, removed


def _configs_for(files: Sequence[str], configs: Sequence[str]) -> list[Path]:
    chosen = [Path(c) for c in configs]
    for name in files:
        path = Path(name)
        if path.name in CONFIG_NAMES:
            if is_digsync_config(path):
                chosen.append(path)
            continue  # another tool's config.yaml
        owner = _owner(path)
        if owner is not None:
            chosen.append(owner)
    if not files and not configs:  # run by hand, or with pass_filenames: false
        chosen += [Path(n) for n in CONFIG_NAMES if Path(n).is_file()][:1]
    return _unique(chosen)


def generate_check(files: Sequence[str], configs: Sequence[str], project_dir: str | None) -> int:
    """Exit 1 when a committed project differs from a fresh render; print a summary."""
    from digsync.render.generate import generate

    code = 0
    for config in _configs_for(files, configs):
        folder = project_dir or str(config.parent / PROJECT_DIR)
        try:
            result = generate([str(config)], project_dir=folder, check=True)
        except ConfigError as exc:  # as digsync generate prints it
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            errors = sum(1 for p in exc.problems if p.severity == "error")
            print(f"{errors} error(s)", file=sys.stderr)
            code = max(code, 2)
            continue
        except DigsyncError as exc:
            print(f"error: {config}: {exc}", file=sys.stderr)
            code = max(code, exit_code(exc))
            continue
        for warning in result.warnings:
            print(warning, file=sys.stderr)
        differ = [a for a in result.actions if a.action != "identical"]
        if not differ:
            print(f"{config}: {folder} is up to date")
            continue
        print(f"{config}: {len(differ)} generated file(s) differ from a fresh render:")
        for action in differ[:SUMMARY_LINES]:
            added, removed = _counts(action.diff)
            print(f"  {action.action:>7}  {action.path}  (+{added} -{removed})")
        if len(differ) > SUMMARY_LINES:
            print(f"  ... and {len(differ) - SUMMARY_LINES} more")
        print(
            "generated files are out of date: run "
            f"digsync generate --config {shlex.quote(str(config))} "
            f"--project-dir {shlex.quote(str(folder))}",
            file=sys.stderr,
        )
        code = max(code, 1)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digsync-hook", description="digsync's pre-commit hooks (.pre-commit-hooks.yaml)."
    )
    commands = parser.add_subparsers(dest="command", metavar="HOOK", required=True)
    p = commands.add_parser("validate", help="validate each digsync config among FILEs")
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument(
        "--config", action="append", default=[], metavar="FILE", help="validate FILE too"
    )
    p = commands.add_parser(
        "generate-check", help="the committed project of each config concerned is up to date"
    )
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument(
        "--config", action="append", default=[], metavar="FILE", help="check FILE's project too"
    )
    p.add_argument(
        "--project-dir",
        metavar="DIR",
        help=f"the committed projects are in DIR/<project>/ (default: {PROJECT_DIR}/ "
        "beside each config)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return validate(args.files, args.config)  # digsync validate redacts its own output
    from digsync.editor.redact import redacted_output

    with redacted_output():
        return generate_check(args.files, args.config, args.project_dir)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
