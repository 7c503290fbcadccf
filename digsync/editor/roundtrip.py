"""Config data -> config.yaml text that keeps the comments and layout of the old text.

The new data is merged into ruamel.yaml's round-trip tree of the old file: values
that did not change keep their node (quotes, flow style, comments), changed scalars
keep their quoting, keys that went away are removed and new keys are added at the end.
The result is read back with digsync's own loader; when it does not give exactly the
data (an alias shared by two places, say), a fresh document is written instead.
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tokens import CommentToken
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from digsync.errors import YamlSyntaxError
from digsync.yamlio.load import Loaded, load, resolve_core

_QUOTED = (DoubleQuotedScalarString, SingleQuotedScalarString)
_BLOCK = (LiteralScalarString, FoldedScalarString)
_KEY_ONLY = re.compile(r"^( *)[^\s#-][^#]*:\s*(?:#.*)?$")


class Unrepresentable(ValueError):
    """The data has no YAML text that digsync reads back as the same data."""


def to_yaml(new: dict[str, Any], old_text: str | None, label: str = "config.yaml") -> str:
    """YAML text for ``new``, editing ``old_text`` in place where it can; a file whose
    lines end in CRLF keeps CRLF, and one that starts with a byte-order mark keeps it
    (YAML reads either way the same)."""
    return written(new, old_text, label)[0]


def written(
    new: dict[str, Any], old_text: str | None, label: str = "config.yaml"
) -> tuple[str, Loaded]:
    """:func:`to_yaml`, with the text as digsync's loader reads it back (once): a save
    checks that reading, so the new file is parsed a single time."""
    old = old_text or ""
    crlf = old.count("\r\n") * 2 > old.count("\n")
    bom = "\ufeff" if old.startswith("\ufeff") else ""

    def as_file(text: str) -> str:
        return bom + (text.replace("\n", "\r\n") if crlf else text)

    if old:
        merged = _merged(new, old.removeprefix(bom).replace("\r\n", "\n"))
        if merged is not None:
            loaded = read_back(as_file(merged), new, label)
            if loaded is not None:
                return as_file(merged), loaded
    fresh = as_file(_dump(_styled(new), _yaml(2, 4, 2)))
    loaded = read_back(fresh, new, label)
    if loaded is not None:
        return fresh, loaded
    raise Unrepresentable("the config cannot be written as YAML that reads back the same")


def reads_back(text: str, data: Any, label: str = "config.yaml") -> bool:
    """True when digsync's loader reads ``text`` as exactly ``data`` (types included)."""
    return read_back(text, data, label) is not None


def read_back(text: str, data: Any, label: str = "config.yaml") -> Loaded | None:
    """What digsync's loader reads from ``text``, when that is exactly ``data``."""
    try:
        loaded = load(text, label)
    except YamlSyntaxError:
        return None
    return loaded if not loaded.duplicates and same(loaded.data, data) else None


