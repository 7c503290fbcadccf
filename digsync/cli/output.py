"""Human-readable output of plans, push results and tables (coloured on a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from digsync.cli.term import RESULT_STYLE, diff_lines, paint, use_color
from digsync.deploy.plan import Plan
from digsync.deploy.push import PushResult

CellStyle = Callable[[int, str], str | None]


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], style: CellStyle | None = None
) -> None:
    """Aligned columns; on a terminal the header is bold and ``style(column, value)``
    may colour a cell (padding is added before colour, so columns stay aligned)."""
    color = use_color(sys.stdout)
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        padded = []
        for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
            text = cell.ljust(width) if i < len(row) - 1 else cell
            kind = "bold" if n == 0 else (style(i, cell) if style else None)
            padded.append(paint(text, kind, color))
        print("  ".join(padded).rstrip())


def print_plan(plan: Plan) -> None:
    where = f"{plan.project} on {plan.target}"
    if plan.remote is None:
        print(f"{where}: new project, {len(plan.files)} file(s) to push as {plan.revision}")
    elif not plan.changed:
        print(f"{where}: up to date (server revision {plan.remote.revision})")
        return
    else:
        print(
            f"{where}: {len(plan.changes)} file(s) change "
            f"(server revision {plan.remote.revision} -> {plan.revision})"
        )
    for change in plan.changes:
        print(f"  {change.change:>8}  {change.path}")
    for change in plan.changes:
        if change.change == "changed" and change.path.endswith(".dig"):
            sys.stdout.write(diff_lines(change.diff, use_color(sys.stdout)))
    for s in plan.schedules:
        if not s.changed and plan.remote is not None:
            print(f"schedule of {s.workflow}: unchanged, {s.after}")
            continue
        print(f"schedule of {s.workflow}: {s.before} -> {s.after}")
        print(
            "  next runs before:  "
            + (", ".join(r.run_time.isoformat() for r in s.runs_before) or "none")
        )
        print(
            "  next runs after:   "
            + (", ".join(r.run_time.isoformat() for r in s.runs_after) or "none")
        )


def print_push_summary(results: Sequence[PushResult]) -> None:
    print_table(
        ["PROJECT", "RESULT", "REVISION", "MESSAGE"],
        [[r.project, r.status, r.revision or "-", r.message] for r in results],
        style=lambda column, value: RESULT_STYLE.get(value) if column == 1 else None,
    )
    for r in results:
        for warning in r.warnings:
            print(f"warning: {r.project}: {warning}", file=sys.stderr)
    failed = sum(1 for r in results if r.status == "failed")
    pushed = sum(1 for r in results if r.status == "pushed")
    print(
        f"{pushed} pushed, {len(results) - pushed - failed} unchanged, {failed} failed",
        file=sys.stderr,
    )


def print_warnings(warnings: Sequence[Any]) -> None:
    """Config warnings on stderr, one line each, as validate prints them."""
    for warning in warnings:
        print(warning, file=sys.stderr)


def config_warnings(paths: Sequence[str]) -> list[Any]:
    """The warnings of each config that loads (one that does not is reported by the push)."""
    from digsync.config.model import load_config
    from digsync.errors import DigsyncError

    found: list[Any] = []
    for path in paths:
        try:
            found.extend(load_config(path).warnings)
        except DigsyncError:
            continue
    return found
