"""The digsync command: parse options, call one library function, print, exit.

Exit codes: 0 ok, 1 findings or differences, 2 usage or config error, 3 a bug.

With ``--json`` a failure also prints, on stdout, the Config API's error shape:
``{"error": str | [str], "code": str, "problems": [problem]}`` (digsync.errors).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from digsync import __version__
from digsync.errors import ConfigError, DigsyncError, UsageError

Handler = Callable[[argparse.Namespace], int]


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, except that in a description or epilog paragraphs stay
    apart, indented lines (the examples) are kept as written and words are not broken
    at hyphens (lint codes such as td-secret)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        out: list[str] = []
        words: list[str] = []
        for line in [*text.splitlines(), ""]:
            if line.strip() and not line.startswith(" "):
                words.extend(line.split())
                continue
            if words:
                out.append(
                    textwrap.fill(
                        " ".join(words),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                        break_on_hyphens=False,
                    )
                )
                words = []
            out.append(indent + line if line.strip() else "")
        return "\n".join(out).strip("\n")


def _formatter(prog: str) -> argparse.HelpFormatter:
    """The help formatter with the width found without importing shutil (start-up)."""
    import os

    try:
        width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size().columns
    except (ValueError, OSError):
        width = 80
    return _Formatter(prog, width=max(width, 40) - 2)


class _UsageExit(SystemExit):
    """argparse's exit on a usage error (status 2, message already on stderr), with the
    message kept so that ``--json`` can print it too."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        try:
            super().error(message)
        except SystemExit:
            raise _UsageExit(message) from None


DESCRIPTIONS = {
    "init": "Write a commented example config.yaml, and digsync.schema.json beside it for "
    "editor completion. An existing file is kept unless --force.",
    "validate": "Check each config file and report every problem at once: file:line:column, "
    "key path, what is wrong and a hint. Exit 2 when a config has an error.",
    "generate": "Render the workflow project (.dig and query files) from config.yaml and "
    "write the files that changed. With --check nothing is written, and the exit code is 1 "
    "when the files on disk are stale.",
    "lint": "Check .dig files and project folders the way Digdag checks them on push, and "
    "with --profile td (the default) what Treasure Data adds. Exit 1 when a finding is an "
    "error.",
    "schedule": "Describe the schedule of config.yaml, or of a .dig file, and list the next "
    "runs as Digdag would start them.",
    "plan": "Render each project and compare it with what the target runs: the files and "
    "schedules a push would change. Exit 1 when something would change.",
    "push": "Render each project and push it to the target as a new revision; a project "
    "the server already runs is not pushed again. Exit 1 when a push failed.",
    "status": "Report drift between config.yaml, the last push recorded here and what the "
    "server runs. Exit 1 when there is drift.",
    "history": "List the project's revisions on the server beside the local push ledger: "
    "when, who, which config and the result.",
    "rollback": "Push an earlier revision's files again as a new revision, so the server "
    "runs them; a revision with the content the server already runs is not pushed again. "
    "config.yaml is left alone and the output says how to match it, unless "
    "--restore-config writes the config that revision was pushed from over it.",
    "sync": "Detect schema changes in the warehouse and sync column metadata into the "
    "semantic layer, as the workflow's tasks do. Without --apply it only shows the plan.",
    "serve": "Serve the Config API and the web UI for one config file until Ctrl-C.",
    "watch": "Regenerate and push whenever config.yaml changes, until Ctrl-C; an invalid "
    "config is reported and nothing is pushed.",
    "schema": "Print the JSON Schema of config.yaml, for editors and other tools.",
}
"""The first paragraph of each command's --help."""

