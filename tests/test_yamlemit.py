from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from digsync.yamlio.emit import dump, quote, scalar
from digsync.yamlio.load import load

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=400, deadline=None)
@given(text)
def test_any_string_round_trips_through_yaml_1_1_and_1_2_readers(value: str) -> None:
    doc = dump({"key": value, value or "k": {"nested": [value]}})
    assert load(doc, "x").data == {"key": value, value or "k": {"nested": [value]}}
    assert yaml.safe_load(doc) == {"key": value, value or "k": {"nested": [value]}}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | text,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3)
        ),
        max_leaves=12,
    )
)
@settings(max_examples=200, deadline=None)
def test_nested_data_round_trips(value: object) -> None:
    doc = dump({"root": value})
    assert yaml.safe_load(doc) == {"root": value}


def test_times_and_lookalikes_are_quoted() -> None:
    assert scalar("03:00:00") == '"03:00:00"'
    assert scalar("10:00") == '"10:00"'
    assert scalar("yes") == '"yes"'
    assert scalar("1e3") == '"1e3"'
    assert scalar("0x1F") == '"0x1F"'
    assert scalar("plain_name") == "plain_name"
    assert scalar("queries/delta_report.sql") == "queries/delta_report.sql"


def test_injection_attempt_stays_one_scalar() -> None:
    evil = "x\n+pwned:\n  sh>: rm -rf /"
    doc = dump({"name": evil})
    assert doc == 'name: "x\\n+pwned:\\n  sh>: rm -rf /"\n'
    assert yaml.safe_load(doc) == {"name": evil}


def test_line_separators_and_controls_are_escaped() -> None:
    assert quote("a\u2028b\x85c\x00\ufeff") == '"a\\Lb\\Nc\\0\\ufeff"'


def test_keys_that_look_like_numbers_are_quoted() -> None:
    assert dump({"+0": 1, "+a": 2, "-1": 3}) == '"+0": 1\n+a: 2\n"-1": 3\n'


def test_a_trailing_newline_is_never_written_plain() -> None:
    for value in ("abc\n", "\n", "a_b\n", "+t>\n"):
        assert yaml.safe_load(dump({value: value})) == {value: value}
        assert load(dump({value: value}), "x").data == {value: value}
