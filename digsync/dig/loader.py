"""Load a .dig file the way Digdag does, keeping the position of every key and value.

Digdag reads a workflow with SnakeYAML and its own implicit typing (``YamlTagResolver``):
only ``true``/``True``/``false``/``False`` are booleans, ``10:00:00`` stays a string (no
base-60 integers), timestamps stay strings and a float may not start with ``0``. Duplicate
keys are an error (``StrictSafeConstructor``: "Duplicated keys: [a]"), except ``!include``
keys, which ``YamlConfigLoader`` replaces by the mapping of the named file, merged into
the including mapping. Here every finding of that kind is collected as a ``LoadProblem``
so that a linter can report all of them; ``load_dig(strict=True)`` raises the first one.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digsync.errors import Mark, YamlSyntaxError
from digsync.yamlio.depth import MAX_DEPTH as MAX_DEPTH  # refused while composing
from digsync.yamlio.load import (
    Loaded,
    PathKey,
    ScalarError,
    Tagged,
    checked_float,
    checked_int,
    compose,
    cut,
    int_in_range,
    load,
)

INCLUDE_TAG = "!include"
MAX_NODES = 200_000
"""Anchors and aliases may not expand a document past this many nodes (alias bombs)."""

_NULL = re.compile(r"^(?:~|null|Null|NULL| |)\Z")
_BOOL = {"true": True, "True": True, "false": False, "False": False}
_INT = re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)\Z"
)
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[1-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)
_UNIQUE_TAG = re.compile(r"^!i[0-9a-z]{6}\Z")
# What SnakeYAML's ConstructYamlInt / ConstructYamlFloat parse once "_" is dropped.
_TAGGED_INT = re.compile(r"^[-+]?(?:0|0b[01]+|0x[0-9a-fA-F]+|0[0-7]+|[1-9][0-9]*(?::[0-9]+)*)\Z")
_DECIMAL = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_TAGGED_FLOAT = re.compile(rf"^[-+]?(?:{_DECIMAL}(?::{_DECIMAL})*|\.inf|\.nan)\Z", re.IGNORECASE)
_SNAKE_BOOL = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def resolve_digdag(text: str) -> object:
    """Type a plain scalar as Digdag's ``YamlTagResolver`` on SnakeYAML does.

    ``0.5`` is a string (floats may not start with 0), ``010`` is octal 8, ``1e3`` is
    a float, ``10:00:00`` and ``2024-01-01`` are strings, ``yes``/``on`` are strings.
    """
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        return _construct_int(text)
    if _FLOAT.match(text):
        return _construct_float(text)
    return text


def construct_digdag(name: str, text: str) -> object:
    """A scalar with an explicit standard tag (``!!int 010``) as SnakeYAML reads it.

    Where SnakeYAML would quietly make a null (``!!bool treu``, ``!!null x``) or fail
    with a Java exception, this is a ScalarError that names the value.
    """
    if name == "str":
        return text
    if name == "null":
        if _NULL.match(text):
            return None
        raise ScalarError(f"!!null {cut(text)!r} is not null: write ~ or null, or drop the tag")
    if name == "bool":
        value = _SNAKE_BOOL.get(text.lower())
        if value is None:
            raise ScalarError(
                f"!!bool {cut(text)!r} is not a boolean: write true, false, yes, no, on or off"
            )
        return value
    plain = text.replace("_", "")
    if name == "int":
        if not _TAGGED_INT.match(plain):
            raise ScalarError(
                f"!!int {cut(text)!r} is not an integer: write 42, -7, 010, 0x1F, 0b101 or 1:30"
            )
        return _construct_int(text)
    if not _TAGGED_FLOAT.match(plain):
        raise ScalarError(f"!!float {cut(text)!r} is not a number: write 1.5, -2e3, .inf or .nan")
    return _construct_float(text)


def _construct_int(text: str) -> object:
    """SnakeYAML's ConstructYamlInt: underscores dropped, 0b/0x/0 prefixes, a sign, base 60."""
    value = text.replace("_", "")
    sign = -1 if value.startswith("-") else 1
    value = value.lstrip("+-")
    try:
        if value == "0":
            return 0
        if value.startswith("0b"):
            return sign * checked_int(text, value[2:], 2)
        if value.startswith("0x"):
            return sign * checked_int(text, value[2:], 16)
        if value.startswith("0"):
            return sign * checked_int(text, value[1:], 8)
        if ":" in value:
            total = 0
            for part in value.split(":"):
                total = total * 60 + checked_int(text, part, 10)
            return sign * int_in_range(text, total)
        return sign * checked_int(text, value, 10)
    except ScalarError:
        raise
    except ValueError:  # "0b_": Digdag's resolver says int, the digits say no
        return text


