from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from digsync.config.model import parse_config
from digsync.errors import ConfigError, Mark, Problem, YamlSyntaxError
from digsync.yamlio.load import ScalarError, Tagged, load, resolve_core
from tests.server_fixtures import API, ROOT, live_server, prepare_workdir


def test_yaml_1_2_typing_keeps_times_as_strings() -> None:
    data = load("a: 10:00:00\nb: yes\nc: 0x1F\nd: 0o17\ne: ~\nf: 1.5\ng: !!str 5\n", "x").data
    assert data == {"a": "10:00:00", "b": "yes", "c": 31, "d": 15, "e": None, "f": 1.5, "g": "5"}


def test_positions_and_duplicates() -> None:
    loaded = load("a:\n  b: 1\na: 2\n", "f.yaml")
    assert loaded.marks[("a",)] == Mark("f.yaml", 3, 4)
    assert loaded.key_marks[("a",)] == Mark("f.yaml", 3, 1)
    assert loaded.duplicates == [(Mark("f.yaml", 3, 1), ("a",))]


def test_custom_tags_are_kept() -> None:
    assert load("!include : x.dig\n", "x").data == {Tagged("!include", ""): "x.dig"}


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    with pytest.raises(YamlSyntaxError) as info:
        load("\n".join(lines) + "\n", "bomb.yaml")
    assert str(info.value).endswith("the document expands to more than 200000 values")


DEEP = "nesting is deeper than 200 levels; flatten the document"
RECURSIVE = (
    "the alias *r is inside the collection &r it names: a recursive structure cannot be "
    "loaded; repeat the values instead"
)
UNSUPPORTED = (
    "unsupported tag {}: only !!str, !!int, !!float, !!bool and !!null can tag a value; "
    "remove the tag to keep the text"
)
TOO_LONG = "the integer {} has more than 4300 digits; quote it to keep it as text"
NINES = "9" * 21 + "..."

