"""One handler per command: read the options, call the library, print, return the exit code."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from digsync.errors import ConfigError, DigsyncError, UsageError


def _print_json(doc: dict[str, Any], one_line: bool = False) -> None:
    print(json.dumps(doc, indent=None if one_line else 2), flush=True)


def _print_problems(problems: Sequence[Any]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)
    errors = sum(1 for p in problems if p.severity == "error")
    if errors:
        print(f"{errors} error(s)", file=sys.stderr)


def _configs(args: argparse.Namespace) -> list[str]:
    return list(args.config or ["config.yaml"])


def cmd_init(args: argparse.Namespace) -> int:
    from digsync.config.files import init_config

    written = init_config(Path(args.config), force=args.force)
    if args.json:
        print(json.dumps({"files": [str(path) for path in written]}, indent=2))
        return 0
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from digsync.config.files import validate_configs

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
    from digsync.render.generate import generate

    if args.push and args.check:
        raise UsageError("--push and --check do not go together")
    from digsync.cli.term import Progress

    with Progress(len(_configs(args)), "generating") as progress:
        result = generate(
            _configs(args),
            output=args.output,
            project_dir=args.project_dir,
            project=args.project,
            check=args.check,
            target=getattr(args, "target", None),
            progress=progress.advance,
        )
    if args.json:
        doc = result.to_json()
        if args.push:  # one JSON document: the files, then the push results
            results = _push_results(
                args, _configs(args), 4, None, None, args.project, result.prepared
            )
            doc.update(_results_json(results))
        print(json.dumps(doc, indent=2))
        return _push_exit(results) if args.push else 0
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    from digsync.cli.term import diff_lines, use_color

    color = use_color(sys.stdout)
    for action in result.actions:
        print(f"{action.action:>9}  {action.path}")
        if action.diff:
            sys.stdout.write(diff_lines(action.diff, color))
    if args.check and result.changed:
        print("generated files are out of date: run digsync generate", file=sys.stderr)
        return 1
    if args.push:
        return _push(args, _configs(args), 4, None, None, args.project, prepared=result.prepared)
    return 0


def _choice(args: argparse.Namespace) -> Any:
    from digsync.deploy.targets.pool import TargetChoice

    return TargetChoice(args.target, args.endpoint)


def _plan(path: str, choice: Any) -> Any:
    from digsync.config.model import load_config
    from digsync.deploy.plan import make_plan
    from digsync.deploy.targets.pool import opened

    config = load_config(path)
    with opened(config, choice) as (target, _):
        return make_plan(config, target)


def cmd_plan(args: argparse.Namespace) -> int:
    try:
        plans = [_plan(path, _choice(args)) for path in _configs(args)]
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
        from digsync.cli.output import print_plan, print_warnings

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
    prepared: Any = None,
) -> list[Any]:
    from digsync.deploy.batch import push_many

    if expect and len(paths) > 1:
        raise UsageError("--expect-revision takes one --config")
    from digsync.cli.term import Progress

    with Progress(len(paths), "pushing") as progress:
        return push_many(
            paths,
            _choice(args),
            jobs=jobs,
            expect_revision=expect,
            schedule_from=schedule_from,
            project=project,
            adopt=getattr(args, "adopt", False),
            progress=progress.advance,
            prepared=prepared,
        )


def _push(
    args: argparse.Namespace,
    paths: list[str],
    jobs: int,
    expect: str | None,
    schedule_from: str | None,
    project: str | None = None,
    warn: bool = False,
    prepared: Any = None,
) -> int:
    """Push and report; ``warn`` adds the configs' warnings (generate printed its own)."""
    from digsync.cli.output import config_warnings, print_push_summary, print_warnings

    results = _push_results(args, paths, jobs, expect, schedule_from, project, prepared)
    warnings = config_warnings(paths) if warn else []
    if getattr(args, "json", False):
        doc = _results_json(results)
        if warn:
            doc["warnings"] = _warnings_json(warnings)
        print(json.dumps(doc, indent=2))
    else:
        print_warnings(warnings)
        print_push_summary(results)
    return _push_exit(results)


DRIFT_CODES = frozenset(("concurrent_change", "adopt_required", "revision_exists"))
"""Push failures that are drift (the target is not as planned; exit 1, as DriftError)."""


def _push_exit(results: Sequence[Any]) -> int:
    """0 when every push went through; 1 when the only failures are drift; else 2 (a
    target, config or input failure)."""
    failed = [r for r in results if r.status == "failed"]
    if not failed:
        return 0
    return 1 if all(r.code in DRIFT_CODES for r in failed) else 2


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

        from digsync.dig.schedules import iso_z, parse_instant

        schedule_from = iso_z(parse_instant(args.schedule_from, dt.UTC, "--schedule-from"))
    return _push(args, _configs(args), args.jobs, args.expect_revision, schedule_from, warn=True)


def cmd_status(args: argparse.Namespace) -> int:
    from digsync.config.model import load_config
    from digsync.deploy.status import status
    from digsync.deploy.targets.pool import opened

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
    from digsync.config.model import load_config
    from digsync.deploy.status import history
    from digsync.deploy.targets.pool import opened

    config = load_config(args.config)
    with opened(config, _choice(args)) as (target, ledger):
        rows = history(config, target, ledger)
    if args.json:
        print(json.dumps({"project": config.project, "revisions": rows}, indent=2))
        return 0
    from digsync.cli.output import print_table

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
    from digsync.config.model import load_config
    from digsync.deploy.rollback import rollback
    from digsync.deploy.targets.pool import opened

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
    from digsync.dig.lint.core import check_codes, lint_paths
    from digsync.dig.lint.findings import findings_to_json

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
        from digsync.dig.lint.formats import sarif_log

        print(json.dumps(sarif_log(findings), indent=2))
    else:
        if args.format == "github":
            from digsync.dig.lint.formats import github_commands

            sys.stdout.write(github_commands(findings))
        else:
            for f in findings:
                print(f"{f.path}:{f.line}:{f.column}: {f.severity} {f.code} {f.message}")
        errors = sum(1 for f in findings if f.severity == "error")
        print(f"{len(findings)} finding(s), {errors} error(s)", file=sys.stderr)
    return 1 if any(f.severity == "error" for f in findings) else 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from digsync.dig.schedules import schedule_preview

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
    from digsync.config.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        from digsync.history.storage import atomic_write

        atomic_write(Path(args.output), text.encode("utf-8"))
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from digsync.cli.sync import SyncOptions, run_sync_command

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
    from digsync.editor.watch import watch

    if args.debounce < 0:
        raise UsageError("--debounce: expected a number of seconds, at least 0")
    return watch(args.config, _choice(args), debounce=args.debounce, as_json=args.json)


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
