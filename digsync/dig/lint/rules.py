"""What Digdag checks when a project is pushed (and when generated tasks compile).

The walk follows Digdag's ``WorkflowFile.fromConfig`` (top-level keys, task names) and
``WorkflowCompiler`` (operator versus group tasks, group keys, ``_parallel``,
``_background``, ``_after``, ``_error``). Blocks that Digdag compiles only at run time
(``_do``, ``_else_do``, ``_check``, ``sla`` tasks) get the same checks, except that
``${...}`` values there are left alone because they are expanded first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from digsync.dig.loader import LoadedDig, format_key
from digsync.errors import close_matches, edit_distance
from digsync.yamlio.load import PathKey

if TYPE_CHECKING:
    from digsync.dig.lint.findings import Report

TOP_LEVEL_KEYS = (
    "timezone",
    "_export",
    "schedule",
    "sla",
    "_error",
    "_check",
    "_retry",
    "_parallel",
)
GROUP_KEYS = (
    "timezone",
    "schedule",
    "sla",
    "_parallel",
    "_background",
    "_after",
    "_error",
    "_check",
    "_retry",
    "_export",
    "_secrets",
)
DYNAMIC_BLOCKS = ("_do", "_else_do", "_check")
LOOP_OPERATORS = frozenset({"loop", "for_each", "for_range", "td_for_each"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE", ""})
_BAD_NAME_CHAR = re.compile(r"[^a-zA-Z_0-9\-=\[\]{}%&@`,.^]")

Field = tuple[Any, PathKey]


@dataclass
class Task:
    """One task as Digdag compiles it: its own keys, its subtasks and its operator."""

    name: str
    full_name: str
    at: PathKey
    params: dict[str, Field]
    subtasks: list[tuple[str, Any, PathKey]]
    dynamic: bool
    exported_image: bool
    kind: str = "group"
    operator: str | None = None
    op_at: PathKey | None = None

    @property
    def has_image(self) -> bool:
        """Whether ``docker.image`` reaches this task (own key or an exported one)."""
        docker = self.params.get("docker", (None, ()))[0]
        return self.exported_image or _has_image(docker)


@dataclass
class Workflow:
    """The tasks of one workflow file, for the rules that look at each task."""

    name: str
    root: Task
    tasks: list[Task] = field(default_factory=list)


def check_tasks(doc: LoadedDig, report: Report, name: str) -> Workflow:
    """Compile the tasks of workflow ``name`` as Digdag does; return them for later rules."""
    return _Walker(doc, report).run(name, doc.data)


def is_template(value: Any) -> bool:
    """A string holding ``${...}``, which Digdag expands only when the task runs."""
    return isinstance(value, str) and "${" in value


class _Walker:
    """Walks tasks as WorkflowCompiler.collect does, reporting what it would reject."""

    def __init__(self, doc: LoadedDig, report: Report) -> None:
        self.doc = doc
        self.report = report
        self.tasks: list[Task] = []

    def run(self, name: str, data: dict[str, Any]) -> Workflow:
        """Compile the root task (every top-level key but timezone) and all below it."""
        params: dict[str, Field] = {
            k: (v, (k,))
            for k, v in data.items()
            if not k.startswith("+") and k in TOP_LEVEL_KEYS and k != "timezone"
        }
        subtasks: list[tuple[str, Any, PathKey]] = [
            (k, v, (k,)) for k, v in data.items() if k.startswith("+")
        ]
        root = Task(
            f"+{name}",
            f"+{name}",
            (),
            params,
            subtasks,
            False,
            _has_image(_nested(data.get("_export"), "docker")),
        )
        for key, _, at in subtasks:
            self._check_name(key, at, top=True)
        self._visit_all(root)
        sla = data.get("sla")
        if isinstance(sla, dict):
            self._dynamic_group("^sla", sla, ("sla",), root)
        return Workflow(name, root, self.tasks)

    def _visit_all(self, first: Task) -> None:
        """Visit a task and everything under it, without deep Python recursion."""
        stack = [first]
        while stack:
            task = stack.pop()
            stack.extend(reversed(self._visit(task)))

    def _visit(self, task: Task) -> list[Task]:
        """Check one task; return its subtasks and dynamic blocks to visit next."""
        self.tasks.append(task)
        if self._disabled(task):
            task.kind = "disabled"
            return []
        if task.at:
            self._objects(task, ("_export",))
        ops = [k for k in task.params if k.endswith(">")]
        if task.at and (ops or "_type" in task.params):
            return self._operator_task(task, ops)
        return self._group_task(task)

    def _objects(self, task: Task, keys: tuple[str, ...]) -> None:
        """Keys whose value Digdag reads with getNestedOrGetEmpty: mappings only."""
        for key in keys:
            if key in task.params and not isinstance(task.params[key][0], dict):
                self.report.error(
                    self.doc.mark(task.params[key][1]),
                    "param-type",
                    f"Parameter '{key}' must be an object: write {key}: then indented "
                    "key: value lines",
                )

    def _disabled(self, task: Task) -> bool:
        """``_disable: true`` makes Digdag skip the task and everything in it."""
        if "_disable" not in task.params:
            return False
        value, at = task.params["_disable"]
        flag = self._bool(value, at, "_disable", task.dynamic)
        return flag is True

    def _operator_task(self, task: Task, ops: list[str]) -> list[Task]:
        """A task with an operator: no subtasks, one operator."""
        task.kind = "operator"
        self._objects(task, ("_env",))
        if ops:
            task.operator, task.op_at = ops[0][:-1], task.params[ops[0]][1]
        else:
            op_type = task.params["_type"][0]
            task.operator = op_type if isinstance(op_type, str) else None
            task.op_at = task.params["_type"][1]
        if task.subtasks:
            key, _, at = task.subtasks[0]
            report_op = ops[0] if ops else "_type"
            self.report.error(
                self.doc.key_mark(at),
                "operator-and-subtasks",
                f"A task can't have subtasks: {format_key(task.full_name)} runs "
                f"{format_key(report_op)} and also has {format_key(key)}; move the operator "
                "into a subtask of its own, or the subtasks into another task",
            )
        for extra in ops[1:]:
            self.report.error(
                self.doc.key_mark(task.params[extra][1]),
                "multiple-operators",
                f"A task can't have more than one operator: {format_key(task.full_name)} has "
                f"{', '.join(format_key(o) for o in ops)}; give each operator its own +task",
            )
        if task.operator in LOOP_OPERATORS and "_parallel" in task.params:
            self._parallel_mode(task, True)
        if task.operator == "if" and "_do" not in task.params and "_else_do" not in task.params:
            self.report.error(
                self.doc.key_mark(task.op_at or task.at),
                "if-branch",
                f"if> needs a _do or an _else_do block: {format_key(task.full_name)}"
                " has neither, so it would fail when it runs; add _do: with the "
                "tasks to run when the condition is true",
            )
        return self._special_blocks(task, DYNAMIC_BLOCKS)

    def _group_task(self, task: Task) -> list[Task]:
        """A grouping task: valid keys only, and the ordering options of its children."""
        if task.at:
            for key, _, at in task.subtasks:
                self._check_name(key, at, top=False)
            self._group_keys(task)
        children = [self._child(task, key, value, at) for key, value, at in task.subtasks]
        present = [c for c in children if c is not None]
        self._ordering(task, present)
        return present + self._special_blocks(task, ("_check",))

    def _group_keys(self, task: Task) -> None:
        """WorkflowCompiler's 'contains invalid keys' check on a group's own keys."""
        for key, (_, at) in task.params.items():
            if key in GROUP_KEYS:
                continue
            suggestion = suggest(key, GROUP_KEYS)
            shown = f"'{format_key(key)}'"
            if suggestion:
                shown += f" (did you mean [{suggestion}]?)"
            hint = (
                "a group task (one with +subtasks) takes only "
                + ", ".join(GROUP_KEYS)
                + "; pass parameters to its tasks under _export:"
            )
            self.report.error(
                self.doc.key_mark(at),
                "group-key",
                f"{format_key(task.full_name)} contains invalid keys: {shown}: {hint}",
            )

    def _ordering(self, task: Task, children: list[Task]) -> None:
        """_parallel, _background and _after of the children, as the compiler orders them."""
        parallel = self._parallel_mode(task, False)
        names: set[str] = set()
        for child in children:
            if _is_disabled(child):
                names.add(child.name)
                continue
            background = self._child_bool(child, "_background")
            if parallel is True and background is True:
                self.report.error(
                    self.doc.key_mark(child.params["_background"][1]),
                    "background",
                    'Setting "_background: true" option is invalid (unnecessary) if its parent '
                    'task has "_parallel: true" option: remove _background from '
                    f"{format_key(child.full_name)}; its siblings already run in parallel",
                )
            if "_after" in child.params:
                self._after(task, child, parallel, names)
            names.add(child.name)

    def _after(self, task: Task, child: Task, parallel: bool | None, names: set[str]) -> None:
        """_after needs a parallel parent and names earlier siblings."""
        value, at = child.params["_after"]
        if parallel is False:
            self.report.error(
                self.doc.key_mark(at),
                "after",
                'Setting "_after" option is invalid if its parent task doesn\'t have '
                f'"_parallel: true" option: add _parallel: true to {format_key(task.full_name)}'
                ", or remove _after (siblings already run in order)",
            )
            return
        entries = [(value, at)] if isinstance(value, str) else None
        if isinstance(value, list):
            entries = [(v, (*at, i)) for i, v in enumerate(value)]
        if entries is None:
            self.report.error(
                self.doc.mark(at),
                "after",
                f"Expected array type for key '_after' but got {sample(value)}: "
                "write _after: [+task_name]",
            )
            return
        for name, where in entries:
            if child.dynamic and is_template(name):
                continue
            text = _scalar_text(name)
            if text in names:
                continue
            hint = (
                f"write '+{text}'"
                if f"+{text}" in names
                else "_after may name only sibling tasks defined above this one"
            )
            self.report.error(
                self.doc.mark(where),
                "after",
                f"Dependency task '{format_key(text)}' does not exist: {hint}",
            )

    def _parallel_mode(self, task: Task, operator: bool) -> bool | None:
        """ParallelControl: True, False, or None when unknown until run time."""
        if "_parallel" not in task.params:
            return False
        value, at = task.params["_parallel"]
        if isinstance(value, dict):
            self._parallel_limit(value, at, task.dynamic or operator)
            return True
        if isinstance(value, bool | str):
            if isinstance(value, str) and is_template(value) and (task.dynamic or operator):
                return None
            return self._bool(value, at, "_parallel", False)
        self.report.error(
            self.doc.mark(at),
            "parallel",
            f"Invalid _parallel format: {to_json(value)}: write _parallel: true, "
            "_parallel: false or _parallel: {limit: N}",
        )
        return None

    def _parallel_limit(self, value: dict[str, Any], at: PathKey, runtime: bool) -> None:
        """``_parallel: {limit: N}`` needs an integer limit."""
        if "limit" not in value:
            self.report.error(
                self.doc.mark(at),
                "parallel",
                "Parameter 'limit' is required but not set: write "
                "_parallel: {limit: 2} (or _parallel: true for no limit)",
            )
            return
        limit = value["limit"]
        if runtime and is_template(limit):
            return
        if isinstance(limit, bool) or not _int_like(limit):
            self.report.error(
                self.doc.mark((*at, "limit")),
                "parallel",
                f"Expected integer (int) type for key 'limit' but got "
                f"{sample(limit)}: write a whole number such as limit: 2",
            )

    def _child_bool(self, child: Task, key: str) -> bool | None:
        if key not in child.params:
            return False
        value, at = child.params[key]
        return self._bool(value, at, key, child.dynamic)

    def _bool(self, value: Any, at: PathKey, key: str, runtime: bool) -> bool | None:
        """A boolean as Jackson reads it (true/false, their strings, 0/1); else an error."""
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and (value in _TRUE or value in _FALSE):
            return value in _TRUE
        if runtime and is_template(value):
            return None
        hint = "write true or false"
        if is_template(value):
            hint += (
                f"; {key} of a group is read before ${{...}} is expanded (only operators "
                "such as loop> and for_each> take a variable here)"
            )
        code = "parallel" if key == "_parallel" else "param-type"
        self.report.error(
            self.doc.mark(at),
            code,
            f"Expected 'true' or 'false' for key '{key}' but got {sample(value)}: {hint}",
        )
        return None

    def _special_blocks(self, task: Task, dynamic: tuple[str, ...]) -> list[Task]:
        """``_error`` (compiled on push) and the blocks generated at run time."""
        found = []
        for key in ("_error", *dynamic):
            if key not in task.params:
                continue
            value, at = task.params[key]
            if not isinstance(value, dict):
                self.report.error(
                    self.doc.mark(at),
                    "param-type",
                    f"Parameter '{key}' must be an object: write {key}: then "
                    "an indented task (an operator or +subtasks)",
                )
                continue
            if value:
                found.append(self._block(task, key, value, at, task.dynamic or key != "_error"))
        return found

    def _block(
        self, parent: Task, key: str, value: dict[str, Any], at: PathKey, dynamic: bool
    ) -> Task:
        """A block compiled as a task of its own (``^error``, ``^do``, ...)."""
        name = "^" + key.lstrip("_")
        params = {k: (v, (*at, k)) for k, v in value.items() if not k.startswith("+")}
        subtasks = [(k, v, (*at, k)) for k, v in value.items() if k.startswith("+")]
        exported = parent.exported_image or _has_image(_nested(value.get("_export"), "docker"))
        return Task(name, parent.full_name + name, at, params, subtasks, dynamic, exported)

    def _dynamic_group(self, name: str, value: dict[str, Any], at: PathKey, root: Task) -> None:
        """SLA tasks: only the +tasks of the block form the generated group."""
        subtasks = [(k, v, (*at, k)) for k, v in value.items() if k.startswith("+")]
        if subtasks:
            group = Task(name, root.full_name + name, at, {}, subtasks, True, root.exported_image)
            self._visit_all(group)

    def _child(self, parent: Task, key: str, value: Any, at: PathKey) -> Task | None:
        """A subtask's keys: an object, or a list of objects merged in order."""
        pieces: list[tuple[dict[str, Any], PathKey]] = []
        if isinstance(value, dict):
            pieces = [(value, at)]
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            pieces = [(v, (*at, i)) for i, v in enumerate(value)]
        else:
            self.report.error(
                self.doc.mark(at),
                "task-body",
                f"Parameter '{format_key(key)}' must be an object or array of "
                f"objects, not {sample(value)}: put an operator (such as "
                "echo>: hello) or +subtasks under the task",
            )
            return None
        params: dict[str, Field] = {}
        subtasks: dict[str, tuple[str, Any, PathKey]] = {}
        for piece, piece_at in pieces:
            for k, v in piece.items():
                if k.startswith("+"):
                    subtasks[k] = (k, v, (*piece_at, k))
                else:
                    params[k] = (v, (*piece_at, k))
        export = params.get("_export", ({}, ()))[0]
        exported = parent.exported_image or _has_image(_nested(export, "docker"))
        return Task(
            key,
            parent.full_name + key,
            at,
            params,
            list(subtasks.values()),
            parent.dynamic,
            exported,
        )

    def _check_name(self, key: str, at: PathKey, top: bool) -> None:
        """ModelValidator.checkTaskName (top level) or checkRawTaskName (nested)."""
        problems = []
        if top and "^" in key:
            problems.append("can't contain ^ character")
        bad = _BAD_NAME_CHAR.search(key[1:])
        if bad:
            char = bad.group()
            shown = repr(char) if char.isspace() or not char.isprintable() else char
            problems.append(f"can't contain {shown} character")
        if java_length(key) > 255:
            problems.append("can't be longer than 255 characters")
        for problem in problems:
            fixed = "+" + _BAD_NAME_CHAR.sub("_", key[1:]).replace("^", "_")
            self.report.error(
                self.doc.key_mark(at),
                "task-name",
                f'task name {problem}: "{format_key(key)}": use letters, digits '
                f'and - = [ ] {{ }} % & @ , . _ (e.g. "{format_key(fixed[:255])}")',
            )


