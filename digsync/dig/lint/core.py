"""Lint .dig files the way Digdag (and Treasure Data's hosted Digdag) checks them.

``lint_paths`` takes files and project folders; a folder is a project whose workflows
are its top-level ``*.dig`` files, as ``digdag push`` sees them. Every finding names a
file, a 1-based line and column, a stable rule code (see docs/lint-rules.md), a
severity ("error": Digdag or TD rejects it or cannot run it; "warning": suspicious)
and a message that says what to write instead.

This module loads files, runs the file-level rules (workflow name, top-level keys,
timezone, schedule) and the project rule (named files exist), and collects, sorts and
formats findings. ``lint_rules`` compiles the tasks as Digdag does; ``lint_td`` adds
what the ``td`` profile checks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from digsync.dig.lint.findings import ERROR, RULES, Finding, Report
from digsync.dig.lint.rules import (
    TOP_LEVEL_KEYS,
    Task,
    Workflow,
    check_tasks,
    java_length,
    sample,
    suggest,
)
from digsync.dig.loader import LoadedDig, format_key, load_dig
from digsync.errors import InputError, ScheduleError
from digsync.yamlio.load import PathKey

PROFILES = ("td", "digdag")
FILE_OPERATORS = frozenset(
    {"td", "td_for_each", "td_wait", "pg", "redshift", "bq", "mail", "embulk"}
)
"""Operators whose argument is a file of the project (a query, a body, a config)."""
_RESTRICTED_FIRST = re.compile(r"^[+^@/\\:*?\"<>|]")


def lint_paths(
    paths: Sequence[str | os.PathLike[str]], profile: str = "td", ignore: Collection[str] = ()
) -> list[Finding]:
    """Lint files and project folders; findings sorted and free of repeats.

    A folder is a project: its top-level ``*.dig`` files are linted (dot files are
    skipped, as Digdag skips them) and file references resolve against it. A single
    file is linted as part of the project in its own folder. Findings with a code in
    ``ignore`` are dropped; a code that is not in ``RULES`` is an InputError.
    """
    _check_profile(profile)
    check_codes(ignore)
    found: set[Finding] = set()
    for raw in paths:
        target = Path(raw)
        if target.is_dir():
            workflows = _workflow_files(target)
            if not workflows:
                raise InputError(
                    f"{raw}: no workflow here (a project folder has .dig files at its top "
                    "level); name the project folder or the .dig files"
                )
            for dig in workflows:
                found.update(lint_file(dig, profile, target))
        elif target.is_file():
            found.update(lint_file(target, profile, target.parent))
        else:
            raise InputError(f"{raw}: no such file or folder")
    return sorted(f for f in found if f.code not in ignore)


def check_codes(codes: Collection[str]) -> None:
    """InputError naming each code that is not a lint rule, and where the codes are."""
    unknown = [code for code in codes if code not in RULES]
    if not unknown:
        return
    notes = []
    for code in unknown:
        hint = suggest(code, tuple(RULES))
        notes.append(f"{code!r}" + (f" (did you mean {hint}?)" if hint else ""))
    raise InputError(
        f"--ignore: unknown lint code {', '.join(notes)}; `digsync lint --help` lists "
        "the codes (docs/lint-rules.md explains each)"
    )


def lint_file(path: Path, profile: str = "td", project_root: Path | None = None) -> list[Finding]:
    """Lint one file from disk; unreadable or non-UTF-8 files give one finding."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [
            Finding(
                str(path),
                1,
                1,
                "yaml",
                ERROR,
                f"not UTF-8 text (byte {exc.start}); Digdag reads .dig files as UTF-8",
            )
        ]
    except OSError as exc:
        return [Finding(str(path), 1, 1, "yaml", ERROR, f"cannot read the file: {exc.strerror}")]
    return lint_text(text, str(path), profile, project_root)


def lint_text(
    text: str, path: str, profile: str = "td", project_root: Path | None = None
) -> list[Finding]:
    """Lint .dig text; ``path`` names it in findings and anchors ``!include``.

    Without ``project_root`` the project rules (referenced files exist) are skipped.
    """
    _check_profile(profile)
    doc = load_dig(text, path, Path(path).parent, strict=False)
    report = Report(path)
    for problem in doc.problems:
        report.add(problem.mark, problem.code, problem.severity, problem.message)
    if isinstance(doc.data, dict):
        name = workflow_name(path)
        _check_workflow_name(doc, report, name)
        _check_top_level(doc, report, name)
        _check_schedule(doc, report, _check_timezone(doc, report))
        workflow = check_tasks(doc, report, name)
        if project_root is not None:
            check_files(doc, report, workflow, project_root)
        _check_secret_content(doc, report, workflow)
        if profile == "td":
            from digsync.dig.lint.td import check_td

            check_td(doc, report, workflow)
    return sorted(set(report.findings))