EXAMPLES = {
    "init": ["digsync init", "digsync init --config conf/config.yaml --force"],
    "validate": ["digsync validate", "digsync validate --config a.yaml --config b.yaml --json"],
    "generate": ["digsync generate --check", "digsync generate --project-dir build --push"],
    "lint": [
        "digsync lint workflows/",
        "digsync lint --format github --ignore td-webhook workflows/",
        "digsync lint --format sarif workflows/ > digsync.sarif",
    ],
    "schedule": [
        "digsync schedule --next 10",
        "digsync schedule --dig workflows/main.dig --from 2026-03-08T00:00:00Z",
    ],
    "plan": ["digsync plan --target td", "digsync plan --json > plan.json"],
    "push": [
        "digsync push --target td",
        "digsync push --target td --expect-revision digsync-0123456789ab",
    ],
    "status": ["digsync status --target td", "digsync status --config a.yaml --config b.yaml"],
    "history": ["digsync history --target td", "digsync history --json"],
    "rollback": [
        "digsync rollback --target td",
        "digsync rollback digsync-0123456789ab --restore-config",
    ],
    "sync": ["digsync sync --verbose", "digsync sync --apply --approve --json"],
    "serve": ["digsync serve", "digsync serve --config conf/config.yaml --port 8080 --target td"],
    "watch": [
        "digsync watch",
        "digsync watch --target digdag --endpoint http://localhost:65432 --debounce 2",
    ],
    "schema": ["digsync schema", "digsync schema --output digsync.schema.json"],
}
"""Examples for each command's --help; each runs from a folder with config.yaml."""


def _epilog(examples: Sequence[str], *notes: str) -> str:
    return "\n\n".join(["examples:\n" + "\n".join(f"  {e}" for e in examples), *notes])


def _lint_notes() -> str:
    from digsync.lint import RULES

    return (
        "codes (for --ignore; docs/lint-rules.md explains each): "
        + ", ".join(RULES)
        + ".\n\nWith --json or --format json, a failure prints the error as JSON on stdout."
    )


def _add_config(p: argparse.ArgumentParser, many: bool = False) -> None:
    if many:
        p.add_argument(
            "--config",
            action="append",
            metavar="FILE",
            help="config file; repeat for several projects (default: config.yaml)",
        )
    else:
        p.add_argument(
            "--config",
            default="config.yaml",
            metavar="FILE",
            help="config file (default: config.yaml)",
        )