def _construct_float(text: str) -> object:
    """SnakeYAML's ConstructYamlFloat, with its base-60 form (``1:30.5``)."""
    value = text.replace("_", "")
    lowered = value.lower()
    if lowered.endswith(".inf"):
        return -math.inf if value.startswith("-") else math.inf
    if lowered.endswith(".nan"):
        return math.nan
    if ":" not in value:
        return checked_float(text, float(value))
    sign = -1.0 if value.startswith("-") else 1.0
    total = 0.0
    for part in value.lstrip("+-").split(":"):
        total = total * 60 + float(part or 0)
    return checked_float(text, sign * total)


@dataclass(frozen=True)
class LoadProblem:
    """Something Digdag refuses while loading: where, a rule code and the message."""

    mark: Mark
    code: str
    message: str
    severity: str = "error"


@dataclass
class LoadedDig:
    """A loaded workflow: JSON-like data (string keys) and positions by path.

    Paths index the merged data; a mark names the file it came from, so content merged
    by ``!include`` points into the included file.
    """

    path: str
    data: Any = None
    marks: dict[PathKey, Mark] = field(default_factory=dict)
    key_marks: dict[PathKey, Mark] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)
    included: list[str] = field(default_factory=list)

    def mark(self, at: PathKey) -> Mark:
        """Position of the value at ``at``, else of its nearest parent, else 1:1."""
        while True:
            if at in self.marks:
                return self.marks[at]
            if not at:
                return Mark(self.path, 1, 1)
            at = at[:-1]

    def key_mark(self, at: PathKey) -> Mark:
        """Position of the key that ends ``at`` (a list item: the item itself)."""
        return self.key_marks.get(at) or self.mark(at)


def load_dig(
    text: str, path: str, base_dir: Path | None = None, *, strict: bool = True
) -> LoadedDig:
    """Load .dig text as Digdag does; ``!include`` targets resolve against ``base_dir``.

    ``base_dir`` is the directory of the file being loaded (None: includes are reported
    and skipped). With ``strict`` the first problem is raised as ``YamlSyntaxError``;
    otherwise problems are collected in ``LoadedDig.problems``.
    """
    start = (
        None
        if base_dir is None
        else os.path.abspath(os.path.join(base_dir, os.path.basename(path)))
    )
    chain = () if start is None else (start,)
    doc = _Loader(path, base_dir, chain).run(text)
    if strict and doc.problems:
        first = doc.problems[0]
        raise YamlSyntaxError(first.mark, first.message)
    return doc


def format_key(key: object, limit: int = 60) -> str:
    """A key as it reads in a message: control characters escaped, long keys cut."""
    text = str(key)
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def java_key(key: object) -> str | None:
    """The string Jackson writes for a SnakeYAML map key (None: a null key)."""
    if key is None:
        return None
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return _java_double(key)
    if isinstance(key, Tagged):
        return key.value
    return str(key)


