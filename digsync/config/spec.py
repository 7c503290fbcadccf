"""A small declarative schema: one description of config.yaml gives both the checks
(with every error, its position and a did-you-mean hint) and the JSON Schema."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from digsync.errors import Problem, did_you_mean
from digsync.yamlio.load import Loaded, PathKey

Check = Callable[[Any], str | None]
SECRET_WORDS = frozenset(("apikey", "api_key", "td_api_key", "token", "password", "authorization"))
_NO_PROPERTIES: Mapping[str, Any] = MappingProxyType({})


class Spec(NamedTuple):
    """One node of the schema.

    ``kind`` is string, boolean, integer, array, object or map (free keys, typed values).
    ``one_of_kinds`` lets a field take several scalar kinds (day_of_week: name or 0-7).
    """

    kind: str
    description: str = ""
    default: Any = None
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None
    pattern_hint: str = ""
    items: Spec | None = None
    properties: Mapping[str, Spec] = _NO_PROPERTIES
    values: Spec | None = None
    required: tuple[str, ...] = ()
    one_of_kinds: tuple[str, ...] = ()
    secret: bool = False
    example: Any = None
    min_items: int | None = None


_KIND_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "integer": "an integer",
    "array": "a list",
    "object": "a mapping",
    "map": "a mapping",
}


def describe_value(value: object) -> str:
    """How a found value reads in a message, without dumping large values."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def format_path(path: PathKey) -> str:
    """('sync', 'schedule', 'time') -> 'sync.schedule.time'; list indexes as [i]."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class Validator:
    """Walks data against a Spec and collects problems with their marks."""

    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.problems: list[Problem] = []
        self.reported: set[PathKey] = set()

    def add(
        self,
        path: PathKey,
        message: str,
        hint: str | None = None,
        severity: str = "error",
        key_mark: bool = False,
    ) -> None:
        if path in self.reported:  # one problem per key: the first check is the precise one
            return
        if severity == "error":
            self.reported.add(path)
        mark = self.loaded.key_marks.get(path) if key_mark else None
        mark = mark or self.loaded.mark(path)
        self.problems.append(Problem(mark, format_path(path), message, hint, severity))

    def check(self, spec: Spec, value: Any, path: PathKey) -> bool:
        """Validate value in place; False when its type is wrong (children unchecked)."""
        kinds = spec.one_of_kinds or (spec.kind,)
        if not any(_is_kind(value, k) for k in kinds):
            expected = " or ".join(_KIND_NAMES[k] for k in kinds)
            found = "a secret value" if spec.secret and isinstance(value, str) else None
            self.add(path, f"expected {expected}; got {found or describe_value(value)}")
            return False
        if isinstance(value, str):
            self._check_string(spec, value, path)
        elif isinstance(value, int) and not isinstance(value, bool):
            self._check_integer(spec, value, path)
        elif isinstance(value, list) and spec.items is not None:
            if spec.min_items and len(value) < spec.min_items:
                self.add(path, f"expected at least {spec.min_items} item(s); got an empty list")
            for i, item in enumerate(value):
                self.check(spec.items, item, (*path, i))
        elif isinstance(value, dict):
            self._check_mapping(spec, value, path)
        return True

    def _check_string(self, spec: Spec, value: str, path: PathKey) -> None:
        if not value.strip():
            self.add(path, f"expected a non-empty value; got {describe_value(value)}")
        elif spec.enum is not None and value not in spec.enum:
            choices = ", ".join(spec.enum)
            self.add(
                path,
                f"expected one of {choices}; got {describe_value(value)}",
                did_you_mean(value, spec.enum),
            )
        elif spec.pattern is not None and not re.fullmatch(spec.pattern, value):
            shown = "a value" if spec.secret else describe_value(value)
            self.add(path, f"expected {spec.pattern_hint or spec.pattern}; got {shown}")

    def _check_integer(self, spec: Spec, value: int, path: PathKey) -> None:
        low, high = spec.minimum, spec.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            self.add(path, f"expected an integer from {low} to {high}; got {value}")

    def _check_mapping(self, spec: Spec, value: dict[Hashable, Any], path: PathKey) -> None:
        if spec.kind == "map":
            for key, item in value.items():
                if not isinstance(key, str):
                    self.add((*path, key), f"expected a string key; got {describe_value(key)}")
                elif spec.values is not None:
                    self.check(spec.values, item, (*path, key))
            return
        for name in spec.required:
            if value.get(name) is None:
                self.add((*path, name), "missing required key")
        for key, item in value.items():
            sub = spec.properties.get(key) if isinstance(key, str) else None
            if sub is None and str(key).lower() in SECRET_WORDS:
                self.add(
                    (*path, key),
                    "secrets do not belong in config.yaml",
                    "set TD_API_KEY (or DIGDAG_AUTHORIZATION) in the environment",
                    key_mark=True,
                )
            elif sub is None:
                known = list(spec.properties)
                self.add(
                    (*path, key),
                    f"unknown key '{key}'; expected one of {', '.join(known)}",
                    did_you_mean(str(key), known),
                    key_mark=True,
                )
            elif item is not None:  # null means "use the default"
                self.check(sub, item, (*path, key))


def _is_kind(value: object, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, dict)


def to_json_schema(spec: Spec) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) fragment for a Spec."""
    kinds = spec.one_of_kinds or (spec.kind,)
    types = ["object" if k == "map" else k for k in kinds]
    out: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
    if spec.description:
        out["description"] = spec.description
    if spec.default is not None:
        out["default"] = spec.default
    if spec.enum is not None:
        out["enum"] = list(spec.enum)
    if spec.pattern is not None:
        out["pattern"] = f"^(?:{spec.pattern})$"
    if spec.minimum is not None:
        out["minimum"] = spec.minimum
    if spec.maximum is not None:
        out["maximum"] = spec.maximum
    if spec.min_items is not None:
        out["minItems"] = spec.min_items
    if spec.items is not None:
        out["items"] = to_json_schema(spec.items)
    if spec.kind == "object":
        out["properties"] = {k: to_json_schema(v) for k, v in spec.properties.items()}
        out["additionalProperties"] = False
        if spec.required:
            out["required"] = list(spec.required)
    if spec.kind == "map" and spec.values is not None:
        out["additionalProperties"] = to_json_schema(spec.values)
    if spec.example is not None:
        out["examples"] = [spec.example]
    return out
