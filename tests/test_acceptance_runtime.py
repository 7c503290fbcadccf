"""Acceptance checks of the workflow's own tasks (issue #5) found by an independent review.

Treasure Data runs py> tasks in the image ``workflow.docker_image`` names, and lists
three as supported: ``treasuredata/customscript-python:3.12.x`` (the default),
``digdag/digdag-python:3.10.x`` and ``digdag/digdag-python:3.9.x``. The shipped ``tasks``
package must import and run on each, so it may use nothing newer than Python 3.9. No
3.9 interpreter is at hand here, so the check is static: the grammar of 3.9, and none of
the standard-library features added after it that such code tends to reach for.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.test_runtime_entrypoints import shipped_files

OLDEST = (3, 9)
NEWER_THAN_39 = {
    ("datetime", "UTC"): "3.11 (use datetime.timezone.utc)",
    ("itertools", "pairwise"): "3.10",
    ("itertools", "batched"): "3.12",
    ("typing", "Self"): "3.11",
    ("typing", "TypeAlias"): "3.10",
    ("typing", "ParamSpec"): "3.10",
    ("typing", "assert_never"): "3.11",
    ("enum", "StrEnum"): "3.11",
    ("contextlib", "chdir"): "3.11",
    ("hashlib", "file_digest"): "3.11",
}
NEWER_MODULES = {"tomllib": "3.11"}
NEWER_KEYWORDS = {
    ("zip", "strict"): "3.10",
    ("dataclass", "slots"): "3.10",
    ("dataclass", "kw_only"): "3.10",
    ("sqlite3.connect", "autocommit"): "3.12",
}
TYPE_NAMES = {"int", "str", "bool", "float", "bytes", "list", "dict", "tuple", "set", "None"}


def _annotations(tree: ast.AST) -> set[int]:
    """ids of the nodes inside annotations (not evaluated: every file has the future import)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        found: list[ast.AST | None] = []
        if isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        for ann in found:
            if ann is not None:
                inside.update(id(n) for n in ast.walk(ann))
    return inside


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return "?"


def newer_than_39(source: str, name: str) -> list[str]:
    """What in this module needs a Python newer than 3.9 (line: what, since when)."""
    tree = ast.parse(source, name, feature_version=OLDEST)  # the grammar: no match, except*
    found = []
    if "from __future__ import annotations" not in source:
        found.append("1: no 'from __future__ import annotations' (X | Y annotations need 3.10)")
    in_annotation = _annotations(tree)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                since = NEWER_THAN_39.get((node.module, alias.name))
                if since:
                    found.append(f"{line}: from {node.module} import {alias.name} needs {since}")
            if node.module.split(".")[0] in NEWER_MODULES:
                found.append(f"{line}: {node.module} needs {NEWER_MODULES[node.module]}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in NEWER_MODULES:
                    found.append(f"{line}: import {alias.name} needs {NEWER_MODULES[alias.name]}")
        elif isinstance(node, ast.Attribute):
            since = NEWER_THAN_39.get((_name(node.value), node.attr))
            if since:
                found.append(f"{line}: {_name(node)} needs {since}")
        elif isinstance(node, ast.Call):
            called = _name(node.func)
            for keyword in node.keywords:
                since = NEWER_KEYWORDS.get((called, keyword.arg or ""))
                if since:
                    found.append(f"{line}: {called}({keyword.arg}=...) needs {since}")
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.BitOr)
            and id(node) not in in_annotation
            and {_name(node.left), _name(node.right)} & TYPE_NAMES
        ):
            found.append(f"{line}: a type union X | Y evaluated at run time needs 3.10")
    return sorted(found, key=lambda text: int(text.split(":")[0]))


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: p.name)
def test_shipped_tasks_run_on_every_python_td_offers(path: Path) -> None:
    assert newer_than_39(path.read_text(encoding="utf-8"), path.name) == []


def test_the_39_check_finds_what_would_fail_there() -> None:
    source = (
        "from datetime import UTC\n"
        "import datetime\n"
        "from dataclasses import dataclass\n"
        "@dataclass(frozen=True, slots=True)\n"
        "class A:\n"
        "    x: int | None\n"
        "def f(v: str | None) -> int | str:\n"
        "    ok = isinstance(v, (int, str))\n"
        "    bad = isinstance(v, int | str)\n"
        "    flags = 1 | 2\n"
        "    return list(zip([1], [2], strict=True)), datetime.UTC\n"
    )
    assert newer_than_39(source, "m.py") == [
        "1: no 'from __future__ import annotations' (X | Y annotations need 3.10)",
        "1: from datetime import UTC needs 3.11 (use datetime.timezone.utc)",
        "4: dataclass(slots=...) needs 3.10",
        "9: a type union X | Y evaluated at run time needs 3.10",
        "11: datetime.UTC needs 3.11 (use datetime.timezone.utc)",
        "11: zip(strict=...) needs 3.10",
    ]
    with pytest.raises(SyntaxError):
        newer_than_39("match x:\n    case 1:\n        pass\n", "m.py")
