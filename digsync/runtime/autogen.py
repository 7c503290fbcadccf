"""Descriptions, tags and PII flags generated from config.yaml's ``auto_generation``.

Each pattern is one or more Python regular expressions searched in the column name
(``pattern: ...``, or the original system's ``match: [{pattern: ...}, ...]``), with a tag,
a description template (``description`` or ``description_template``) and a PII category.
Every matching pattern adds its tag; the first matching pattern with a description (and,
separately, with a PII category) wins. Templates fill ``{column}``, ``{table}``,
``{database}``, ``{type}``, ``{entity}`` (the column name without its last ``_word``, or
the table name for a one-word column) and ``{action}`` (the column name's first word);
``{{``/``}}`` are literal braces. Substitution is our own, not ``str.format``, so a
template can never reach attributes of the values it formats.

The section's other keys, as the original system has them: ``enabled`` (false: no
generation), ``generate.field_descriptions`` / ``tags`` / ``pii_detection`` (false: that
part is not generated), ``content_rules.prefix_auto_generated`` (put before every
generated description), ``content_rules.skip_fields_matching`` (column-name globs left
alone) and ``content_rules.overwrite_auto_generated`` (false: generated metadata, once
written, is not regenerated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import NamedTuple

from .errors import SettingsError
from .model import CatalogColumn

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(column|table|database|type|entity|action)\}")
MAX_TEXT = 2000


@dataclass(frozen=True)
class Rule:
    """One compiled pattern."""

    regexes: tuple[re.Pattern[str], ...]
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


@dataclass(frozen=True)
class AutoGeneration:
    """The checked ``auto_generation`` section."""

    rules: tuple[Rule, ...] = ()
    skip_columns: tuple[str, ...] = ()
    prefix: str = ""
    regenerate: bool = True
    """False (``overwrite_auto_generated: false``): keep generated metadata once written."""


NO_GENERATION = AutoGeneration()


def compile_auto_generation(section: Mapping[str, object]) -> AutoGeneration:
    """Check the whole ``auto_generation`` mapping (task parameter) and compile it."""
    if section.get("enabled", True) is False:
        return NO_GENERATION
    content = _section(section, "content_rules")
    parts = _section(section, "generate")
    rules = compile_rules(section.get("patterns"))
    rules = tuple(
        Rule(
            rule.regexes,
            rule.tag if parts.get("tags", True) is not False else None,
            rule.description if parts.get("field_descriptions", True) is not False else None,
            rule.pii_category if parts.get("pii_detection", True) is not False else None,
        )
        for rule in rules
    )
    skip = content.get("skip_fields_matching") or []
    if not isinstance(skip, list) or not all(isinstance(g, str) and g for g in skip):
        raise SettingsError("auto_generation.content_rules.skip_fields_matching must list globs")
    prefix = _text(content.get("prefix_auto_generated"), "content_rules.prefix_auto_generated")
    regenerate = content.get("overwrite_auto_generated", True)
    if not isinstance(regenerate, bool):
        raise SettingsError("content_rules.overwrite_auto_generated must be true or false")
    return AutoGeneration(rules, tuple(skip), prefix or "", regenerate)


def _section(section: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = section.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SettingsError(f"auto_generation.{name} must be a mapping")
    return value


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
        sources = _sources(item, at)
        regexes = []
        for where, source in sources:
            try:
                regexes.append(re.compile(source))
            except re.error as exc:
                raise SettingsError(f"{where} {source!r} is not a valid regex: {exc}") from None
        description = item.get("description")
        if description is None:
            description = item.get("description_template")
        rules.append(
            Rule(
                tuple(regexes),
                _text(item.get("tag"), f"{at}.tag"),
                _text(description, f"{at}.description"),
                _text(item.get("pii_category"), f"{at}.pii_category"),
            )
        )
    return tuple(rules)


def _sources(item: Mapping[str, object], at: str) -> list[tuple[str, str]]:
    """The regexes of one pattern: ``pattern: X`` and/or ``match: [{pattern: X}, ...]``."""
    found: list[tuple[str, str]] = []
    if item.get("pattern") is not None:
        found.append((f"{at}.pattern", item["pattern"]))  # type: ignore[arg-type]
    match = item.get("match")
    if match is not None:
        if not isinstance(match, list):
            raise SettingsError(f"{at}.match must be a list of {{pattern: ...}}")
        for i, entry in enumerate(match):
            source = entry.get("pattern") if isinstance(entry, Mapping) else entry
            found.append((f"{at}.match[{i}].pattern", source))  # type: ignore[arg-type]
    if not found:
        raise SettingsError(f"{at}.pattern must be a non-empty regular expression")
    for where, source in found:
        if not isinstance(source, str) or not source:
            raise SettingsError(f"{where} must be a non-empty regular expression")
    return found


def _text(value: object, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
        raise SettingsError(f"{what} must be text (at most {MAX_TEXT} characters)")
    return value


def generate(auto: AutoGeneration, column: CatalogColumn) -> Generated:
    """Apply the patterns to one column."""
    if any(fnmatchcase(column.column, glob) for glob in auto.skip_columns):
        return NOTHING
    matched = [r for r in auto.rules if any(x.search(column.column) for x in r.regexes)]
    if not matched:
        return NOTHING
    tags: list[str] = []
    for rule in matched:
        if rule.tag and rule.tag not in tags:
            tags.append(rule.tag)
    template = next((rule.description for rule in matched if rule.description), None)
    category = next((rule.pii_category for rule in matched if rule.pii_category), None)
    description = render(template, column) if template else None
    if description and auto.prefix:
        description = f"{auto.prefix} {description}"
    is_pii = category is not None or any(tag.lower() == "pii" for tag in tags)
    return Generated(description, tuple(tags), is_pii, category)


def render(template: str, column: CatalogColumn) -> str:
    """Fill a description template; unknown ``{names}`` stay as written."""
    values = {
        "column": column.column,
        "table": column.table,
        "database": column.database,
        "type": column.type,
        "entity": _entity(column),
        "action": column.column.split("_")[0],
    }

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values[match.group(1)]

    return _PLACEHOLDER.sub(fill, template)


def _entity(column: CatalogColumn) -> str:
    """customer_id -> customer; membership_points_balance -> membership points; id -> table."""
    words = [w for w in column.column.split("_") if w]
    if len(words) < 2:
        return column.table.replace("_", " ")
    return " ".join(words[:-1])
