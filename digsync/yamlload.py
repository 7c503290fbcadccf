"""Load YAML text into plain data plus the position of every key and value.

The parser only builds nodes; typing of plain scalars is ours, so each caller picks
the rules it needs (YAML 1.2 core for config.yaml, Digdag's rules for .dig files).
Duplicate keys are collected, never silently merged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from digsync.errors import Mark, YamlSyntaxError

PathKey = tuple[Hashable, ...]
Resolver = Callable[[str], object]

MAX_VALUES = 200_000
_STR = "tag:yaml.org,2002:str"
_STANDARD = "tag:yaml.org,2002:"


class Tagged(NamedTuple):
    """A scalar with an application tag such as ``!include``."""

    tag: str
    value: str


class Loaded:
    """Plain data with value and key positions keyed by their path from the root."""

    __slots__ = ("data", "duplicates", "key_marks", "marks")

    def __init__(self, data: Any) -> None:
        self.data = data
        self.marks: dict[PathKey, Mark] = {}
        self.key_marks: dict[PathKey, Mark] = {}
        self.duplicates: list[tuple[Mark, PathKey]] = []

    def mark(self, path: PathKey) -> Mark | None:
        """Position of the value at path, else of the nearest parent that has one."""
        while True:
            if path in self.marks:
                return self.marks[path]
            if not path:
                return None
            path = path[:-1]


_TYPED_START = frozenset("~nNtTfF0123456789+-.")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)\Z")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+\Z")
_INT8 = re.compile(r"^0o[0-7]+\Z")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"^([-+]?)(?:\.inf|\.Inf|\.INF)\Z")
_NAN = re.compile(r"^(?:\.nan|\.NaN|\.NAN)\Z")


def resolve_core(text: str) -> object:
    """Type a plain scalar by the YAML 1.2 core schema: ``10:00:00`` stays a string."""
    if text and text[0] not in _TYPED_START:
        return text
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT10.match(text):
        return int(text)
    if _INT8.match(text):
        return int(text[2:], 8)
    if _INT16.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    inf = _INF.match(text)
    if inf:
        return float(f"{inf.group(1)}inf")
    if _NAN.match(text):
        return float("nan")
    return text


_PLAIN = "?plain"  # the tag our loader gives untagged plain scalars; we type them


def _loader() -> Any:
    """A libyaml composer whose resolver only marks plain scalars, leaving typing to us."""
    import yaml
    from yaml.nodes import ScalarNode, SequenceNode

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    tags = {ScalarNode: _STR, SequenceNode: "tag:yaml.org,2002:seq"}

    class Loader(base):  # type: ignore[misc, valid-type]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is ScalarNode and implicit[0]:
                return _PLAIN
            return tags.get(kind, "tag:yaml.org,2002:map")

    return Loader


_LOADER: Any = None


def compose(text: str, path: str) -> Any:
    """Parse text into a node tree; a syntax error names file, line and column."""
    global _LOADER
    import yaml

    if _LOADER is None:
        _LOADER = _loader()
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise YamlSyntaxError(Mark(path, line, col), f"invalid YAML: {message}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Mark(path, 1, 1), f"invalid YAML: {exc}") from None


def load(text: str, path: str, resolve: Resolver = resolve_core) -> Loaded:
    """Compose and construct ``text``; an empty document loads as None."""
    node = compose(text, path)
    loaded = Loaded(data=None)
    if node is not None:
        loaded.data = _Builder(path, resolve, loaded).build(node, ())
    return loaded


def _mark(path: str, node: Any) -> Mark:
    return Mark(path, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, path: str, resolve: Resolver, out: Loaded) -> None:
        self.path = path
        self.resolve = resolve
        self.out = out
        self.count = 0

    def build(self, node: Any, at: PathKey) -> Any:
        self.out.marks[at] = _mark(self.path, node)
        self.count += 1
        if self.count > MAX_VALUES:  # aliases can expand exponentially ("billion laughs")
            raise YamlSyntaxError(
                _mark(self.path, node), f"the document expands to more than {MAX_VALUES} values"
            )
        kind = node.id
        if kind == "scalar":
            return self.scalar(node)
        if kind == "sequence":
            return [self.build(item, (*at, i)) for i, item in enumerate(node.value)]
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node)
            here = (*at, key)
            if key in result:
                self.out.duplicates.append((_mark(self.path, key_node), here))
            self.out.key_marks[here] = _mark(self.path, key_node)
            result[key] = self.build(value_node, here)
        return result

    def key(self, node: Any) -> Hashable:
        if node.id != "scalar":
            raise YamlSyntaxError(_mark(self.path, node), "a mapping key must be a plain value")
        value = self.scalar(node)
        if isinstance(value, list | dict):  # pragma: no cover - scalars only
            raise YamlSyntaxError(_mark(self.path, node), "a mapping key must be a plain value")
        return value

    def scalar(self, node: Any) -> object:
        tag: str = node.tag or _STR
        text: str = node.value
        if tag == _PLAIN:
            return self.resolve(text)
        if tag == _STR:
            return text
        if not tag.startswith(_STANDARD):
            return Tagged(tag, text)
        return _explicit(tag, text)


def _explicit(tag: str, text: str) -> object:
    """Honour an explicit standard tag such as ``!!str 10``."""
    name = tag[len(_STANDARD) :]
    if name == "str":
        return text
    if name == "int":
        return int(text.replace("_", ""), 0)
    if name == "float":
        return float(text)
    if name == "bool":
        return text.lower() in {"true", "yes", "on", "y"}
    if name == "null":
        return None
    return text
