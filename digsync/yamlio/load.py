"""Load YAML text into plain data plus the position of every key and value.

The parser only builds nodes (yamldepth, which bounds their depth); typing of scalars
is ours, so each caller picks the rules it needs (YAML 1.2 core for config.yaml, Digdag's
rules for .dig files). A value that cannot be typed as written (``!!int abc``, an
unknown ``!!`` tag, a 5,000-digit integer) is a YamlSyntaxError at its place, never a
guess. Duplicate keys are collected, never silently merged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from digsync.errors import Mark, YamlSyntaxError
from digsync.yamlio.depth import MAP, PLAIN, SEQ, STR
from digsync.yamlio.depth import compose as compose  # schedonly and digfile compose through here

PathKey = tuple[Hashable, ...]
Resolver = Callable[[str], object]
"""Types an untagged plain scalar."""
Constructor = Callable[[str, str], object]
"""Types a scalar tagged ``!!name`` (a name in SCALAR_TAGS): (name, text) -> value."""

MAX_VALUES = 200_000
MAX_INT_DIGITS = 4300
"""Python's own limit for int <-> text (sys.int_max_str_digits): past it str() fails."""
SCALAR_TAGS = frozenset({"str", "int", "float", "bool", "null"})
_STANDARD = "tag:yaml.org,2002:"
_INT_LIMIT = 10**MAX_INT_DIGITS


class ScalarError(ValueError):
    """A scalar that cannot be typed as its tag or form says; the message is for the user."""


def checked_int(text: str, digits: str, base: int) -> int:
    """``int(digits, base)``, refused (ScalarError) past MAX_INT_DIGITS decimal digits."""
    if base == 10 and len(digits) > MAX_INT_DIGITS and len(digits.lstrip("+-")) > MAX_INT_DIGITS:
        raise _too_long(text)
    return int_in_range(text, int(digits, base))


def int_in_range(text: str, value: int) -> int:
    """``value`` (read from ``text``) if str() can write it back, else a ScalarError."""
    if -_INT_LIMIT < value < _INT_LIMIT:
        return value
    raise _too_long(text)


def checked_float(text: str, value: float) -> float:
    """A finite literal that overflowed to infinity is refused (ScalarError)."""
    if math.isinf(value) and "inf" not in text.lower():
        sign = "-" if value < 0 else ""
        raise ScalarError(
            f"the number {cut(text)} is too large for a float; write {sign}.inf for infinity"
        )
    return value


def cut(text: str, limit: int = 24) -> str:
    """Text shortened for a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:int`` as it is written, ``!!int``."""
    return "!!" + tag[len(_STANDARD) :] if tag.startswith(_STANDARD) else tag


def _too_long(text: str) -> ScalarError:
    return ScalarError(
        f"the integer {cut(text)} has more than {MAX_INT_DIGITS} digits; "
        "quote it to keep it as text"
    )


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
        return checked_int(text, text, 10)
    if _INT8.match(text):
        return checked_int(text, text[2:], 8)
    if _INT16.match(text):
        return checked_int(text, text[2:], 16)
    if _FLOAT.match(text):
        return checked_float(text, float(text))
    inf = _INF.match(text)
    if inf:
        return float(f"{inf.group(1)}inf")
    if _NAN.match(text):
        return float("nan")
    return text


def construct_core(name: str, text: str) -> object:
    """A scalar with an explicit standard tag (``!!int 10``), by the YAML 1.2 core schema."""
    if name == "str":
        return text
    if name == "null":
        if _NULL.match(text):
            return None
        raise ScalarError(f"!!null {cut(text)!r} is not null: write ~ or null, or drop the tag")
    if name == "bool":
        if text in _BOOL:
            return _BOOL[text]
        raise ScalarError(f"!!bool {cut(text)!r} is not a boolean: write true or false")
    if name == "int":
        if _INT10.match(text) or _INT8.match(text) or _INT16.match(text):
            return resolve_core(text)
        raise ScalarError(f"!!int {cut(text)!r} is not an integer: write 42, -7, 0o17 or 0x1F")
    if _INT10.match(text) or _FLOAT.match(text):
        return checked_float(text, float(text))
    if _INF.match(text) or _NAN.match(text):
        return resolve_core(text)
    raise ScalarError(f"!!float {cut(text)!r} is not a number: write 1.5, -2e3, .inf or .nan")


def load(
    text: str, path: str, resolve: Resolver = resolve_core, construct: Constructor = construct_core
) -> Loaded:
    """Compose and construct ``text``; an empty document loads as None."""
    node = compose(text, path)
    loaded = Loaded(data=None)
    if node is not None:
        loaded.data = _Builder(path, resolve, construct, loaded).build(node, ())
    return loaded


def _mark(path: str, node: Any) -> Mark:
    return Mark(path, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Plain data from a node tree; recursive, which is safe as yamldepth bounds the depth."""

    def __init__(self, path: str, resolve: Resolver, construct: Constructor, out: Loaded) -> None:
        self.path = path
        self.resolve = resolve
        self.construct = construct
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
            if node.tag != SEQ:
                raise self.collection_tag(node, "sequence", "!!seq")
            return [self.build(item, (*at, i)) for i, item in enumerate(node.value)]
        if node.tag != MAP:
            raise self.collection_tag(node, "mapping", "!!map")
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
        tag: str = node.tag
        text: str = node.value
        try:
            if tag == PLAIN:
                return self.resolve(text)
            if tag == STR:
                return text
            if not tag.startswith(_STANDARD):
                return Tagged(tag, text)
            name = tag[len(_STANDARD) :]
            if name not in SCALAR_TAGS:
                raise ScalarError(
                    f"unsupported tag {short_tag(tag)}: only !!str, !!int, !!float, !!bool and "
                    "!!null can tag a value; remove the tag to keep the text"
                )
            return self.construct(name, text)
        except ScalarError as exc:
            raise YamlSyntaxError(_mark(self.path, node), str(exc)) from None
        except (ValueError, OverflowError) as exc:  # a typing rule we did not foresee
            raise YamlSyntaxError(
                _mark(self.path, node), f"cannot read the value {cut(text)!r}: {exc}"
            ) from None

    def collection_tag(self, node: Any, kind: str, allowed: str) -> YamlSyntaxError:
        return YamlSyntaxError(
            _mark(self.path, node),
            f"the tag {short_tag(node.tag)} cannot be used on a {kind} (only {allowed}); remove it",
        )
