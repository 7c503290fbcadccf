"""Saving keeps config.yaml's comments and the order of unchanged keys, byte for byte,
and whatever is written reads back as exactly the data that was saved."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digsync.config.files import etag_matches, etag_of, read, save
from digsync.editor.roundtrip import guess_indent, reads_back, same, to_yaml
from digsync.yamlio.load import load
from tests.server_fixtures import API, live_server, prepare_workdir

ROOT = Path(__file__).resolve().parents[1]
COMMENTED = """\
# yaml-language-server: $schema=./digsync.schema.json
# The semantic layer sync.

semantic_database:
  name: semantic_layer_v1            # TD database

scope:
  databases: ["gld_*", "golden_*"]   # globs
  exclude_patterns: ['gld_scratch*']

sync:
  sync_mode: delta                   # full | delta
  schedule:
    frequency: daily                 # how often
    time: "03:00:00"                 # HH:MM:SS
    timezone: UTC

notifications:
  on_error:
    enabled: true
    channels:
      # the webhook is a project secret
      - type: slack
        secret: slack.error_webhook

workflow:
  project: semantic_layer_sync       # project name
  name: semantic_layer_sync
"""


def data_of(text: str) -> Any:
    return load(text, "config.yaml").data


def test_a_changed_value_changes_only_its_own_text() -> None:
    data = data_of(COMMENTED)
    data["sync"]["schedule"]["frequency"] = "weekly"
    data["sync"]["schedule"]["time"] = "04:30:00"
    assert to_yaml(data, COMMENTED) == COMMENTED.replace(
        "frequency: daily                 #", "frequency: weekly                #"
    ).replace('"03:00:00"', '"04:30:00"')


def test_the_order_of_kept_keys_is_the_file_s_not_the_request_s() -> None:
    data = data_of(COMMENTED)
    reordered = {k: data[k] for k in reversed(list(data))}
    reordered["workflow"] = {"name": data["workflow"]["name"], "project": "renamed"}
    text = to_yaml(reordered, COMMENTED)
    assert text == COMMENTED.replace(
        "project: semantic_layer_sync       #", "project: renamed                   #"
    )


def test_removed_keys_go_and_new_keys_are_added_at_the_end_of_their_mapping() -> None:
    data = data_of(COMMENTED)
    del data["scope"]["exclude_patterns"]
    data["sync"]["schedule"]["skip_on_overtime"] = True
    data["scope"]["databases"].append("silver_*")
    data["owner"] = {"team": "data", "ticket": "0123"}
    text = to_yaml(data, COMMENTED)
    expected = (
        COMMENTED.replace("  exclude_patterns: ['gld_scratch*']\n", "")
        .replace('["gld_*", "golden_*"]   #', '["gld_*", "golden_*", "silver_*"] #')
        .replace("    timezone: UTC\n", "    timezone: UTC\n    skip_on_overtime: true\n")
    )
    assert text == expected + 'owner:\n  team: data\n  ticket: "0123"\n'
    assert same(data_of(text), data)


def test_strings_that_would_read_as_other_types_are_quoted() -> None:
    data = data_of(COMMENTED)
    data["extra"] = {"a": "true", "b": "0o17", "c": "1e3", "d": "null", "e": "", "123": "x"}
    text = to_yaml(data, COMMENTED)
    assert same(data_of(text), data)
    assert 'a: "true"' in text and '"123": x' in text


def test_a_save_through_the_api_keeps_the_example_config_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = (ROOT / "examples" / "config.yaml").read_text(encoding="utf-8")
    config = prepare_workdir(tmp_path, monkeypatch, example)
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config").json()
        data["sync"]["schedule"]["time"] = "04:00:00"
        assert http.post(f"{API}/config", json=data).status_code == 200
    assert config.read_text(encoding="utf-8") == example.replace('"03:00:00"', '"04:00:00"')


def test_aliases_and_a_broken_old_file_still_give_the_saved_data() -> None:
    aliased = "a: &shared {k: 1}\nb: *shared\n"
    data = {"a": {"k": 2}, "b": {"k": 1}}
    assert same(data_of(to_yaml(data, aliased)), data)
    assert same(data_of(to_yaml(data, "a: [\n")), data)
    assert same(data_of(to_yaml(data, None)), data)


def test_same_tells_booleans_ints_and_floats_apart() -> None:
    assert same({"a": [1, 2.5, True, None]}, {"a": [1, 2.5, True, None]})
    assert not same(1, True) and not same(1, 1.0) and not same(0, False)
    assert not same({"a": 1}, {"a": 1, "b": 2}) and not same([1], [1, 1])
    assert same({"a": 1, "b": 2}, {"b": 2, "a": 1})  # key order is the file's business


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n  b: 1\n  c:\n    - x\n", (2, 4, 2)),
        ("a:\n    b: 1\n    c:\n    - x\n", (4, 2, 0)),
        ("a:\n  c:\n  - x\n", (2, 2, 0)),
        ("a: 1\n", (2, 4, 2)),
    ],
)
def test_the_indentation_of_the_file_is_kept(text: str, expected: tuple[int, int, int]) -> None:
    assert guess_indent(text) == expected


def test_save_is_atomic_and_etags_compare_like_if_match(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    save(path, b"a: 1\n")
    assert read(path).data == b"a: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]  # no temp file left
    tag = etag_of(b"a: 1\n")
    assert tag.startswith('"') and len(tag) == 18
    assert etag_matches(tag, tag) and etag_matches(f"W/{tag}", tag)
    assert etag_matches(f'"other", {tag}', tag) and etag_matches("*", tag)
    assert not etag_matches('"other"', tag) and not etag_matches("", tag)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.slow
@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.dictionaries(st.text(), JSON_VALUES, max_size=5), edit=JSON_VALUES)
def test_any_json_config_is_written_as_yaml_that_reads_back_the_same(data: Any, edit: Any) -> None:
    for value in (data, edit):
        json.dumps(value)  # it is JSON
    first = to_yaml(data, COMMENTED)
    assert reads_back(first, data)
    changed = copy.deepcopy(data)
    changed["edited"] = edit
    second = to_yaml(changed, first)
    assert reads_back(second, changed)


def test_a_new_time_in_a_safe_dump_style_file_reads_the_same_in_yaml_1_1() -> None:
    """PyYAML (YAML 1.1) reads plain 39:00 as the sexagesimal number 2340."""
    old = "sync:\n  schedule:\n    frequency: daily\n    time: 03:00:00\n"
    data = {"sync": {"schedule": {"frequency": "hourly", "time": "39:00"}}}
    text = to_yaml(data, old)
    assert 'time: "39:00"' in text
    assert yaml.safe_load(text) == data


def test_a_string_of_5000_digits_is_written_quoted() -> None:
    data = {"extra": {"digits": "9" * 5000}}
    text = to_yaml(data, COMMENTED)
    assert f'digits: "{"9" * 5000}"' in text
    assert same(data_of(text)["extra"], data["extra"])


YAML11_AMBIGUOUS = [
    *("39:00", "1:30:00", "-1:20", "190:20:30.15"),  # sexagesimal int and float
    *("yes", "No", "ON", "off", "y", "N", "True", "FALSE"),  # YAML 1.1 booleans
    *("012", "0o17", "0x1F", "0b101", "1_000", "+1", ".5", "1e3"),  # numbers in 1.1 or 1.2
    *("~", "null", "", "2026-01-01", "2026-01-01 03:00:00", "<<", "="),
]


@pytest.mark.parametrize("value", YAML11_AMBIGUOUS)
def test_values_a_yaml_1_1_reader_would_retype_are_quoted(value: str) -> None:
    old = "sync:\n  schedule:\n    time: 03:00:00   # as PyYAML's safe_dump wrote it\n"
    data = {"sync": {"schedule": {"time": value, value: "key"}}}
    text = to_yaml(data, old)
    assert same(data_of(text), data)
    assert yaml.safe_load(text) == data, text
    fresh = to_yaml(data, None)
    assert yaml.safe_load(fresh) == data, fresh


@pytest.mark.slow
@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(data=st.dictionaries(st.text(), st.text() | st.integers() | st.booleans(), max_size=6))
def test_any_string_config_reads_the_same_in_yaml_1_1(data: dict[str, Any]) -> None:
    text = to_yaml({"extra": data}, COMMENTED)
    assert yaml.safe_load(text)["extra"] == data


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029", "\x00", "\t", "\ufeff", "\xa0"])
def test_line_separators_and_unprintables_are_escaped(char: str) -> None:
    old = "a: 'x'\nk: plain\n"
    data = {"a": f"x{char}y", f"k{char}": "v", "k": f"{char}"}
    text = to_yaml(data, old)
    assert same(data_of(text), data)
    if char in "\x85\u2028\u2029\x00":  # line breaks to a YAML reader, or unprintable
        assert char not in text