# Hostile inputs that load the same way in config.yaml and .dig files:
# (text, line, column, message). "a:" is the root mapping, so it is the first level.
HOSTILE = [
    pytest.param("a: " + "[" * 30_000 + "]" * 30_000 + "\n", 1, 203, DEEP, id="flow-30000"),
    pytest.param("a: " + "[" * 30_000 + "\n", 1, 203, DEEP, id="flow-30000-unclosed"),
    pytest.param("a: " + "{b: " * 30_000 + "1" + "}" * 30_000, 1, 800, DEEP, id="flow-maps"),
    pytest.param(
        "".join(" " * i + f"k{i}:\n" for i in range(3000)) + " " * 3000 + "v: 1\n",
        201,
        201,
        DEEP,
        id="block-maps-3000",
    ),
    pytest.param(
        "".join(" " * i + f"k{i}:\n" for i in range(250)) + " " * 250 + "v: 1\n",
        201,
        201,
        DEEP,
        id="block-maps-250",
    ),
    pytest.param("a:\n  " + "- " * 30_000 + "x\n", 2, 401, DEEP, id="compact-seqs"),
    pytest.param(
        "a: &a " + "[" * 150 + "]" * 150 + "\nb: " + "[" * 60 + "*a" + "]" * 60 + "\n",
        2,
        64,
        "nesting is deeper than 200 levels (counting what the alias *a brings in); "
        "flatten the document",
        id="deep-through-alias",
    ),
    pytest.param("a: &r {self: *r}\n", 1, 14, RECURSIVE, id="recursive-mapping"),
    pytest.param("a: &r [1, *r]\n", 1, 11, RECURSIVE, id="recursive-sequence"),
    pytest.param("a: " + "9" * 5000 + "\n", 1, 4, TOO_LONG.format(NINES), id="int-5000"),
    pytest.param("a: !!int " + "9" * 5000, 1, 4, TOO_LONG.format(NINES), id="tagged-int-5000"),
    pytest.param("a: -" + "9" * 4301, 1, 4, TOO_LONG.format("-" + "9" * 20 + "..."), id="neg"),
    pytest.param(
        "a: 0x" + "f" * 4000, 1, 4, TOO_LONG.format("0x" + "f" * 19 + "..."), id="hex-4000"
    ),
    pytest.param(
        "a: !!float 1e999999\n",
        1,
        4,
        "the number 1e999999 is too large for a float; write .inf for infinity",
        id="tagged-float-overflow",
    ),
    pytest.param(
        "a: -1e999\n",
        1,
        4,
        "the number -1e999 is too large for a float; write -.inf for infinity",
        id="float-overflow",
    ),
    pytest.param(
        "a: 1" + "0" * 400 + ".5\n",
        1,
        4,
        "the number 1" + "0" * 20 + "... is too large for a float; write .inf for infinity",
        id="long-float",
    ),
    pytest.param(
        "a: !!null x\n", 1, 4, "!!null 'x' is not null: write ~ or null, or drop the tag", id="null"
    ),
    pytest.param(
        "a: !!float zzz\n",
        1,
        4,
        "!!float 'zzz' is not a number: write 1.5, -2e3, .inf or .nan",
        id="float-zzz",
    ),
    pytest.param(
        "a: !!timestamp 2024-01-01\n", 1, 4, UNSUPPORTED.format("!!timestamp"), id="timestamp"
    ),
    pytest.param("a: !!binary aGVsbG8=\n", 1, 4, UNSUPPORTED.format("!!binary"), id="binary"),
    pytest.param(
        "a: !!python/object:os.system x\n",
        1,
        4,
        UNSUPPORTED.format("!!python/object:os.system"),
        id="python-object",
    ),
    pytest.param("a: !!seq x\n", 1, 4, UNSUPPORTED.format("!!seq"), id="seq-on-scalar"),
    pytest.param(
        "a: !!set {x, y}\n",
        1,
        4,
        "the tag !!set cannot be used on a mapping (only !!map); remove it",
        id="set",
    ),
    pytest.param(
        "a:\n  - !!omap [x: 1]\n",
        2,
        5,
        "the tag !!omap cannot be used on a sequence (only !!seq); remove it",
        id="omap",
    ),
    pytest.param(
        "a: !!str {x: 1}\n",
        1,
        4,
        "the tag !!str cannot be used on a mapping (only !!map); remove it",
        id="str-on-mapping",
    ),
    pytest.param(
        "a: !foo [1]\n",
        1,
        4,
        "the tag !foo cannot be used on a sequence (only !!seq); remove it",
        id="custom-tag-on-sequence",
    ),
    pytest.param(
        "a: 1\nb: \ud800\n",  # JSON can carry a lone surrogate into the API
        2,
        4,
        "invalid YAML: \\ud800 is half of a surrogate pair, not a character",
        id="lone-surrogate",
    ),
    pytest.param(
        "é: 1\nb: x\x07\n",  # libyaml counts bytes; the column counts characters
        2,
        5,
        "invalid YAML: unacceptable character #x0007: control characters are not allowed",
        id="control-character",
    ),
]

# Where config.yaml (YAML 1.2 core) and .dig (SnakeYAML) read tagged values differently.
CONFIG_ONLY = [
    pytest.param(
        "a: !!int abc\n",
        1,
        4,
        "!!int 'abc' is not an integer: write 42, -7, 0o17 or 0x1F",
        id="int-abc",
    ),
    pytest.param(
        "a: !!int 0x\n", 1, 4, "!!int '0x' is not an integer: write 42, -7, 0o17 or 0x1F", id="0x"
    ),
    pytest.param(
        "a: !!bool treu\n", 1, 4, "!!bool 'treu' is not a boolean: write true or false", id="treu"
    ),
    pytest.param(
        "a: !!bool yes\n", 1, 4, "!!bool 'yes' is not a boolean: write true or false", id="yes"
    ),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), HOSTILE + CONFIG_ONLY)
