"""The linter agrees with Digdag on Digdag's own workflows (see the corpus README).

valid/ must lint without errors (profile digdag), every invalid/ file must get an error
carrying the text Digdag gives (from its .why file), the include project must lint
clean, and profile td must flag exactly the operators the manifest lists as not run by
Treasure Data. A missing corpus fails: these tests must never pass by running nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from digsync.dig.lint.core import lint_paths, lint_text
from digsync.dig.lint.findings import Finding

SHARED = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "digdag"
VENDORED = Path(__file__).resolve().parent / "data" / "digdag-conformance"
# The workplace's shared corpus when it is there (it is the reference), else the copy
# kept in the repository, so a clean clone anywhere runs the same checks.
CORPUS = SHARED if (SHARED / "manifest.json").is_file() else VENDORED
_OPERATOR = re.compile(r"does not support (\S+)>:")


def corpus() -> Path:
    if not (CORPUS / "manifest.json").is_file():
        pytest.fail(f"Digdag conformance corpus not found at {CORPUS} (expected manifest.json)")
    return CORPUS


def manifest() -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = json.loads((corpus() / "manifest.json").read_text())["files"]
    return files


def lint_file(relative: str, profile: str) -> list[Finding]:
    path = corpus() / relative
    return lint_text(path.read_text(encoding="utf-8"), str(path), profile)


def error_contains(why: Path) -> str:
    """The error text a .why file quotes: 'error contains: X)' or the exception's text."""
    text = why.read_text(encoding="utf-8")
    found = re.search(r"error contains: (.*?)\): ", text) or re.search(
        r"DuplicateKeyYAMLException '([^']*)'", text
    )
    assert found, f"{why.name}: no expected error text in the .why file"
    return found.group(1)


def test_the_corpus_is_complete() -> None:
    root = corpus()
    assert len(list((root / "valid").glob("*.dig"))) == 255
    assert len(list((root / "invalid").glob("*.dig"))) == 14
    assert len(list((root / "invalid").glob("*.why"))) == 14


def test_valid_workflows_have_no_errors() -> None:
    failures = []
    for path in sorted((corpus() / "valid").glob("*.dig")):
        errors = [f for f in lint_file(f"valid/{path.name}", "digdag") if f.severity == "error"]
        failures += [f"{path.name}:{f.line}:{f.column} {f.code} {f.message}" for f in errors]
    assert failures == []


def test_invalid_workflows_get_digdags_error() -> None:
    expected_by_file = {e["file"]: e.get("error_contains") for e in manifest()}
    misses = []
    for path in sorted((corpus() / "invalid").glob("*.dig")):
        expected = error_contains(path.with_suffix(".why"))
        assert expected_by_file[f"invalid/{path.name}"] == expected
        errors = [f for f in lint_file(f"invalid/{path.name}", "digdag") if f.severity == "error"]
        if not any(expected in f.message for f in errors):
            misses.append(f"{path.name}: no error containing {expected!r}; got {errors}")
    assert misses == []


def test_include_project_lints_clean() -> None:
    project = corpus() / "include-project" / "examples"
    for found in (lint_paths([project], "digdag"), lint_paths([project / "include.dig"], "digdag")):
        assert [f for f in found if f.severity == "error"] == []
        # tasks/conditions.py is not part of the copied example: only that is reported
        assert {f.code for f in found} <= {"py-module"}


def test_included_files_are_reported_at_their_own_lines() -> None:
    found = lint_file("include-project/examples/include.dig", "td")
    sh = [f for f in found if f.code == "td-operator"]
    assert {Path(f.path).name for f in sh} == {"basic.dig"}
    assert [f.line for f in sh] == [4, 7, 11, 14, 19, 22, 25]


def test_td_profile_flags_exactly_the_operators_td_does_not_run() -> None:
    mismatches = []
    for entry in manifest():
        if entry["expect"] != "valid":
            continue
        found = lint_file(entry["file"], "td")
        flagged = sorted(
            {
                m.group(1)
                for f in found
                if f.code == "td-operator"
                for m in [_OPERATOR.search(f.message)]
                if m
            }
        )
        if flagged != sorted(entry.get("td_hosted_unsupported_operators", [])):
            mismatches.append(f"{entry['file']}: flagged {flagged}")
    assert mismatches == []


def test_the_vendored_copy_matches_the_shared_corpus() -> None:
    """The copy in tests/data is the shared corpus, file for file (where both exist)."""
    if CORPUS is VENDORED:
        assert (VENDORED / "manifest.json").is_file()
        return
    shared = {p.relative_to(SHARED): p.read_bytes() for p in SHARED.rglob("*") if p.is_file()}
    vendored = {p.relative_to(VENDORED): p.read_bytes() for p in VENDORED.rglob("*") if p.is_file()}
    assert vendored == shared