def _java_double(value: float) -> str:
    """Java's Double.toString for the common cases (1.0, 1.0E10, Infinity, NaN)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text or "e" in text else text + ".0"
    mantissa, exponent = f"{value:.16e}".split("e")
    mantissa = mantissa.rstrip("0")
    mantissa = mantissa + "0" if mantissa.endswith(".") else mantissa
    return f"{float(mantissa)!r}E{int(exponent)}"


class _Loader:
    """Loads one file: YAML, Digdag typing, duplicate keys, merge keys and includes."""

    def __init__(self, path: str, base_dir: Path | None, chain: tuple[str, ...]) -> None:
        self.path = path
        self.base_dir = base_dir
        self.chain = chain
        self.doc = LoadedDig(path)
        self.raw: Loaded = Loaded(data=None)
        self.unique_tags: set[str] = set()

    def run(self, text: str) -> LoadedDig:
        """Load ``text``; problems end up in the returned document."""
        raw = self._compose(text)
        if raw is None:
            return self.doc
        self.raw = raw
        if raw.data is None or not isinstance(raw.data, dict):
            self._not_mapping(raw.data)
        self._duplicates()
        self.doc.data = self._value(raw.data, (), ())
        return self.doc

    def _compose(self, text: str) -> Loaded | None:
        """yamlload with Digdag typing; guards alias bombs and deep nesting."""
        try:
            if "&" in text and "*" in text:
                self._check_aliases(text)
            raw = load(text, self.path, resolve_digdag, construct_digdag)
            if any(_is_include(p[-1]) for _, p in raw.duplicates):
                raw = load(self._unique_includes(text), self.path, resolve_digdag, construct_digdag)
        except YamlSyntaxError as exc:
            self._problem(exc.mark, "yaml", exc.message + _syntax_hint(text, exc.mark))
            return None
        return raw

    def _check_aliases(self, text: str) -> None:
        """Refuse documents whose aliases expand past MAX_NODES nodes.

        compose refuses recursive aliases, so the node graph has no cycles.
        """
        root = compose(text, self.path)
        sizes: dict[int, int] = {}
        stack: list[tuple[Any, bool]] = [(root, False)] if root is not None else []
        while stack:
            node, done = stack.pop()
            if done:
                children = _children(node)
                total = 1 + sum(sizes[id(c)] for c in children)
                sizes[id(node)] = min(total, MAX_NODES + 1)
                continue
            if id(node) in sizes:
                continue
            stack.append((node, True))
            stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
        if root is not None and sizes.get(id(root), 0) > MAX_NODES:
            raise YamlSyntaxError(
                _node_mark(self.path, root),
                f"anchors and aliases expand to more than {MAX_NODES} values",
            )

    def _unique_includes(self, text: str) -> str:
        """Give each ``!include`` tag a unique same-length name so none is lost.

        yamlload keeps one value per key, and every ``!include`` key is the same key.
        Only tags found by the parser are renamed, so columns and strings are unchanged.
        """
        root = compose(text, self.path)
        starts: list[int] = []
        stack = [root] if root is not None else []
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.id == "mapping":
                for key, value in node.value:
                    if key.id == "scalar" and key.tag == INCLUDE_TAG:
                        starts.append(key.start_mark.index)
                    stack.append(value)
            elif node.id == "sequence":
                stack.extend(node.value)
        chars = list(text)
        for n, start in enumerate(sorted(starts)):
            if text[start : start + len(INCLUDE_TAG)] != INCLUDE_TAG:
                continue
            tag = "!i" + _base36(n)
            self.unique_tags.add(tag)
            chars[start : start + len(INCLUDE_TAG)] = list(tag)
        return "".join(chars)

    def _duplicates(self) -> None:
        """Duplicated keys as Digdag words them; ``!include`` keys may repeat."""
        for mark, at in self.raw.duplicates:
            if not _is_include(at[-1]):
                self._problem(mark, "duplicate-key", _duplicated(at[-1]))

    def _value(self, value: Any, raw_at: PathKey, at: PathKey) -> Any:
        """Copy a raw value into Digdag's data model, recording positions."""
        mark = self.raw.marks.get(raw_at)
        if mark is not None:
            self.doc.marks[at] = mark
        if isinstance(value, dict):
            return self._mapping(value, raw_at, at)
        if isinstance(value, list):
            return [self._value(v, (*raw_at, i), (*at, i)) for i, v in enumerate(value)]
        if isinstance(value, Tagged):
            return self._tagged_value(value, raw_at)
        return value

    def _tagged_value(self, value: Tagged, raw_at: PathKey) -> object:
        """A tagged scalar value: ``!include`` only works as a key, other tags fail."""
        mark = self.raw.mark(raw_at) or Mark(self.path, 1, 1)
        if value.tag == INCLUDE_TAG or value.tag in self.unique_tags:
            self._problem(
                mark,
                "include",
                f"!include works only as a key: write `!include : '{format_key(value.value)}'`"
                " inside the mapping that should receive the file's keys",
            )
        elif value.tag != "!":
            self._problem(mark, "yaml-tag", _unknown_tag(value.tag))
        return value.value

    def _mapping(self, raw: dict[Any, Any], raw_at: PathKey, at: PathKey) -> dict[str, Any]:
        """Keys become strings as Jackson writes them; merge keys and includes applied."""
        out: dict[str, Any] = {}
        seen: dict[str, Hashable] = {}
        for raw_key, raw_value in raw.items():
            here = (*raw_at, raw_key)
            if self._is_include_key(raw_key):
                self._include(raw_value, here, out, at)
                continue
            key = self._key(raw_key, here)
            if key is None:
                continue
            if key == "<<" and raw_key == "<<" and _mergeable(raw_value):
                continue
            if key in seen and seen[key] != raw_key:
                self._problem(self._raw_key_mark(here), "duplicate-key", _duplicated(key))
            seen[key] = raw_key
            self._forget(out, at, key)
            out[key] = self._value(raw_value, here, (*at, key))
            key_mark = self.raw.key_marks.get(here)
            if key_mark is not None:
                self.doc.key_marks[(*at, key)] = key_mark
        if "<<" in raw and _mergeable(raw["<<"]):
            self._merge_keys(raw["<<"], (*raw_at, "<<"), out, at)
        return out

    def _key(self, raw_key: Hashable, here: PathKey) -> str | None:
        """The string key Digdag sees, or None (and a problem) for keys it refuses."""
        if isinstance(raw_key, Tagged) and raw_key.tag != "!":
            self._problem(self._raw_key_mark(here), "yaml-tag", _unknown_tag(raw_key.tag))
            return None
        key = java_key(raw_key)
        if key is None:
            self._problem(
                self._raw_key_mark(here),
                "yaml",
                "a mapping key is null; JSON (and so Digdag) needs a string key: quote it",
            )
        return key

    def _merge_keys(self, merge: Any, raw_at: PathKey, out: dict[str, Any], at: PathKey) -> None:
        """YAML merge keys (``<<: *base``): explicit keys win, earlier maps win."""
        sources = (
            [(merge, raw_at)]
            if isinstance(merge, dict)
            else [(m, (*raw_at, i)) for i, m in enumerate(merge)]
        )
        for source, source_at in sources:
            value = self._value(source, source_at, (*at, "<<"))
            for key, item in value.items():
                if key not in out:
                    out[key] = item
                    self._move((*at, "<<", key), (*at, key))
        self._drop_marks((*at, "<<"))

    def _is_include_key(self, key: Hashable) -> bool:
        return isinstance(key, Tagged) and (key.tag == INCLUDE_TAG or key.tag in self.unique_tags)

    def _include(self, name_value: Any, here: PathKey, out: dict[str, Any], at: PathKey) -> None:
        """Load the named file and merge its keys into ``out`` as Digdag does."""
        mark = self._raw_key_mark(here)
        name = name_value if isinstance(name_value, str) else _json_text(name_value)
        included = self._load_include(name, mark)
        if included is None or not isinstance(included.data, dict):
            return
        for key, value in included.data.items():
            dest = out.get(key)
            if isinstance(dest, dict) and isinstance(value, dict):
                self._merge_object(dest, value, included, (key,), (*at, key))
            else:
                self._replace(out, at, key, value)
                self._adopt(included, (key,), (*at, key))

    def _load_include(self, name: str, mark: Mark) -> LoadedDig | None:
        """Read and load an included file; None (and a problem) if Digdag would fail."""
        if self.base_dir is None:
            self._problem(
                mark,
                "include",
                f"cannot resolve !include '{format_key(name)}' without the including file's folder",
            )
            return None
        include_dir = os.path.abspath(self.base_dir)
        target = os.path.normpath(os.path.join(include_dir, name))
        if not target.startswith(include_dir):
            self._problem(
                mark,
                "include",
                f"file name must not include ..: {format_key(name)} "
                "(an included file must sit in the including file's folder or below)",
            )
            return None
        if target in self.chain:
            self._problem(
                mark,
                "include",
                f"!include '{format_key(name)}' includes itself (directly or through other files)",
            )
            return None
        display = os.path.normpath(os.path.join(os.path.dirname(self.path), name))
        try:
            text = Path(target).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = "not found" if isinstance(exc, FileNotFoundError) else "not readable"
            self._problem(
                mark, "include", f"included file {format_key(name)} {reason} (looked for {display})"
            )
            return None
        loader = _Loader(display, Path(target).parent, (*self.chain, target))
        included = loader.run(text)
        self.doc.problems.extend(included.problems)
        self.doc.included.extend([display, *included.included])
        return included

    def _merge_object(
        self,
        dest: dict[str, Any],
        src: dict[str, Any],
        inc: LoadedDig,
        src_at: PathKey,
        at: PathKey,
    ) -> None:
        """Deep merge of an included object into an existing one (src replaces leaves)."""
        for key, value in src.items():
            current = dest.get(key)
            if isinstance(current, dict) and isinstance(value, dict):
                self._merge_object(current, value, inc, (*src_at, key), (*at, key))
            else:
                self._replace(dest, at, key, value)
                self._adopt(inc, (*src_at, key), (*at, key))

    def _replace(self, out: dict[str, Any], at: PathKey, key: str, value: Any) -> None:
        """Set ``out[key]``; positions of a replaced container are dropped first."""
        self._forget(out, at, key)
        out[key] = value

    def _forget(self, out: dict[str, Any], at: PathKey, key: str) -> None:
        """Drop the positions under ``out[key]`` when a container is about to be replaced."""
        if isinstance(out.get(key), dict | list):
            self._drop_marks((*at, key))

    def _adopt(self, inc: LoadedDig, src_at: PathKey, at: PathKey) -> None:
        """Copy positions of an included subtree to where it now sits."""
        n = len(src_at)
        for table, mine in ((inc.marks, self.doc.marks), (inc.key_marks, self.doc.key_marks)):
            for path, mark in table.items():
                if path[:n] == src_at:
                    mine[at + path[n:]] = mark

    def _move(self, old: PathKey, new: PathKey) -> None:
        """Re-key positions of a subtree (used for merge keys)."""
        n = len(old)
        for table in (self.doc.marks, self.doc.key_marks):
            for path in [p for p in table if p[:n] == old]:
                table[new + path[n:]] = table[path]

    def _drop_marks(self, prefix: PathKey) -> None:
        n = len(prefix)
        for table in (self.doc.marks, self.doc.key_marks):
            for path in [p for p in table if p[:n] == prefix]:
                del table[path]

    def _not_mapping(self, data: Any) -> None:
        got = "null" if data is None else _json_text(data)
        self._problem(
            self.raw.mark(()) or Mark(self.path, 1, 1),
            "top-level",
            f"Expected object to load Config but got {format_key(got)}: a .dig file is a "
            "mapping of keys such as timezone:, schedule:, _export: and +task:",
        )

    def _raw_key_mark(self, here: PathKey) -> Mark:
        return self.raw.key_marks.get(here) or self.raw.mark(here) or Mark(self.path, 1, 1)

    def _problem(self, mark: Mark, code: str, message: str) -> None:
        self.doc.problems.append(LoadProblem(mark, code, message))


