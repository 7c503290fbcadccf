"""Descriptions, tags and PII flags generated from config.yaml's ``auto_generation.patterns``.

Each pattern is a Python regular expression searched in the column name, with a tag, a
description template and a PII category. Every matching pattern adds its tag; the first
matching pattern with a description (and, separately, with a PII category) wins.
Templates fill ``{column}``, ``{table}``, ``{database}`` and ``{type}``; ``{{``/``}}`` are
literal braces. Substitution is our own, not ``str.format``, so a template can never reach
attributes of the values it formats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from .errors import SettingsError
from .model import CatalogColumn

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(column|table|database|type)\}")
MAX_TEXT = 2000


@dataclass(frozen=True)
class Rule:
    """One compiled pattern."""

    regex: re.Pattern[str]
    tag: str | None
    description: str | None
    pii_category: str | None


class Generated(NamedTuple):
    """What the rules say about one column (all empty when no rule matches)."""

    description: str | None
    tags: tuple[str, ...]
    is_pii: bool
    pii_category: str | None


NOTHING = Generated(None, (), False, None)


def compile_rules(patterns: object) -> tuple[Rule, ...]:
    """Check and compile ``auto_generation.patterns``; errors name the pattern by index."""
    if patterns is None:
        return ()
    if not isinstance(patterns, list):
        raise SettingsError("auto_generation.patterns must be a list")
    rules = []
    for index, item in enumerate(patterns):
        at = f"auto_generation.patterns[{index}]"
        if not isinstance(item, Mapping):
            raise SettingsError(f"{at} must be a mapping with pattern, tag, description")
        source = item.get("pattern")
        if not isinstance(source, str) or not source:
            raise SettingsError(f"{at}.pattern must be a non-empty regular expression")
        try:
            regex = re.compile(source)
        except re.error as exc:
            raise SettingsError(f"{at}.pattern {source!r} is not a valid regex: {exc}") from None
        rules.append(
            Rule(
                regex,
                _text(item.get("tag"), f"{at}.tag"),
                _text(item.get("description"), f"{at}.description"),
                _text(item.get("pii_category"), f"{at}.pii_category"),
            )
        )
    return tuple(rules)


def _text(value: object, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
        raise SettingsError(f"{what} must be text (at most {MAX_TEXT} characters)")
    return value


def generate(rules: tuple[Rule, ...], column: CatalogColumn) -> Generated:
    """Apply the rules to one column."""
    matched = [rule for rule in rules if rule.regex.search(column.column)]
    if not matched:
        return NOTHING
    tags: list[str] = []
    for rule in matched:
        if rule.tag and rule.tag not in tags:
            tags.append(rule.tag)
    template = next((rule.description for rule in matched if rule.description), None)
    category = next((rule.pii_category for rule in matched if rule.pii_category), None)
    description = render(template, column) if template else None
    return Generated(description, tuple(tags), category is not None or "pii" in tags, category)


def render(template: str, column: CatalogColumn) -> str:
    """Fill a description template; unknown ``{names}`` stay as written."""
    values = {
        "column": column.column,
        "table": column.table,
        "database": column.database,
        "type": column.type,
    }

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values[match.group(1)]

    return _PLACEHOLDER.sub(fill, template)
