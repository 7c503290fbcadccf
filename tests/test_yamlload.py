from __future__ import annotations

import pytest

from digsync.errors import Mark, YamlSyntaxError
from digsync.yamlload import Tagged, load


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
