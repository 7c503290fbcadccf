"""Building Trino statements safely: quoted identifiers, escaped literals, bounded batches.

Values never reach SQL by pasting. Identifiers (only the semantic store's own table and
column names, all checked against a strict pattern first) are double-quoted with ``""``
doubling. Strings become literals with ``''`` doubling; text holding control characters
becomes a Unicode literal (``U&'a\\000Ab'``) so no statement ever contains a raw newline or
other control character from the data. NUL and unpaired surrogates are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Union

MAX_STATEMENT_BYTES = 900_000
"""Treasure Data refuses Trino queries over 1 MB; stay below with room to spare."""
_IDENT = re.compile(r"[a-z0-9_]{1,255}")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Unicode category Cc: what becomes an escape in a U&'...' literal."""
_SURROGATE = re.compile("[\ud800-\udfff]")

Value = Union[str, int, bool, None]  # noqa: UP007 - evaluated at import, and 3.9 has no X | Y


def ident(name: str) -> str:
    """A double-quoted identifier; only lower-case letters, digits and ``_`` are accepted."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not an identifier digsync writes: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def literal(value: Value) -> str:
    """A Trino literal for a value: NULL, TRUE/FALSE, an integer or a string."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"no SQL literal for {type(value).__name__}")
    if "\x00" in value:
        raise ValueError("a NUL character cannot be stored")
    if _SURROGATE.search(value):
        raise ValueError("unpaired surrogates are not valid text")
    if not _CONTROL.search(value):
        return "'" + value.replace("'", "''") + "'"
    escaped = value.replace("\\", "\\\\").replace("'", "''")
    return "U&'" + _CONTROL.sub(lambda m: f"\\{ord(m.group(0)):04X}", escaped) + "'"


def row_values(values: Iterable[Value]) -> str:
    """``(v1, v2, ...)`` for a VALUES list."""
    return "(" + ", ".join(literal(v) for v in values) + ")"


def batched(
    head: str, items: Iterable[str], tail: str, max_items: int, sep: str = ",\n"
) -> Iterator[str]:
    """Statements ``head + items joined by sep + tail``, each with at most ``max_items``
    items and at most MAX_STATEMENT_BYTES bytes. One item too large on its own is an error.
    """
    fixed = len(head.encode("utf-8")) + len(tail.encode("utf-8"))
    chunk: list[str] = []
    size = fixed
    for item in items:
        n = len(item.encode("utf-8")) + len(sep)
        if fixed + n > MAX_STATEMENT_BYTES:
            raise ValueError("one row is larger than a Trino statement may be")
        if chunk and (len(chunk) >= max_items or size + n > MAX_STATEMENT_BYTES):
            yield head + sep.join(chunk) + tail
            chunk, size = [], fixed
        chunk.append(item)
        size += n
    if chunk:
        yield head + sep.join(chunk) + tail
