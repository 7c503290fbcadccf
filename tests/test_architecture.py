"""The layers of docs/architecture.md hold: each module imports only its own layer or
lower ones, no two modules import each other (directly or round a loop), and the
workflow's own tasks (digsync/runtime/) import nothing but the standard library."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "digsync"

# Lowest first; one row is one layer, whose rooms may import each other (without a loop).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("yamlio",),
    ("schedule",),
    ("dig", "config", "history"),
    ("render",),
    ("deploy",),
    ("editor",),
    ("cli", "server"),
)
RANK = {room: rank for rank, rooms in enumerate(LAYERS) for room in rooms}
TOP = {"__init__", "__main__", "api"}  # digsync itself: the public API and `python -m digsync`


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """Every module of digsync that ``name`` imports, at the top or inside a function."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "digsync")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: None if is_package else -1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] != "digsync":
                continue
            for alias in node.names:
                full = f"{module}.{alias.name}"
                yield full if full in known else module


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {
        name: {dep for dep in imports(name, path, known) if dep != name}
        for name, path in found.items()
    }


def room(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_lives_in_a_layer() -> None:
    homeless = [
        name
        for name in modules()
        if room(name) not in RANK and room(name) not in (*TOP, "runtime") and name != "digsync"
    ]
    assert homeless == [], "add each to a layer of LAYERS and to docs/architecture.md"


def test_each_module_imports_only_its_own_layer_or_lower_ones() -> None:
    upward = []
    for name, deps in graph().items():
        if room(name) in TOP or room(name) == "runtime" or name == "digsync":
            continue
        for dep in deps:
            if dep == "digsync":
                continue  # digsync.__version__
            if room(dep) == "runtime":
                continue  # the tasks' code: a leaf anyone may read
            if RANK[room(dep)] > RANK[room(name)]:
                upward.append(f"{name} -> {dep}")
    assert not upward, "\n".join(sorted(upward))


def test_no_import_cycle() -> None:
    deps = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(deps.get(node, ())):
            if dep == "digsync" or dep not in deps:
                continue
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for node in sorted(deps):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_tasks_import_only_the_standard_library_and_themselves() -> None:
    outside = []
    for path in sorted((PACKAGE / "runtime").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for module in names:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and module != "digdag":
                    outside.append(f"{path.name}: {module}")
    assert outside == []


def test_only_the_command_line_raises_usage_errors() -> None:
    """The library raises domain errors (InputError and the rest of digsync.errors);
    UsageError is the command line's own: an option, or options that do not go together."""
    raised = []
    for name, path in modules().items():
        if room(name) == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(call, ast.Name) and call.id == "UsageError":
                    raised.append(f"{name}:{node.lineno}")
    assert not raised, "\n".join(raised)


@pytest.mark.parametrize("bad", ["upward", "cycle"])
def test_the_checks_catch_what_they_look_for(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks above, on a small package that breaks each rule."""
    pkg = tmp_path / "digsync"
    (pkg / "errors").mkdir(parents=True)
    (pkg / "cli").mkdir()
    (pkg / "__init__.py").write_text("")
    for sub in ("errors", "cli"):
        (pkg / sub / "__init__.py").write_text("")
    if bad == "upward":
        (pkg / "errors" / "a.py").write_text("from digsync.cli.b import x\n")
        (pkg / "cli" / "b.py").write_text("x = 1\n")
        monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
        with pytest.raises(AssertionError, match=r"digsync\.errors\.a -> digsync\.cli\.b"):
            test_each_module_imports_only_its_own_layer_or_lower_ones()
    else:
        (pkg / "cli" / "a.py").write_text("from digsync.cli import b\n")
        (pkg / "cli" / "b.py").write_text("def f():\n    from digsync.cli.a import g\n")
        monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
        with pytest.raises(AssertionError, match=r"digsync\.cli\.a"):
            test_no_import_cycle()