def same(a: Any, b: Any) -> bool:
    """Equality that tells true from 1 and 1 from 1.0, recursively (key order aside)."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, dict):
        # key order is the file's business: kept keys stay where they were
        return len(a) == len(b) and all(k in b and same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:  # NaN equals itself here
        return bool(b != b)
    return bool(a == b)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | ScalarBoolean):
        return "bool"
    for kind, types in (("int", int), ("float", float), ("str", str), ("list", list)):
        if isinstance(value, types):
            return kind
    return "dict" if isinstance(value, dict) else type(value).__name__


def _yaml(mapping: int, sequence: int, offset: int) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-fold long lines
    y.brace_single_entry_mapping_in_flow_sequence = True
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


def _dump(doc: Any, y: YAML) -> str:
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue()


def _merged(new: dict[str, Any], old_text: str) -> str | None:
    y = _yaml(*guess_indent(old_text))
    try:
        doc = y.load(old_text)
    except (YAMLError, ValueError, TypeError, RecursionError):
        return None  # not YAML (a hand edit gone wrong): nothing to keep
    if not isinstance(doc, CommentedMap):
        return None
    y.explicit_start = _has_document_start(old_text)
    try:
        return _dump(_merge(doc, new), y)
    except (YAMLError, ValueError, TypeError, RecursionError):
        return None


def _merge(old: Any, new: Any) -> Any:
    """``new`` as a tree that reuses the nodes of ``old`` wherever it can."""
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in [k for k in old if k not in new or _kind(k) != "str"]:
            del old[key]
        for key, value in new.items():
            if key in old:
                old[key] = _merge(old[key], value)
            else:
                holder = _trailing(old)
                old[_key(key)] = _styled(value)
                if holder is not None:
                    _move_blank_lines(holder, old, key)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        quoted = next((type(v) for v in old if isinstance(v, _QUOTED)), None)
        for i, value in enumerate(new):
            if i < len(old):
                old[i] = _merge(old[i], value)
            else:
                old.append(_styled(value, quoted))
        del old[len(new) :]
        return old
    if _kind(old) == _kind(new) and old == new:
        return old  # unchanged: keep its quotes, anchors and comments
    if isinstance(new, str) and isinstance(old, str) and not _needs_escapes(new):
        if isinstance(old, _QUOTED):
            return type(old)(new)
        if isinstance(old, _BLOCK) and "\n" in new:
            return type(old)(new)
    return _styled(new)


def _trailing(node: CommentedMap) -> tuple[CommentedMap, Any] | None:
    """The deepest last key of a mapping: ruamel hangs the blank lines after it there."""
    if not node:
        return None
    last = list(node)[-1]
    value = node[last]
    if isinstance(value, CommentedMap) and value:
        return _trailing(value)
    return node, last


def _move_blank_lines(holder: tuple[CommentedMap, Any], node: CommentedMap, key: Any) -> None:
    """Keep a blank line that ended the mapping after the key added at its end."""
    owner, last = holder
    entry = owner.ca.items.get(last)
    token = entry[2] if entry and len(entry) > 2 else None
    if not isinstance(token, CommentToken):
        return
    cut = token.value.find("\n")
    if cut == -1 or cut + 1 == len(token.value):
        return
    tail = token.value[cut + 1 :]
    token.value = token.value[: cut + 1]
    deepest = _trailing(node)
    assert deepest is not None
    target_map, target_key = deepest
    # the token holds the end of its own line first, then the lines after it
    blank = CommentToken("\n" + tail, CommentMark(0), None)
    target_map.ca.items[target_key] = [None, None, blank, None]


def _styled(value: Any, quote: type[str] | None = None) -> Any:
    """Plain data as round-trip nodes; strings that would read as another type quoted."""
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[_key(k)] = _styled(v)
        return out
    if isinstance(value, list):
        return CommentedSeq(_styled(v) for v in value)
    if isinstance(value, str):
        if _needs_escapes(value) or not _reads_as_itself(value):
            return DoubleQuotedScalarString(value)
        if quote is not None:
            return quote(value)
    return value


def _key(key: Any) -> Any:
    if isinstance(key, str) and (
        _needs_escapes(key) or not _reads_as_itself(key) or ":" in key or "#" in key
    ):
        return DoubleQuotedScalarString(key)
    return key


def _reads_as_itself(text: str) -> bool:
    """A plain scalar with this text would be read back as this string, by digsync's
    YAML 1.2 loader and by a YAML 1.1 reader (PyYAML, SnakeYAML, the original system's
    tools), which takes ``39:00`` for 2340, ``on`` for true, ``012`` for 10 and ``~``,
    dates and ``<<`` for other things."""
    try:
        value = resolve_core(text)
    except ValueError:  # a number digsync refuses to read (over 4,300 digits): quote it
        return False
    return isinstance(value, str) and value == text and yaml11_reads_as_string(text)


def yaml11_reads_as_string(text: str) -> bool:
    """True when a YAML 1.1 reader types this plain scalar as a string. PyYAML's
    resolver is YAML 1.1's, except that the spec also makes y and n booleans."""
    if text in ("y", "Y", "n", "N"):
        return False
    tag: str = _yaml11_resolver().resolve(ScalarNode, text, (True, False))
    return tag == _YAML11_STR


_YAML11_STR = "tag:yaml.org,2002:str"


@functools.cache
def _yaml11_resolver() -> Resolver:
    return Resolver()


def _needs_escapes(text: str) -> bool:
    """Line breaks YAML knows (NEL, LS, PS) and unprintables: only "..." with escapes."""
    return not text.isprintable()


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them."""
    mapping = sequence = offset = None
    parent: int | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        lead = len(line) - len(line.lstrip(" "))
        if parent is not None and lead > parent:
            if stripped.startswith("- ") and sequence is None:
                offset = lead - parent
                after = line[lead + 1 :]
                sequence = offset + 1 + len(after) - len(after.lstrip(" "))
            elif not stripped.startswith("-") and mapping is None:
                mapping = lead - parent
        elif parent == lead and stripped.startswith("- ") and sequence is None:
            offset = 0
            after = line[lead + 1 :]
            sequence = 1 + len(after) - len(after.lstrip(" "))
        parent = lead if _KEY_ONLY.match(line) else None
        if mapping is not None and sequence is not None:
            break
    mapping = mapping or 2
    if sequence is None or offset is None:
        sequence, offset = mapping + 2, mapping
    return mapping, max(sequence, offset + 2), offset


def _has_document_start(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not stripped.startswith("%"):
            return stripped == "---" or stripped.startswith("--- ")
    return False
