"""A test left out of the default run is never left out of CI.

pyproject.toml's addopts leave the ``slow`` and ``browser`` tests out of a bare
``pytest`` (and ``make test-fast``); ``make test``, which CI runs through .ci/run, must
select every marker again, and every module that drives Chromium must carry ``browser``.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from pathlib import Path

from tests.conftest import ROOT

TESTS = ROOT / "tests"
MARKERS = {"slow", "browser"}
DEFAULT_SELECTION = "not slow and not browser"


def pytest_options() -> dict[str, object]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    options = tomllib.loads(text)["tool"]["pytest"]["ini_options"]
    assert isinstance(options, dict)
    return options


def recipe(target: str) -> list[str]:
    """The command lines of a Makefile target (continuation lines joined)."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    (start,) = [i for i, line in enumerate(lines) if re.match(rf"{re.escape(target)}:", line)]
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        body.append(line[1:])
    return body


def pytest_args(target: str) -> list[list[str]]:
    """The arguments of each pytest call in a Makefile target's recipe."""
    calls = []
    for line in recipe(target):
        words = shlex.split(line)
        if "$(BIN)/pytest" in words:
            calls.append(words[words.index("$(BIN)/pytest") + 1 :])
    return calls


def selection(args: list[str]) -> str | None:
    """The -m expression pytest runs with: the last -m given, addopts first."""
    addopts = pytest_options()["addopts"]
    assert isinstance(addopts, str)
    words = [*shlex.split(addopts), *args]
    chosen = None
    for i, word in enumerate(words):
        if word == "-m":
            chosen = words[i + 1]
        elif word.startswith("-m") and word != "-m":
            chosen = word[2:]
    return chosen


def test_the_markers_are_registered_strict_and_left_out_by_default() -> None:
    options = pytest_options()
    addopts = options["addopts"]
    assert isinstance(addopts, str) and "--strict-markers" in shlex.split(addopts)
    markers = options["markers"]
    assert isinstance(markers, list)
    assert {str(line).split(":")[0] for line in markers} == MARKERS
    assert selection([]) == DEFAULT_SELECTION


def test_make_test_runs_every_test_and_ci_runs_make_test() -> None:
    (args,) = pytest_args("test")
    # pytest filters nothing by marker when the expression is empty.
    assert selection(args) == "", args
    # Nothing else narrows the run either: no -k, no deselection, no paths.
    assert [a for a in args if a.startswith(("-k", "--deselect", "--ignore", "--lf"))] == []
    assert [a for a in args if not a.startswith("-") and a != ""] == [], args
    assert "PYTEST_ADDOPTS" not in (ROOT / "Makefile").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1] == "make test"


def test_make_e2e_selects_every_marker_and_make_test_fast_the_default() -> None:
    (e2e,) = pytest_args("e2e")
    assert selection(e2e) == "", e2e
    (fast,) = pytest_args("test-fast")
    assert selection(fast) == DEFAULT_SELECTION, fast


def _fixture_args(tree: ast.Module) -> dict[str, set[str]]:
    """Each function of a module with the names of its arguments (fixtures they ask for)."""
    return {
        node.name: {a.arg for a in node.args.args + node.args.kwonlyargs}
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
    }


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _marked(tree: ast.Module, marker: str) -> bool:
    """The module's pytestmark names pytest.mark.<marker>."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return f"pytest.mark.{marker}" in ast.unparse(node.value)
    return False


def browser_modules() -> dict[Path, bool]:
    """Every test module that drives Chromium, and whether it carries ``browser``: it
    imports playwright or tests.ui_helpers, asks (through its own or conftest's
    fixtures) for the ``browser`` fixture, or imports from a module that does."""
    conftest = _fixture_args(ast.parse((TESTS / "conftest.py").read_text(encoding="utf-8")))
    assert "browser" in conftest, "the browser fixture is no longer in tests/conftest.py"
    facts = {}  # module: (its name, its functions' arguments, its imports, marked)
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = ".".join(("tests", *path.relative_to(TESTS).with_suffix("").parts))
        facts[path] = (name, _fixture_args(tree), _imports(tree), _marked(tree, "browser"))
    drives: dict[Path, bool] = {}
    modules = {"tests.ui_helpers"}
    changed = True
    while changed:  # until no module joins: importing from one that drives drives too
        changed = False
        for path, (name, functions, imports, marked) in facts.items():
            if path in drives:
                continue
            wants = {"browser"}
            every = {**conftest, **functions}
            while True:  # fixtures that ask, directly or not, for the browser fixture
                more = {f for f, args in every.items() if args & wants} - wants
                if not more:
                    break
                wants |= more
            if (
                any(i == "playwright" or i.startswith("playwright.") for i in imports)
                or imports & modules
                or any(args & wants for args in functions.values())
            ):
                drives[path] = marked
                modules.add(name)
                changed = True
    return drives


def test_every_module_that_drives_chromium_carries_the_browser_marker() -> None:
    drives = browser_modules()
    assert {TESTS / "test_ui_browser.py", TESTS / "test_ui_day.py"} <= set(drives)
    assert [str(p.relative_to(ROOT)) for p, marked in sorted(drives.items()) if not marked] == []