def _add_target(p: argparse.ArgumentParser) -> None:
    from digsync.targets import TARGETS  # the one list: the schema's target.type too

    p.add_argument(
        "--target",
        choices=TARGETS,
        help="where to push (default: $DIGSYNC_TARGET, config target.type, local)",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="server URL for td or digdag (default: the region's TD endpoint)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="digsync",
        formatter_class=_formatter,
        description="Keep a Treasure Data Workflow (Digdag) project in step with config.yaml.",
        epilog=_epilog(
            ["digsync init", "digsync validate", "digsync plan --target td"],
            "Run digsync COMMAND --help for a command's options and examples. With --json, "
            "a command prints its failures as JSON on stdout too.",
        ),
    )
    parser.add_argument("--version", action="version", version=f"digsync {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        notes = (_lint_notes(),) if name == "lint" else ()
        return commands.add_parser(
            name,
            help=help,
            description=DESCRIPTIONS[name],
            epilog=_epilog(EXAMPLES[name], *notes),
            formatter_class=_formatter,
        )

    p = command("init", "write a commented example config.yaml")
    p.add_argument("--config", default="config.yaml", metavar="FILE", help="where to write it")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_init)

    p = command("validate", "check config.yaml and report every problem")
    _add_config(p, many=True)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_validate)

    p = command("generate", "render the workflow project from config.yaml")
    _add_config(p, many=True)
    p.add_argument(
        "--output",
        metavar="FILE.dig",
        help="write the .dig here, its query files beside it (default: the project in "
        "build/<project>/ beside config.yaml)",
    )
    p.add_argument(
        "--project-dir",
        metavar="DIR",
        help="write each project into DIR/<project>/ (default: build/ beside config.yaml; "
        "never the local target's folder)",
    )
    p.add_argument("--project", metavar="NAME", help="override workflow.project")
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when files on disk differ from a fresh render",
    )
    p.add_argument("--push", action="store_true", help="push after generating (as digsync push)")
    _add_target(p)
    p.add_argument(
        "--adopt",
        action="store_true",
        help="replace a project on the target that digsync did not make (refused without it)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_generate)

    p = command("lint", "check .dig files and project folders as Digdag does")
    p.add_argument("paths", nargs="+", metavar="PATH", help=".dig files or project folders")
    p.add_argument(
        "--profile",
        choices=("td", "digdag"),
        default="td",
        help="td: Treasure Data Workflow rules (default); digdag: open-source Digdag",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "github", "sarif"),
        default="text",
        help="text (default); json (as --json); github: GitHub Actions annotations "
        "(::error file=...::); sarif: SARIF 2.1.0 for code scanning",
    )
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODE",
        help="drop findings with this code; repeat, or separate codes with commas",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_lint)

    p = command("schedule", "describe the schedule and list the next runs")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--config", metavar="FILE", help="config file (default: config.yaml)")
    src.add_argument("--dig", metavar="FILE.dig", help="read the schedule from a .dig file")
    p.add_argument(
        "--from",
        dest="from_",
        metavar="ISO",
        help="first possible run time, ISO-8601 (default: now)",
    )
    p.add_argument("--next", type=int, default=5, metavar="N", help="how many runs (default 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_schedule)

    p = command("plan", "show what a push would change on the server")
    _add_config(p, many=True)
    _add_target(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plan)

    p = command("push", "push the rendered project to the target")
    _add_config(p, many=True)
    _add_target(p)
    p.add_argument(
        "--jobs", type=int, default=4, metavar="N", help="projects pushed at once (default 4)"
    )
    p.add_argument(
        "--expect-revision",
        metavar="REV",
        help="push only if the server still runs REV (as digsync plan showed)",
    )
    p.add_argument(
        "--schedule-from",
        metavar="ISO",
        help="first time the new schedule may run (Digdag's schedule_from)",
    )
    p.add_argument(
        "--adopt",
        action="store_true",
        help="replace a project on the target that digsync did not make (refused without it)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_push)

    p = command("status", "report drift: config, last push, and what the server runs")
    _add_config(p, many=True)
    _add_target(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    p = command("history", "list server revisions beside the local push ledger")
    _add_config(p)
    _add_target(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_history)

    p = command("rollback", "re-push an earlier revision as a new one")
    p.add_argument(
        "revision",
        nargs="?",
        metavar="REVISION",
        help="revision to restore (default: the one before the current)",
    )
    p.add_argument(
        "--restore-config",
        action="store_true",
        help="also write the config that revision was pushed from over config.yaml (the "
        "old file kept under .digsync/; refused, nothing changed, when no copy is kept)",
    )
    _add_config(p)
    _add_target(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_rollback)

    p = command("sync", "detect schema changes and sync column metadata (the workflow's tasks)")
    _add_config(p)
    p.add_argument("--apply", action="store_true", help="write the semantic layer (default: plan)")
    p.add_argument("--approve", action="store_true", help="with --apply: do not ask first")
    p.add_argument(
        "--warehouse",
        metavar="DIR",
        help="local warehouse folder of SQLite files (default: the config's warehouse.path "
        "with type sqlite, else $DIGSYNC_WAREHOUSE, else TD)",
    )
    p.add_argument("--demo", action="store_true", help="run the local demo in --warehouse DIR")
    p.add_argument("-v", "--verbose", action="store_true", help="list every change")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_sync)

    p = command("serve", "serve the Config API and web UI")
    _add_config(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    _add_target(p)
    p.set_defaults(func=cmd_serve)

    p = command("watch", "regenerate and push whenever config.yaml changes")
    _add_config(p)
    _add_target(p)
    p.add_argument(
        "--debounce",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="wait this long after the last change before pushing (default 1)",
    )
    p.add_argument("--json", action="store_true", help="one JSON line per event")
    p.set_defaults(func=cmd_watch)

    p = command("schema", "print the JSON Schema of config.yaml")
    p.add_argument("--output", metavar="FILE", help="write it to FILE instead")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageExit as exc:  # argparse printed usage and message; exit 2 as it does
        if _wants_json(sys.argv[1:] if argv is None else list(argv)):
            from digsync.errors import error_json

            _print_json(error_json(exc.message, "usage_error"))
        raise
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "format", None) == "json":
        args.json = True
    from digsync.redact import redacted_output

    with redacted_output():  # a server may echo a credential into a message
        return _run(args)


def _wants_json(argv: list[str]) -> bool:
    """Whether command-line words that did not parse ask for JSON output."""
    words = argv[: argv.index("--")] if "--" in argv else argv
    pairs = zip(words, [*words[1:], ""], strict=True)
    return any(
        w == "--json" or w == "--format=json" or (w == "--format" and nxt == "json")
        for w, nxt in pairs
    )


def _print_json(doc: dict[str, Any], one_line: bool = False) -> None:
    print(json.dumps(doc, indent=None if one_line else 2), flush=True)


def _fail_json(args: argparse.Namespace, exc: BaseException) -> None:
    """With --json: the error on stdout in the Config API's error shape."""
    if not getattr(args, "json", False):
        return
    from digsync.errors import error_code, error_json, exception_json

    if isinstance(exc, KeyboardInterrupt):
        doc = error_json("interrupted", "interrupted")
    elif error_code(exc) == "internal_error":
        doc = error_json("digsync hit a bug; stderr has the traceback", "internal_error")
    else:
        doc = exception_json(exc)
    _print_json(doc, one_line=args.command == "watch")  # watch --json: one line per event


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        _print_problems(exc.problems)
        _fail_json(args, exc)
        return 2
    except DigsyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _fail_json(args, exc)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        _fail_json(args, exc)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        import traceback

        traceback.print_exc()
        print("digsync hit a bug; please report it with the traceback above.", file=sys.stderr)
        _fail_json(args, exc)
        return 3


def _print_problems(problems: Sequence[Any]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)
    errors = sum(1 for p in problems if p.severity == "error")
    if errors:
        print(f"{errors} error(s)", file=sys.stderr)


def _configs(args: argparse.Namespace) -> list[str]:
    return list(args.config or ["config.yaml"])


def cmd_init(args: argparse.Namespace) -> int:
    from digsync.commands import init_config

    written = init_config(Path(args.config), force=args.force)
    if args.json:
        print(json.dumps({"files": [str(path) for path in written]}, indent=2))
        return 0
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from digsync.commands import validate_configs

    report = validate_configs(_configs(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for entry in report["configs"]:
            for problem in entry["problems"]:
                print(problem["text"], file=sys.stderr)
            state = "ok" if entry["valid"] else f"{entry['errors']} error(s)"
            print(f"{entry['path']}: {state}")
    return 0 if report["valid"] else 2


def cmd_generate(args: argparse.Namespace) -> int:
    from digsync.commands import generate

    if args.push and args.check:
        raise UsageError("--push and --check do not go together")
    result = generate(
        _configs(args),
        output=args.output,
        project_dir=args.project_dir,
        project=args.project,
        check=args.check,
        target=getattr(args, "target", None),
    )
    if args.json:
        doc = result.to_json()
        if args.push:  # one JSON document: the files, then the push results
            results = _push_results(args, _configs(args), 4, None, None, args.project)
            doc.update(_results_json(results))
        print(json.dumps(doc, indent=2))
        return 1 if args.push and any(r.status == "failed" for r in results) else 0
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    from digsync.term import diff_lines, use_color

    color = use_color(sys.stdout)
    for action in result.actions:
        print(f"{action.action:>9}  {action.path}")
        if action.diff:
            sys.stdout.write(diff_lines(action.diff, color))
    if args.check and result.changed:
        print("generated files are out of date: run digsync generate", file=sys.stderr)
        return 1
    if args.push:
        return _push(args, _configs(args), 4, None, None, args.project)
    return 0


def _choice(args: argparse.Namespace) -> Any:
    from digsync.remote import TargetChoice

    return TargetChoice(args.target, args.endpoint)


def cmd_plan(args: argparse.Namespace) -> int:
    from digsync.remote import plan_one

    try:
        plans = [plan_one(path, _choice(args)) for path in _configs(args)]
    except ConfigError:
        raise
    except DigsyncError as exc:  # exit 1 means "changes": a failed plan must not look so
        print(f"error: {exc}", file=sys.stderr)
        _fail_json(args, exc)
        return 2
    warnings = [w for plan in plans for w in plan.config.warnings]
    if args.json:
        doc = {"plans": [p.to_json() for p in plans], "warnings": _warnings_json(warnings)}
        print(json.dumps(doc, indent=2))
    else:
        from digsync.output import print_plan, print_warnings

        print_warnings(warnings)
        for plan in plans:
            print_plan(plan)
    return 1 if any(p.changed for p in plans) else 0


def _push_results(
    args: argparse.Namespace,
    paths: list[str],
    jobs: int,
    expect: str | None,
    schedule_from: str | None,
    project: str | None = None,
) -> list[Any]:
    from digsync.remote import push_many

    if expect and len(paths) > 1:
        raise UsageError("--expect-revision takes one --config")
    return push_many(
        paths,
        _choice(args),
        jobs=jobs,
        expect_revision=expect,
        schedule_from=schedule_from,
        project=project,
        adopt=getattr(args, "adopt", False),
    )


def _push(
    args: argparse.Namespace,
    paths: list[str],
    jobs: int,
    expect: str | None,
    schedule_from: str | None,
    project: str | None = None,
    warn: bool = False,
) -> int:
    """Push and report; ``warn`` adds the configs' warnings (generate printed its own)."""
    from digsync.output import config_warnings, print_push_summary, print_warnings

    results = _push_results(args, paths, jobs, expect, schedule_from, project)
    warnings = config_warnings(paths) if warn else []
    if getattr(args, "json", False):
        doc = _results_json(results)
        if warn:
            doc["warnings"] = _warnings_json(warnings)
        print(json.dumps(doc, indent=2))
    else:
        print_warnings(warnings)
        print_push_summary(results)
    return 1 if any(r.status == "failed" for r in results) else 0


def _warnings_json(warnings: Sequence[Any]) -> list[dict[str, Any]]:
    """Config warnings (as validate reports them) in the problem shape."""
    from digsync.errors import problem_json

    return [problem_json(w) for w in warnings]


def _results_json(results: Sequence[Any]) -> dict[str, Any]:
    """``{"results": [...]}``; when a push failed, also the error shape, code push_failed
    (the API's code for it), each failure's message in ``error``."""
    doc: dict[str, Any] = {"results": [r._asdict() for r in results]}
    failed = [f"{r.project}: {r.message}" for r in results if r.status == "failed"]
    if failed:
        from digsync.errors import error_json

        doc.update(error_json(failed, "push_failed"))
    return doc


def cmd_push(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs: expected a number of at least 1")
    schedule_from = None
    if args.schedule_from:
        import datetime as dt

        from digsync.commands import parse_instant
        from digsync.preview import iso_z

        schedule_from = iso_z(parse_instant(args.schedule_from, dt.UTC, "--schedule-from"))
    return _push(args, _configs(args), args.jobs, args.expect_revision, schedule_from, warn=True)


def cmd_status(args: argparse.Namespace) -> int:
    from digsync.config import load_config
    from digsync.remote import opened
    from digsync.status import status

    reports = []
    for path in _configs(args):
        config = load_config(path)
        with opened(config, _choice(args)) as (target, ledger):
            reports.append(status(config, target, ledger))
    if args.json:
        print(json.dumps({"projects": [r.to_json() for r in reports]}, indent=2))
    else:
        for r in reports:
            state = "in sync" if r.in_sync else "drift"
            print(f"{r.project}: {state} (server revision {r.server_revision or 'none'})")
            if r.rolled_back:
                back = r.rolled_back
                print(
                    f"  rolled back: the server runs {back['revision']}, revision "
                    f"{back['to']} rolled back from {back['from']}"
                )
            for line in r.drift:
                print(f"  - {line}")
    return 0 if all(r.in_sync for r in reports) else 1


def cmd_history(args: argparse.Namespace) -> int:
    from digsync.config import load_config
    from digsync.remote import opened
    from digsync.status import history

    config = load_config(args.config)
    with opened(config, _choice(args)) as (target, ledger):
        rows = history(config, target, ledger)
    if args.json:
        print(json.dumps({"project": config.project, "revisions": rows}, indent=2))
        return 0
    from digsync.output import print_table

    print_table(
        ["", "REVISION", "CREATED", "WHO", "ACTION", "CONFIG", "RESULT"],
        [
            [
                "*" if r["current"] else "",
                r["revision"] or "-",
                r["created_at"],
                r["who"] or "-",
                r["action"] or "-",
                (r["config_hash"] or "-")[:12],
                r["result"],
            ]
            for r in rows
        ],
    )
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from digsync.config import load_config
    from digsync.remote import opened
    from digsync.rollback import rollback

    config = load_config(args.config)
    with opened(config, _choice(args)) as (target, ledger):
        result = rollback(config, target, ledger, args.revision, restore_config=args.restore_config)
    if args.json:
        print(json.dumps(result._asdict(), indent=2))
        return 0
    if result.status == "unchanged":
        print(
            f"{result.project}: unchanged: the server already runs the content of "
            f"{result.to_revision} (revision {result.new_revision}); nothing pushed"
        )
    else:
        print(
            f"{result.project}: rolled back to {result.to_revision} "
            f"(was {result.from_revision}); pushed as {result.new_revision}"
        )
    if result.config_restored:
        kept = f" (the old one kept at {result.config_backup})" if result.config_backup else ""
        print(f"config_restored: true: wrote {result.config_path}{kept}")
    if result.status != "unchanged" or result.config_restored:
        print(result.advice)
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from digsync.lint import check_codes, findings_to_json, lint_paths

    if args.json and args.format not in ("text", "json"):
        raise UsageError(f"--json and --format {args.format} do not go together")
    ignore = [code.strip() for raw in args.ignore for code in raw.split(",") if code.strip()]
    check_codes(ignore)
    for raw in args.paths:
        if not Path(raw).exists():
            raise UsageError(f"{raw}: no such file or folder")
    findings = lint_paths(args.paths, profile=args.profile, ignore=ignore)
    if args.json:
        print(json.dumps(findings_to_json(findings), indent=2))
    elif args.format == "sarif":
        from digsync.lintformat import sarif_log

        print(json.dumps(sarif_log(findings), indent=2))
    else:
        if args.format == "github":
            from digsync.lintformat import github_commands

            sys.stdout.write(github_commands(findings))
        else:
            for f in findings:
                print(f"{f.path}:{f.line}:{f.column}: {f.severity} {f.code} {f.message}")
        errors = sum(1 for f in findings if f.severity == "error")
        print(f"{len(findings)} finding(s), {errors} error(s)", file=sys.stderr)
    return 1 if any(f.severity == "error" for f in findings) else 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from digsync.commands import schedule_preview

    preview = schedule_preview(config=args.config, dig=args.dig, start=args.from_, count=args.next)
    for note in preview.config_warnings:
        print(note, file=sys.stderr)
    for warning in preview.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(preview.data, indent=2))
        return 0
    print(preview.data["description"])
    for run in preview.data["next_runs"]:
        if run.get("end_of_schedule"):
            print("  no more runs: the schedule has ended (Digdag shows 9999-01-01T00:00:00Z)")
            break
        print(f"  {run['run_time']}   (session {run['session_time']})")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from digsync.configschema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        from digsync.writer import atomic_write

        atomic_write(Path(args.output), text.encode("utf-8"))
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from digsync.syncrun import SyncOptions, run_sync_command

    options = SyncOptions(
        config=args.config,
        apply=args.apply,
        approve=args.approve,
        warehouse=args.warehouse,
        demo=args.demo,
        verbose=args.verbose,
        json=args.json,
    )
    return run_sync_command(options)


def cmd_serve(args: argparse.Namespace) -> int:
    from digsync.server import run_server

    if not 0 <= args.port < 65536:
        raise UsageError("--port: expected 0-65535 (0: a free port, printed at start)")
    return run_server(args.config, args.host, args.port, _choice(args))


def cmd_watch(args: argparse.Namespace) -> int:
    from digsync.watch import watch

    if args.debounce < 0:
        raise UsageError("--debounce: expected a number of seconds, at least 0")
    return watch(args.config, _choice(args), debounce=args.debounce, as_json=args.json)