def test_hostile_yaml_is_one_error_with_its_place(
    text: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load(text, "config.yaml")
    assert (caught.value.mark, caught.value.message) == (Mark("config.yaml", line, column), message)
    with pytest.raises(ConfigError) as config:
        parse_config(text, "config.yaml")
    assert config.value.problems == [Problem(Mark("config.yaml", line, column), "", message)]


def depth(value: object) -> int:
    """Collections nested inside each other in loaded data."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            stack.extend((v, level) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 199 + "]" * 199,
        "a: " + "{b: " * 199 + "1" + "}" * 199,
        "".join(" " * i + f"k{i}:\n" for i in range(199)) + " " * 199 + "v: 1\n",
        "a:\n  " + "- " * 199 + "x\n",
        "a: &a " + "[" * 150 + "]" * 150 + "\nb: " + "[" * 49 + "*a" + "]" * 49,
    ],
    ids=["flow", "flow-maps", "block-maps", "compact-seqs", "through-alias"],
)
def test_nesting_at_the_limit_still_loads(text: str) -> None:
    assert depth(load(text, "config.yaml").data) == 200


def test_config_at_the_limit_validates() -> None:
    text = (ROOT / "examples" / "config.yaml").read_text(encoding="utf-8")
    config = parse_config(text + "extra: " + "[" * 199 + "]" * 199 + "\n")
    assert [p.message for p in config.warnings] == ["unknown section, ignored by digsync"]
    with pytest.raises(ConfigError) as caught:
        parse_config(text + "extra: " + "[" * 200 + "]" * 200 + "\n")
    [problem] = caught.value.problems
    assert (problem.mark.line, problem.mark.column, problem.message) == (  # type: ignore[union-attr]
        text.count("\n") + 1,
        207,
        DEEP,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!!int 42", 42),
        ("!!int -7", -7),
        ("!!int 010", 10),
        ("!!int 0o17", 15),
        ("!!int 0x1F", 31),
        ("!!float 1", 1.0),
        ("!!float 1.5e3", 1500.0),
        ("!!float -.inf", float("-inf")),
        ("!!bool true", True),
        ("!!bool False", False),
        ("!!bool TRUE", True),
        ("!!null ~", None),
        ("!!null", None),
        ("!!str 10", "10"),
        ("!!map {a: 1}", {"a": 1}),
        ("!!seq [1]", [1]),
        ("9" * 4300, int("9" * 4300)),  # Python's limit, exactly
        ("1e308", 1e308),
    ],
)
def test_explicit_tags_by_the_yaml_1_2_core_schema(text: str, expected: object) -> None:
    value = load(f"a: {text}\n", "config.yaml").data["a"]
    assert value == expected
    assert type(value) is type(expected)


def test_resolve_core_refuses_what_str_cannot_write_back() -> None:
    with pytest.raises(ScalarError):
        resolve_core("9" * 4301)
    assert resolve_core("0x" + "f" * 3571) == 16**3571 - 1  # 4300 decimal digits


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[httpx.Client, Path]]:
    config = prepare_workdir(tmp_path, monkeypatch)
    with live_server(config) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, config


# What fits in a request body (the 3000-level block mappings are 4.5 MB of indentation);
# a lone surrogate is refused before, as JSON that is not valid Unicode.
SMALL = [
    p for p in HOSTILE + CONFIG_ONLY if len(str(p.values[0])) <= 65_536 and p.id != "lone-surrogate"
]


@pytest.mark.parametrize(("text", "line", "column", "message"), SMALL)
def test_api_validate_answers_hostile_yaml_with_its_place(
    server: tuple[httpx.Client, Path], text: str, line: int, column: int, message: str
) -> None:
    client, config = server
    body = json.dumps({"yaml": text})  # ASCII: "\\ud800" travels as JSON writes it
    r = client.post(
        f"{API}/config/validate", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400  # text that is not YAML: the request is bad
    body = r.json()
    assert body["code"] == "invalid_config"
    assert body["error"] == [message]
    assert body["problems"][0]["text"] == f"{config}:{line}:{column}: {message}"
    assert (body["problems"][0]["line"], body["problems"][0]["column"]) == (line, column)
    assert client.get("/healthz").status_code == 200


def test_api_reading_a_hostile_config_file_is_a_400(server: tuple[httpx.Client, Path]) -> None:
    client, config = server
    config.write_text("a: " + "[" * 30_000 + "]" * 30_000 + "\n", encoding="utf-8")
    r = client.get(f"{API}/config")
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_config"
    assert r.json()["problems"][0]["text"] == f"{config}:1:203: {DEEP}"
