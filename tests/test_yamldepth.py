"""The bounded composer: libyaml's nodes, without its recursion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from digsync.errors import Mark, YamlSyntaxError
from digsync.yamlio import depth as yamldepth
from digsync.yamlio.depth import MAX_DEPTH, _c_loader, _compose_events, _shallow, compose
from tests.server_fixtures import ROOT

DATA = ROOT / "tests" / "data"


def shape(node: Any, seen: set[int] | None = None) -> Any:
    """A node tree as plain data: tags, values, styles and every mark."""
    seen = set() if seen is None else seen
    if node is None:
        return None
    marks = tuple(
        (m.line, m.column, m.index) for m in (node.start_mark, node.end_mark) if m is not None
    )
    if id(node) in seen:
        return ("alias", marks)
    seen.add(id(node))
    if node.id == "scalar":
        return (node.tag, node.value, node.style, marks)
    if node.id == "sequence":
        return (node.tag, node.flow_style, marks, [shape(c, seen) for c in node.value])
    pairs = [(shape(k, seen), shape(v, seen)) for k, v in node.value]
    return (node.tag, node.flow_style, marks, pairs)


def refusal(text: str) -> tuple[Mark, str]:
    with pytest.raises(YamlSyntaxError) as caught:
        compose(text, "f.yaml")
    return caught.value.mark, caught.value.message


SAMPLES = [
    "",
    "# only a comment\n",
    "--- plain\n...\n",
    "a: 1\nb: [x, 'y', \"z\", {c: d}]\nc:\n  - |\n    block\n  - >-\n    folded\n",
    "? complex\n: value\n[1, 2]: flow key\n",
    "a: !!str 1\nb: !include x.dig\nc: ! 5\nd: !!map {e: !!seq [f]}\n",
    "base: &b {echo>: x}\n+t:\n  <<: *b\n  n: &n 2\nm: *n\n",
    "- - - nested\n  - compact\n- {a: [b, {c: d}]}\n",
    "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n",  # the limit
]


@pytest.mark.parametrize("text", SAMPLES)
def test_events_build_the_nodes_libyaml_builds(text: str) -> None:
    expected = shape(yaml.compose(text, Loader=_c_loader()))
    assert shape(_compose_events(text, "f.yaml")) == expected


def conformance_files() -> list[Path]:
    return (
        sorted(DATA.rglob("*.dig")) + sorted(DATA.rglob("*.yml")) + [ROOT / "examples/config.yaml"]
    )


def test_events_build_the_nodes_libyaml_builds_for_every_test_file() -> None:
    compared = 0
    for path in conformance_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            expected = shape(yaml.compose(text, Loader=_c_loader()))
        except yaml.YAMLError:
            continue
        assert shape(_compose_events(text, str(path))) == expected, path
        compared += 1
    assert compared > 100


def event_depth(text: str) -> int:
    """Deepest nesting, counted from the parser's events."""
    level = deepest = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            level += 1
            deepest = max(deepest, level)
        elif isinstance(event, yaml.CollectionEndEvent):
            level -= 1
    return deepest


@pytest.mark.parametrize(
    "text",
    [
        *SAMPLES,
        "a:\n  - b: [c, {d: e}]\n    f:\n    - - g\n",
        '["a": b, ? c : d, [e]: f]\n',
        "- [ ]\n- { }\n- -\n",
    ],
)
def test_each_collection_needs_a_character_of_its_own(text: str) -> None:
    """What lets libyaml compose: a text with few [ { - ? : cannot nest deeply."""
    assert event_depth(text) <= sum(text.count(c) for c in "[{-?:")


def test_only_documents_that_cannot_go_too_deep_skip_the_event_composer() -> None:
    assert _shallow("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    assert not _shallow("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")
    assert not _shallow("a: &x 1\nb: *x\n")  # aliases are followed by the event composer
    assert _shallow("cron>: 0 * * * *\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: *x\n", (Mark("f.yaml", 1, 4), "invalid YAML: found undefined alias *x")),
        (
            "a: &x 1\nb: &x 2\n",
            (
                Mark("f.yaml", 2, 4),
                "invalid YAML: found duplicate anchor &x (first at line 1, column 4)",
            ),
        ),
        (
            "a: 1\n---\nb: 2\n",
            (
                Mark("f.yaml", 2, 1),
                "invalid YAML: expected a single document in the stream but found another document",
            ),
        ),
        (
            "a: [1, 2\n",
            (
                Mark("f.yaml", 2, 1),
                "invalid YAML: while parsing a flow sequence did not find expected ',' or ']'",
            ),
        ),
    ],
)
def test_refusals_read_the_same_on_both_paths(
    text: str, expected: tuple[Mark, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _shallow(text)
    assert refusal(text) == expected
    monkeypatch.setattr(yamldepth, "_shallow", lambda text: False)
    assert refusal(text) == expected


def test_alias_depth_counts_aliases_inside_aliases() -> None:
    inner = "a: &a " + "[" * 100 + "]" * 100 + "\n"
    outer = "b: &b " + "[" * 99 + "*a" + "]" * 99 + "\n"  # b is 99 + 100 levels
    assert compose(inner + outer + "c: *b\n", "f.yaml") is not None  # 1 + 199: the limit
    assert refusal(inner + outer + "c: [*b]\n") == (
        Mark("f.yaml", 3, 5),
        "nesting is deeper than 200 levels (counting what the alias *b brings in); "
        "flatten the document",
    )


def test_an_alias_to_a_scalar_or_a_closed_sibling_is_fine() -> None:
    node = compose("a: &s x\nb: &m {c: *s}\nd: [*m, *s]\n", "f.yaml")
    [_, (_, m), (_, d)] = node.value
    assert d.value == [m, m.value[0][1]]
