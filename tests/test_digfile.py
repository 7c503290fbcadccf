"""The .dig loader: Digdag's typing, duplicate keys, !include merging and positions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from digsync.dig.lint.core import lint_text
from digsync.dig.lint.findings import Finding
from digsync.dig.loader import (
    MAX_DEPTH,
    LoadedDig,
    format_key,
    java_key,
    load_dig,
    resolve_digdag,
)
from digsync.errors import Mark, YamlSyntaxError
from digsync.yamlio.load import ScalarError
from tests.test_yamlload import DEEP, HOSTILE, RECURSIVE, TOO_LONG, depth


def loose(text: str, path: str = "wf.dig", base: Path | None = None) -> LoadedDig:
    """Load without raising, so every problem can be looked at."""
    return load_dig(text, path, base, strict=False)


def problems(text: str, base: Path | None = None) -> list[tuple[int, int, str, str]]:
    doc = loose(text, "wf.dig", base)
    return [(p.mark.line, p.mark.column, p.code, p.message) for p in doc.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("True", True),
        ("false", False),
        ("False", False),
        ("TRUE", "TRUE"),  # SnakeYAML's YAML 1.1 form, refused by Digdag's resolver
        ("yes", "yes"),
        ("on", "on"),
        ("~", None),
        ("null", None),
        ("", None),
        ("10:00:00", "10:00:00"),  # no base-60 integers
        ("02:00", "02:00"),
        ("2024-01-31", "2024-01-31"),  # timestamps stay strings
        ("2024-01-31 00:00:00", "2024-01-31 00:00:00"),
        ("1", 1),
        ("-7", -7),
        ("1_000", 1000),
        ("010", 8),  # octal, as SnakeYAML reads it
        ("0x1F", 31),
        ("0b101", 5),
        ("0", 0),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("0.5", "0.5"),  # floats may not start with 0
        ("1:30.5", 90.5),  # base-60 floats remain
        ("-.inf", -math.inf),
        ("0b", "0b"),
        ("hello", "hello"),
    ],
)
def test_plain_scalars_are_typed_as_digdag_types_them(text: str, expected: object) -> None:
    assert resolve_digdag(text) == expected
    assert type(resolve_digdag(text)) is type(expected)


def test_nan_is_a_float() -> None:
    assert math.isnan(resolve_digdag(".nan"))  # type: ignore[arg-type]


def test_quoted_values_stay_strings_and_keys_become_json_strings() -> None:
    doc = loose('a: "true"\nb: 010\n2: x\ntrue: y\n1.5: z\n~x: 0.5\n')
    assert doc.data == {"a": "true", "b": 8, "2": "x", "true": "y", "1.5": "z", "~x": "0.5"}
    assert doc.problems == []


def test_java_key_matches_jackson_for_numbers() -> None:
    assert java_key(1e10) == "1.0E10"
    assert java_key(2.0) == "2.0"
    assert java_key(False) == "false"
    assert java_key(None) is None


def test_duplicate_keys_are_reported_with_digdags_text() -> None:
    assert problems('{"a":1, "a":2}') == [
        (1, 9, "duplicate-key", "Duplicated keys: [a]: keep one of them")
    ]


def test_keys_that_read_the_same_are_duplicates() -> None:
    assert problems('1: a\n"1": b\n') == [
        (2, 1, "duplicate-key", "Duplicated keys: [1]: keep one of them")
    ]


def test_strict_load_raises_the_first_problem() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_dig("a: 1\na: 2\n", "wf.dig")
    assert caught.value.mark == Mark("wf.dig", 2, 1)
    assert caught.value.message == "Duplicated keys: [a]: keep one of them"


def test_empty_and_non_mapping_files_are_refused() -> None:
    message = "a .dig file is a mapping of keys such as timezone:, schedule:, _export: and +task:"
    assert problems("") == [
        (1, 1, "top-level", f"Expected object to load Config but got null: {message}")
    ]
    assert problems("- a\n") == [
        (1, 1, "top-level", f'Expected object to load Config but got ["a"]: {message}')
    ]


def test_a_tab_in_the_indentation_is_named() -> None:
    [(line, column, code, message)] = problems("+a:\n\techo>: x\n")
    assert (line, column, code) == (2, 1, "yaml")
    assert message.endswith("(a tab character: YAML indents with spaces only)")


def test_unknown_tags_are_refused_and_include_must_be_a_key() -> None:
    assert problems("+a:\n  echo>: !up x\n") == [
        (
            2,
            10,
            "yaml-tag",
            "could not determine a constructor for the tag !up: Digdag knows only the "
            "!include tag; quote the value if the text is meant literally",
        )
    ]
    [(_, _, code, message)] = problems("+a: !include x.dig\n")
    assert code == "include"
    assert message.startswith("!include works only as a key: write `!include : 'x.dig'`")


def test_null_key_is_refused() -> None:
    assert [p[2] for p in problems("~: 1\n")] == ["yaml"]


def test_merge_keys_merge_with_explicit_keys_winning() -> None:
    doc = loose("base: &b {echo>: x, n: 1}\n+t:\n  <<: *b\n  n: 2\n")
    assert doc.data["+t"] == {"n": 2, "echo>": "x"}
    assert doc.mark(("+t", "echo>")) == Mark("wf.dig", 1, 18)


def test_alias_bombs_and_recursive_aliases_are_refused() -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
    previous = "a"
    for name in "bcdefgh":
        bomb += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]\n"
        previous = name
    assert problems(bomb) == [
        (1, 1, "yaml", "anchors and aliases expand to more than 200000 values")
    ]
    assert problems("+a: &r [*r]") == [(1, 9, "yaml", RECURSIVE)]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("+a:\n" + "".join(" " * (2 * i) + f"+t{i}:\n" for i in range(1, 300)), 201, 401),
        ("+a: " + "[" * 600 + "]" * 600, 1, 204),
        ("a: " + "{b: " * 400 + "1" + "}" * 400, 1, 800),
    ],
)
def test_deep_nesting_is_one_problem_not_a_crash(text: str, line: int, column: int) -> None:
    assert MAX_DEPTH == 200
    assert problems(text) == [(line, column, "yaml", DEEP)]


# Where .dig files read tagged values as SnakeYAML does, unlike config.yaml (YAML 1.2).
DIG_ONLY = [
    pytest.param(
        "a: !!int abc\n",
        1,
        4,
        "!!int 'abc' is not an integer: write 42, -7, 010, 0x1F, 0b101 or 1:30",
        id="int-abc",
    ),
    pytest.param(
        "a: !!int 0x\n",
        1,
        4,
        "!!int '0x' is not an integer: write 42, -7, 010, 0x1F, 0b101 or 1:30",
        id="0x",
    ),
    pytest.param(
        "a: !!int 08\n",  # octal, as SnakeYAML reads a leading 0
        1,
        4,
        "!!int '08' is not an integer: write 42, -7, 010, 0x1F, 0b101 or 1:30",
        id="08",
    ),
    pytest.param(
        "a: !!bool treu\n",
        1,
        4,
        "!!bool 'treu' is not a boolean: write true, false, yes, no, on or off",
        id="treu",
    ),
    pytest.param(
        "a: !!float 1d\n",
        1,
        4,
        "!!float '1d' is not a number: write 1.5, -2e3, .inf or .nan",
        id="java-suffix",
    ),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), HOSTILE + DIG_ONLY)
def test_hostile_yaml_is_one_problem_with_its_place(
    text: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_dig(text, "wf.dig")
    assert (caught.value.mark, caught.value.message) == (Mark("wf.dig", line, column), message)
    assert lint_text(text, "wf.dig") == [Finding("wf.dig", line, column, "yaml", "error", message)]


@pytest.mark.parametrize(
    "text",
    [
        "+a:\n  echo>: " + "[" * 198 + "x" + "]" * 198 + "\n",
        "+t0:\n"
        + "".join(" " * (2 * i) + f"+t{i}:\n" for i in range(1, 199))
        + " " * 398
        + "echo>: x\n",
        "_export:\n  a: &a "
        + "[" * 150
        + "]" * 150
        + "\n  b: "
        + "[" * 48
        + "*a"
        + "]" * 48
        + "\n",
    ],
    ids=["flow", "nested-tasks", "through-alias"],
)
def test_nesting_at_the_limit_still_loads_and_lints(text: str) -> None:
    doc = loose(text)
    assert doc.problems == []
    assert depth(doc.data) == MAX_DEPTH
    assert [f for f in lint_text(text, "wf.dig") if f.code == "yaml"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!!bool yes", True),
        ("!!bool OFF", False),
        ("!!bool True", True),
        ("!!int 010", 8),
        ("!!int 1_000", 1000),
        ("!!int 0b101", 5),
        ("!!int -0x1F", -31),
        ("!!int 1:30", 90),
        ("!!float 0.5", 0.5),
        ("!!float 1", 1.0),
        ("!!float 1:30.5", 90.5),
        ("!!float -.INF", -math.inf),
        ("!!null ~", None),
        ("!!null", None),
        ("!!str 1", "1"),
    ],
)
def test_explicit_tags_are_read_as_snakeyaml_reads_them(text: str, expected: object) -> None:
    doc = loose(f"x: {text}\n")
    assert doc.problems == []
    assert doc.data["x"] == expected
    assert type(doc.data["x"]) is type(expected)


def test_integers_past_pythons_digit_limit_are_refused() -> None:
    assert resolve_digdag("9" * 4300) == int("9" * 4300)
    with pytest.raises(ScalarError) as caught:
        resolve_digdag("1_" + "0" * 4300)
    assert str(caught.value) == TOO_LONG.format("1_" + "0" * 19 + "...")


def test_format_key_escapes_control_characters_and_cuts_long_keys() -> None:
    assert format_key("a\nb") == "a\\nb"
    assert format_key("x" * 100) == "x" * 57 + "..."


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "base.dig").write_text("+a:\n  echo>: from base\n+b:\n  echo>: b\n")
    (tmp_path / "params.yml").write_text("td:\n  database: db\n  engine: presto\n")
    (tmp_path / "sub" / "inner.dig").write_text("!include : leaf.dig\n+c:\n  echo>: c\n")
    (tmp_path / "sub" / "leaf.dig").write_text("+leaf:\n  echo>: leaf\n")
    return tmp_path


def test_include_merges_keys_into_the_including_mapping(project: Path) -> None:
    text = (
        "_export:\n  td:\n    database: old\n    x: 1\n  !include : params.yml\n"
        "+group:\n  !include : base.dig\n  !include : sub/inner.dig\n"
    )
    doc = loose(text, str(project / "wf.dig"), project)
    assert doc.problems == []
    assert doc.data["_export"] == {"td": {"database": "db", "x": 1, "engine": "presto"}}
    assert list(doc.data["+group"]) == ["+a", "+b", "+leaf", "+c"]
    assert doc.mark(("+group", "+a", "echo>")) == Mark(str(project / "base.dig"), 2, 10)
    assert doc.mark(("+group", "+leaf", "echo>")) == Mark(str(project / "sub" / "leaf.dig"), 2, 10)
    assert doc.key_mark(("_export", "td", "engine")) == Mark(str(project / "params.yml"), 3, 3)
    assert doc.included == [
        str(project / "params.yml"),
        str(project / "base.dig"),
        str(project / "sub" / "inner.dig"),
        str(project / "sub" / "leaf.dig"),
    ]


def test_keys_after_an_include_replace_included_ones(project: Path) -> None:
    doc = loose("!include : base.dig\n+a:\n  echo>: mine\n", str(project / "wf.dig"), project)
    assert doc.data == {"+a": {"echo>": "mine"}, "+b": {"echo>": "b"}}
    assert doc.mark(("+a", "echo>")) == Mark(str(project / "wf.dig"), 3, 10)


def test_include_problems(project: Path) -> None:
    (project / "self.dig").write_text("!include : self.dig\n")
    (project / "list.dig").write_text("- a\n")
    (project / "dup.dig").write_text("a: 1\na: 2\n")
    text = (
        "+a:\n  !include : ../x.dig\n+b:\n  !include : nope.dig\n+c:\n  !include : self.dig\n"
        "+d:\n  !include : list.dig\n+e:\n  !include : dup.dig\n"
    )
    found = [
        (p.mark.path, p.mark.line, p.code, p.message)
        for p in loose(text, str(project / "wf.dig"), project).problems
    ]
    wf, here = str(project / "wf.dig"), str(project)
    assert found == [
        (
            wf,
            2,
            "include",
            "file name must not include ..: ../x.dig (an included file must "
            "sit in the including file's folder or below)",
        ),
        (wf, 4, "include", f"included file nope.dig not found (looked for {here}/nope.dig)"),
        (
            str(project / "self.dig"),
            1,
            "include",
            "!include 'self.dig' includes itself (directly or through other files)",
        ),
        (
            str(project / "list.dig"),
            1,
            "top-level",
            'Expected object to load Config but got ["a"]: a .dig file is a mapping of keys such '
            "as timezone:, schedule:, _export: and +task:",
        ),
        (str(project / "dup.dig"), 2, "duplicate-key", "Duplicated keys: [a]: keep one of them"),
    ]


def test_include_without_a_folder_is_reported() -> None:
    [(_, _, code, message)] = problems("!include : a.dig\n")
    assert code == "include"
    assert message == "cannot resolve !include 'a.dig' without the including file's folder"


def test_repeated_includes_keep_every_file_and_positions(project: Path) -> None:
    text = 'x: "!include"\n!include : base.dig\n!include : sub/leaf.dig\n'
    doc = loose(text, str(project / "wf.dig"), project)
    assert doc.problems == []
    assert doc.data == {
        "x": "!include",
        "+a": {"echo>": "from base"},
        "+b": {"echo>": "b"},
        "+leaf": {"echo>": "leaf"},
    }