def workflow_name(path: str) -> str:
    """The workflow name Digdag derives from the file name (``a/b.dig`` gives ``b``)."""
    base = Path(path).name
    return base[: -len(".dig")] if base.endswith(".dig") else base


def _check_workflow_name(doc: LoadedDig, report: Report, name: str) -> None:
    """ModelValidator.checkWorkflowName on the name taken from the file name."""
    if not doc.path.endswith(".dig"):
        return
    problem = None
    if not name:
        problem = "can't be blank"
    elif name[0].isdigit() and name[0] in "0123456789":
        problem = "can't start with a numeric digit (0-9)"
    elif _RESTRICTED_FIRST.match(name):
        problem = "can't include special symbols (+ ^ @ / \\ / : * ? \" < > |)"
    elif java_length(name) > 255:
        problem = "can't be longer than 255 characters"
    if problem:
        report.error(
            doc.mark(()),
            "workflow-name",
            f'workflow name {problem}: "{format_key(name)}" (the name comes from the '
            "file name: rename the file, e.g. to start with a letter)",
        )


def _check_top_level(doc: LoadedDig, report: Report, name: str) -> None:
    """WorkflowFile.fromConfig: only known keys and +tasks at the top level."""
    for key, value in doc.data.items():
        if key in TOP_LEVEL_KEYS or key.startswith("+"):
            continue
        hint = suggest(key, TOP_LEVEL_KEYS)
        if hint:
            hint = f"did you mean {hint}?"
        elif key.startswith("_"):
            hint = (
                f"{format_key(key)} is not allowed at the top level: move it into a task "
                "(parameters go under _export:)"
            )
        elif isinstance(value, dict) and any(str(k).endswith(">") for k in value):
            hint = f"a task name starts with '+': write +{format_key(key)}:"
        elif key.endswith(">"):
            hint = "an operator belongs inside a task: write +task: then the operator under it"
        else:
            hint = (
                "allowed are timezone, schedule, sla, _export, _error, _check, _retry, "
                "_parallel and +tasks; put parameters under _export:"
            )
        report.error(
            doc.key_mark((key,)),
            "top-level-key",
            f"Workflow '{format_key(name)}' includes unknown keys: [{format_key(key)}]: {hint}",
        )
    export = doc.data.get("_export", {})
    if "_export" in doc.data and not isinstance(export, dict):
        report.error(
            doc.mark(("_export",)),
            "param-type",
            "Parameter '_export' must be an object: write _export: then indented key: value lines",
        )


def _check_timezone(doc: LoadedDig, report: Report) -> str:
    """The workflow's time zone (UTC when absent or invalid); bad names are errors."""
    value = doc.data.get("timezone")
    if value is None:
        return "UTC"
    mark = doc.mark(("timezone",))
    if not isinstance(value, str):
        report.error(
            mark,
            "timezone",
            f"Expected a time zone name for key 'timezone' but got {sample(value)}: "
            "write a name such as UTC or Asia/Tokyo",
        )
        return "UTC"
    from digsync.schedule.engine import parse_timezone

    try:
        parse_timezone(value)
    except ScheduleError as exc:
        report.error(mark, "timezone", str(exc))
        return "UTC"
    return value


def _check_schedule(doc: LoadedDig, report: Report, timezone: str) -> None:
    """The top-level schedule, checked as the server does on push."""
    if "schedule" not in doc.data:
        return
    block = doc.data["schedule"]
    if not isinstance(block, dict):
        report.error(
            doc.mark(("schedule",)),
            "schedule",
            "Parameter 'schedule' must be an object: write schedule: then a line "
            "such as daily>: 07:00:00",
        )
        return
    from digsync.schedule.engine import parse_schedule

    try:
        parse_schedule(block, timezone)
    except ScheduleError as exc:
        message = str(exc)
        report.error(_schedule_mark(doc, block, message), "schedule", message)
        return
    for option in block:
        if option in ("start", "end"):
            report.warning(
                doc.key_mark(("schedule", option)),
                "schedule-version",
                f"schedule {option}: needs Digdag 0.10.5 or later; 0.10.4 and older refuse "
                f"the push (Parameter '{option}' is not used at schedule)",
            )
            return  # one note per schedule


_HTTP_OPERATORS = ("http", "http_call")


def _check_secret_content(doc: LoadedDig, report: Report, workflow: Workflow) -> None:
    """http> expands ``${secret:...}`` in its content, so the body carries the secret to
    the URL: a message template that names one sends the key to whoever owns the URL."""
    for task in workflow.tasks:
        if task.kind == "disabled" or task.operator not in _HTTP_OPERATORS:
            continue
        content = task.params.get("content")
        if content is None:
            continue
        value, at = content
        for where, text in _strings_in(value, at):
            if "${secret:" in text:
                report.warning(
                    doc.mark(where),
                    "secret-in-content",
                    f"{task.operator}> content holds ${{secret:...}}: Digdag expands it, so "
                    "the secret is sent in the request body to the URL; send credentials in "
                    "headers: to a host you trust, never in a message",
                )


