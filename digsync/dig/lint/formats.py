"""Lint findings for CI: GitHub Actions workflow commands and SARIF 2.1.0.

``github_commands`` gives one ``::error`` or ``::warning`` line per finding, which a
GitHub Actions step turns into an annotation on the file and line. ``sarif_log`` gives
a SARIF 2.1.0 log (one run, tool ``digsync``, a rule per lint code), the format GitHub
code scanning and other viewers read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from digsync.dig.lint.findings import ERROR, RULES, Finding

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def escape_data(text: str) -> str:
    """A workflow command's message, as GitHub's toolkit escapes it (``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``escapeProperty``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(finding: Finding) -> str:
    """``::error file=F,line=L,col=C,title=CODE::message`` (warnings as ``::warning``)."""
    kind = "error" if finding.severity == ERROR else "warning"
    props = ",".join(
        f"{name}={escape_property(str(value))}"
        for name, value in (
            ("file", finding.path),
            ("line", finding.line),
            ("col", finding.column),
            ("title", finding.code),
        )
    )
    return f"::{kind} {props}::{escape_data(finding.message)}"


def github_commands(findings: Sequence[Finding]) -> str:
    """Every finding as a workflow command line, each ending in a newline."""
    return "".join(github_command(f) + "\n" for f in findings)


def artifact_location(path: str) -> dict[str, str]:
    """A SARIF artifactLocation: a relative path as a URI reference against the source
    root (``%SRCROOT%``), an absolute one as a ``file:`` URI."""
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    posix = Path(os.path.normpath(path)).as_posix()
    return {"uri": quote(posix, safe="/"), "uriBaseId": "%SRCROOT%"}


def sarif_log(findings: Sequence[Finding]) -> dict[str, Any]:
    """The findings as a SARIF 2.1.0 log: ``runs[0].tool.driver`` is digsync with every
    lint code as a rule; each result has ruleId, level, message.text and a physical
    location (file URI, 1-based startLine and startColumn)."""
    from digsync import __version__

    codes = list(RULES)
    codes.extend(sorted({f.code for f in findings if f.code not in RULES}))
    index = {code: i for i, code in enumerate(codes)}
    rules = []
    for code in codes:
        rule = RULES.get(code)
        rules.append(
            {
                "id": code,
                "shortDescription": {"text": rule.summary if rule else code},
                "defaultConfiguration": {"level": _level(rule.severity if rule else ERROR)},
            }
        )
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _level(f.severity),
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact_location(f.path),
                        "region": {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)},
                    }
                }
            ],
        }
        for f in findings
    ]
    driver = {"name": "digsync", "version": __version__, "rules": rules}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}
        ],
    }


def _level(severity: str) -> str:
    return "error" if severity == ERROR else "warning"
