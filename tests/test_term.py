"""Colour and progress on a terminal; plain text in pipes and CI."""

from __future__ import annotations

import io
import re

import pytest

from digsync.cli.output import print_table
from digsync.cli.term import Progress, diff_lines, paint, use_color

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "CI", "TERM"):
        monkeypatch.delenv(name, raising=False)


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert use_color(Tty()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("TERM", "dumb")
    assert use_color(Tty()) is False
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert use_color(io.StringIO()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False


def test_diffs_are_coloured_line_by_line() -> None:
    diff = "--- a\n+++ b\n@@ -1 +1 @@\n-daily>: x\n+hourly>: y\n same\n"
    assert diff_lines(diff, color=False) == diff
    coloured = diff_lines(diff, color=True)
    assert ANSI.sub("", coloured) == diff
    assert "\x1b[31m-daily>: x\x1b[0m\n" in coloured
    assert "\x1b[32m+hourly>: y\x1b[0m\n" in coloured
    assert "\x1b[36m@@ -1 +1 @@\x1b[0m\n" in coloured
    assert " same\n" in coloured and paint("", "red", True) == ""


def test_tables_stay_aligned_with_colour(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["a", "pushed", "r1"], ["long-name", "failed", "-"]]

    def style(column: int, value: str) -> str | None:
        return "red" if value == "failed" else None

    print_table(["PROJECT", "RESULT", "REV"], rows, style)
    plain = capsys.readouterr().out
    assert "\x1b" not in plain
    monkeypatch.setenv("FORCE_COLOR", "1")
    print_table(["PROJECT", "RESULT", "REV"], rows, style)
    coloured = capsys.readouterr().out
    assert "\x1b[1mPROJECT  " in coloured and "\x1b[31mfailed\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain
    assert plain.splitlines()[2] == "long-name  failed  -"


def test_progress_draws_on_a_terminal_and_clears_itself() -> None:
    stream = Tty()
    with Progress(3, "pushing", stream) as progress:
        progress.advance("a")
        progress.advance("b")
    text = stream.getvalue()
    assert "pushing [----------" in text and "1/3 a" in text and "2/3 b" in text
    assert text.endswith("\r\x1b[2K")


@pytest.mark.parametrize("case", ["pipe", "ci", "single"])
def test_progress_is_silent_in_pipes_ci_and_for_one_item(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream: io.StringIO = io.StringIO() if case == "pipe" else Tty()
    if case == "ci":
        monkeypatch.setenv("CI", "true")
    with Progress(1 if case == "single" else 5, "x", stream) as progress:
        progress.advance()
    assert stream.getvalue() == ""
