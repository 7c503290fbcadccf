"""The command line's words: every command, option, description and example."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import NoReturn

from digsync import __version__
from digsync.cli.commands import (
    cmd_generate,
    cmd_history,
    cmd_init,
    cmd_lint,
    cmd_plan,
    cmd_push,
    cmd_rollback,
    cmd_schedule,
    cmd_schema,
    cmd_serve,
    cmd_status,
    cmd_sync,
    cmd_validate,
    cmd_watch,
)

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
    from digsync.dig.lint.findings import RULES

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
    from digsync.config.targets import TARGETS  # the one list: the schema's target.type too

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
