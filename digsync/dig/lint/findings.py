"""What the linter finds: the rules (code, severity, summary), findings, and the
per-file report the rule modules add to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

from digsync.errors import Mark

ERROR = "error"
WARNING = "warning"


class Rule(NamedTuple):
    """A lint rule: its severity and one line on what it finds (docs/lint-rules.md)."""

    severity: str
    summary: str


RULES: dict[str, Rule] = {
    "yaml": Rule(ERROR, "The text is not YAML Digdag can load."),
    "yaml-tag": Rule(ERROR, "A YAML tag other than !include."),
    "duplicate-key": Rule(ERROR, "The same key twice in one mapping."),
    "include": Rule(ERROR, "An !include Digdag cannot honour."),
    "top-level": Rule(ERROR, "The file is not a mapping."),
    "workflow-name": Rule(ERROR, "The workflow name, taken from the file name, is invalid."),
    "top-level-key": Rule(ERROR, "An unknown key at the top level."),
    "timezone": Rule(ERROR, "timezone: is not a time zone Digdag knows."),
    "schedule": Rule(ERROR, "A schedule the server would refuse."),
    "schedule-version": Rule(WARNING, "schedule start: or end: needs Digdag 0.10.5 or later."),
    "secret-in-content": Rule(WARNING, "http> content sends a ${secret:...} to the URL."),
    "param-type": Rule(ERROR, "A control key with a value of the wrong kind."),
    "task-name": Rule(ERROR, "A task name with a character Digdag refuses."),
    "task-body": Rule(ERROR, "A task whose value is not a mapping."),
    "operator-and-subtasks": Rule(ERROR, "A task with an operator also has +subtasks."),
    "multiple-operators": Rule(ERROR, "Two operators in one task."),
    "group-key": Rule(ERROR, "A group task has a key Digdag does not accept there."),
    "parallel": Rule(ERROR, "_parallel that Digdag cannot read."),
    "background": Rule(ERROR, "_background: true under a _parallel: true group."),
    "after": Rule(ERROR, "_after that Digdag refuses."),
    "if-branch": Rule(ERROR, "if> with neither _do nor _else_do."),
    "missing-file": Rule(ERROR, "A file the workflow names is not in the project."),
    "py-module": Rule(WARNING, "py> names a module the project does not have."),
    "td-operator": Rule(ERROR, "An operator Treasure Data does not run."),
    "td-download-file": Rule(ERROR, "td> download_file: is not supported on TD."),
    "td-docker-image": Rule(ERROR, "py> without a docker image."),
    "td-api-host": Rule(ERROR, "TD_API_SERVER set to a host that is not Treasure Data's."),
    "td-docker-image-source": Rule(WARNING, "A docker image TD does not document."),
    "td-secret": Rule(ERROR, "${secret:...} where Digdag does not expand it."),
    "td-credential": Rule(WARNING, "A literal credential in the workflow."),
    "td-webhook": Rule(WARNING, "A chat webhook URL written into the workflow."),
}
"""Every finding code, in the order of docs/lint-rules.md."""


@dataclass(frozen=True, order=True)
class Finding:
    """One lint result; sorts by file, line, column, then code."""

    path: str
    line: int
    column: int
    code: str
    severity: str
    message: str


def findings_to_json(findings: Sequence[Finding]) -> dict[str, object]:
    """The ``--json`` document: ``{"findings": [{path, line, column, code, ...}]}``."""
    return {"findings": [asdict(f) for f in findings]}


class Report:
    """Collects findings for one linted file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []

    def add(self, mark: Mark, code: str, severity: str, message: str) -> None:
        """Record a finding at ``mark`` (which may point into an included file)."""
        self.findings.append(Finding(mark.path, mark.line, mark.column, code, severity, message))

    def error(self, mark: Mark, code: str, message: str) -> None:
        self.add(mark, code, ERROR, message)

    def warning(self, mark: Mark, code: str, message: str) -> None:
        self.add(mark, code, WARNING, message)