def _is_disabled(task: Task) -> bool:
    """``_disable`` is set to a true value (Digdag then sees only ``_disable``)."""
    value = task.params.get("_disable", (None, ()))[0]
    return (
        value is True
        or (isinstance(value, int) and not isinstance(value, bool) and value != 0)
        or (isinstance(value, str) and value in _TRUE)
    )


def _has_image(docker: Any) -> bool:
    """Whether a ``docker:`` mapping names an image."""
    return isinstance(docker, dict) and bool(docker.get("image"))


def _nested(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _int_like(value: Any) -> bool:
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(re.fullmatch(r"[-+]?[0-9]+", value.strip()))


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return to_json(value)


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def sample(value: Any) -> str:
    """A value as Digdag's Config shows it: JSON sample (cut at 100) and its type."""
    text = to_json(value)
    if len(text) >= 100:
        text = text[:97] + "..."
    kind = (
        "null"
        if value is None
        else "boolean"
        if isinstance(value, bool)
        else "number"
        if isinstance(value, int | float)
        else "string"
        if isinstance(value, str)
        else "array"
        if isinstance(value, list)
        else "object"
    )
    return f"{format_key(text, 100)} ({kind})"


def java_length(text: str) -> int:
    """String length in UTF-16 units, as Java counts it."""
    return len(text.encode("utf-16-le")) // 2


def suggest(key: str, candidates: tuple[str, ...]) -> str | None:
    """Digdag's EditDistance.suggest with ratio 0.5, closest first (as the lint messages
    name them)."""
    if len(key) > 64:
        return None
    near = close_matches(key, candidates)
    return ", ".join(sorted(near, key=lambda c: (edit_distance(key, c), c))) or None
