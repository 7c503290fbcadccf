"""Serialise plain data as block YAML that Digdag (SnakeYAML) and YAML 1.2 read back
unchanged. A string is written plain only when every YAML 1.1/1.2 reader must take
it as that same string; anything else is double-quoted with escapes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*\Z")
_PLAIN_KEY = re.compile(r"^\+?[A-Za-z_][A-Za-z0-9_.\-+]*>?\Z")
_RESERVED = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|null|Null|NULL|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN)\Z"
)
_SIMPLE = re.compile(r"^[ !#-\[\]-~]*\Z")  # printable ASCII without " and \\
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\0": "\\0",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def _printable(ch: str) -> bool:
    """YAML's printable set, minus the characters YAML 1.1 treats as line breaks."""
    code = ord(ch)
    if 0x20 <= code <= 0x7E:
        return True
    if code in (0x85, 0xA0, 0x2028, 0x2029, 0xFEFF):
        return False
    return 0xA0 < code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def quote(text: str) -> str:
    """A double-quoted YAML scalar for any string, surrogates and controls included."""
    if _SIMPLE.match(text):
        return f'"{text}"'
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _printable(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if _PLAIN.match(value) and not _RESERVED.match(value):
            return value
        return quote(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def key(value: str) -> str:
    if _PLAIN_KEY.match(value) and not _RESERVED.match(value):
        return value
    return quote(value)


def dump(data: Mapping[str, object], blank_between: bool = False) -> str:
    """Block YAML of a mapping; ``blank_between`` separates top-level entries."""
    lines: list[str] = []
    _mapping(data, 0, lines, blank_between)
    return "\n".join(lines) + "\n"


def _mapping(data: Mapping[str, object], indent: int, lines: list[str], blank: bool) -> None:
    pad = " " * indent
    for i, (k, v) in enumerate(data.items()):
        if blank and i:
            lines.append("")
        _entry(f"{pad}{key(k)}:", v, indent, lines)


def _entry(head: str, value: object, indent: int, lines: list[str]) -> None:
    if isinstance(value, str | int | bool) or value is None:
        lines.append(f"{head} {scalar(value)}")
    elif isinstance(value, Mapping):
        if not value:
            lines.append(f"{head} {{}}")
            return
        lines.append(head)
        _mapping(value, indent + 2, lines, False)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            lines.append(f"{head} []")
            return
        lines.append(head)
        for item in value:
            _entry(" " * (indent + 2) + "-", item, indent + 2, lines)
    else:
        lines.append(f"{head} {scalar(value)}")