def _syntax_hint(text: str, mark: Mark) -> str:
    """A fix for the usual cause of a syntax error: a tab in the indentation."""
    lines = text.splitlines()
    line = lines[mark.line - 1] if 0 < mark.line <= len(lines) else ""
    if "\t" in line[: max(mark.column, 1)]:
        return " (a tab character: YAML indents with spaces only)"
    return ""


def _node_mark(path: str, node: Any) -> Mark:
    return Mark(path, node.start_mark.line + 1, node.start_mark.column + 1)


def _children(node: Any) -> list[Any]:
    if node.id == "mapping":
        return [n for pair in node.value for n in pair]
    if node.id == "sequence":
        return list(node.value)
    return []


def _is_include(key: Hashable) -> bool:
    return isinstance(key, Tagged) and (key.tag == INCLUDE_TAG or bool(_UNIQUE_TAG.match(key.tag)))


def _mergeable(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(6):
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out


def _json_text(value: Any) -> str:
    """A value as Jackson prints it in messages (compact JSON)."""
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _duplicated(key: object) -> str:
    return f"Duplicated keys: [{format_key(java_key(key))}]: keep one of them"


def _unknown_tag(tag: str) -> str:
    return (
        f"could not determine a constructor for the tag {format_key(tag)}: Digdag knows only "
        "the !include tag; quote the value if the text is meant literally"
    )