def _strings_in(value: Any, at: PathKey) -> list[tuple[PathKey, str]]:
    out: list[tuple[PathKey, str]] = []
    stack: list[tuple[Any, PathKey]] = [(value, at)]
    while stack:
        item, here = stack.pop()
        if isinstance(item, str):
            out.append((here, item))
        elif isinstance(item, dict):
            for key, child in item.items():
                out.append(((*here, key), str(key)))
                stack.append((child, (*here, key)))
        elif isinstance(item, list):
            stack.extend((child, (*here, i)) for i, child in enumerate(item))
    return out


def _schedule_mark(doc: LoadedDig, block: dict[str, Any], message: str) -> Any:
    """Point at the schedule key the message names, else at the directive."""
    for key in block:
        if f"'{key}'" in message:
            return doc.key_mark(("schedule", key))
    for key in block:
        if key.endswith(">"):
            return doc.mark(("schedule", key))
    return doc.key_mark(("schedule",))


def check_files(doc: LoadedDig, report: Report, workflow: Workflow, root: Path) -> None:
    """Project rule: every query, script and workflow file a task names exists.

    Paths are relative to the project folder (the workflow's working directory);
    names holding ``${...}`` are only known at run time and are skipped.
    """
    for task in workflow.tasks:
        if task.kind != "operator" or task.operator is None:
            continue
        command, at = _command(task)
        if not isinstance(command, str) or not command.strip() or "${" in command:
            continue
        if task.operator == "py":
            _check_module(doc, report, command.strip(), at, root)
            continue
        name = _file_name(task.operator, command.strip())
        if name is not None:
            _check_file(doc, report, task.operator, name, at, root)


def _command(task: Task) -> tuple[Any, PathKey]:
    """The operator's argument: the ``op>`` value, or ``_command`` with ``_type``."""
    key = f"{task.operator}>"
    if key in task.params:
        return task.params[key]
    return task.params.get("_command", (None, task.op_at or task.at))


def _file_name(operator: str, command: str) -> str | None:
    """The project file an operator reads, if it reads one."""
    if operator in FILE_OPERATORS:
        return command
    if operator == "td_load" and command.endswith((".yml", ".yaml")):
        return command
    if operator == "call":
        return command if command.endswith(".dig") else command + ".dig"
    return None


def _check_file(
    doc: LoadedDig, report: Report, operator: str, name: str, at: PathKey, root: Path
) -> None:
    base = os.path.abspath(root)  # abspath: a root of "." must still prefix its files
    target = os.path.abspath(os.path.join(base, name))
    if os.path.isabs(name) or not (target == base or target.startswith(base + os.sep)):
        report.error(
            doc.mark(at),
            "missing-file",
            f"{operator}> names {format_key(name)}, outside the project folder: "
            "only files inside the project are uploaded; move the file into it",
        )
    elif not os.path.isfile(target):
        report.error(
            doc.mark(at),
            "missing-file",
            f"{operator}> file {format_key(name)} not found in the project "
            f"(looked for {format_key(target, 120)}); create it or fix the path, "
            "which is relative to the project folder",
        )


def _check_module(doc: LoadedDig, report: Report, command: str, at: PathKey, root: Path) -> None:
    """py> a.b.func imports a.b, and a (class b) if that fails (Digdag's runner.py)."""
    parts = command.split(".")
    candidates = [parts[:-1], parts[:-2]] if len(parts) > 2 else [parts[:-1]]
    candidates = [m for m in candidates if m and all(m)]
    if any(_module_exists(root, module) for module in candidates):
        return
    looked = " or ".join(f"{'/'.join(m)}.py" for m in candidates) or "a module"
    report.warning(
        doc.mark(at),
        "py-module",
        f"py> {format_key(command)}: no {format_key(looked, 120)} in the project (nor a package "
        "folder with __init__.py); write py>: module.function with the module's file under "
        "the project folder, unless the Docker image provides the module",
    )


def _module_exists(root: Path, module: list[str]) -> bool:
    base = os.path.join(root, *module)
    return os.path.isfile(base + ".py") or os.path.isfile(os.path.join(base, "__init__.py"))


def _workflow_files(folder: Path) -> list[Path]:
    """The project's workflows: top-level ``*.dig`` files, dot files excluded."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix == ".dig" and not p.name.startswith(".") and p.is_file()
    )


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise InputError(f"unknown lint profile {profile!r}: expected td or digdag")
