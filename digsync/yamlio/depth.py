"""Compose YAML nodes with nesting bounded by MAX_DEPTH, before anything recurses.

libyaml's composer (PyYAML's CSafeLoader) recurses in C once per nesting level: 30,000
``[`` kill the process, and our builders recurse in Python. The parser's event stream
does not recurse, so a document that could nest deeper than MAX_DEPTH, or that has
aliases, is composed here from the events in one pass, and nesting past MAX_DEPTH
(directly or through an alias) or an alias inside the collection it names is refused
at its place. Every other document goes to libyaml's composer, which is faster and
builds the same nodes: it cannot nest past MAX_DEPTH (see ``_shallow``).
"""

from __future__ import annotations

from typing import Any

from digsync.errors import Mark, YamlSyntaxError

MAX_DEPTH = 200
"""Collections nested inside each other, for config.yaml and .dig alike. No config or
workflow comes near it, and it keeps every recursive walk far from Python's limit."""

PLAIN = "?plain"
"""The tag of an untagged plain scalar: each loader types those by its own rules."""
STR = "tag:yaml.org,2002:str"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"

# Each collection starts at a character of its own: "[", "{", a sequence's first "-", a
# mapping's first "?" or ":" (a key's indicator). Fewer of them than MAX_DEPTH in the
# whole text, and the document cannot nest deeper.
_STARTS = ("[", "{", "-", "?", ":")


def _shallow(text: str) -> bool:
    """True when text cannot nest past MAX_DEPTH and has no alias to follow."""
    if "*" in text and "&" in text:
        return False
    if len(text) <= MAX_DEPTH:
        return True
    total = 0
    for char in _STARTS:
        total += text.count(char)
        if total > MAX_DEPTH:
            return False
    return True


def compose(text: str, path: str) -> Any:
    """Parse text into a node tree (None: no document); refusals name file:line:col."""
    import yaml

    try:
        if _shallow(text):
            try:
                return yaml.compose(text, Loader=_c_loader())
            except yaml.composer.ComposerError:
                pass  # an undefined or repeated anchor: worded below
        return _compose_events(text, path)
    except UnicodeEncodeError as exc:  # a lone surrogate, which JSON's "\ud800" can carry
        char = f"\\u{ord(text[exc.start]):04x}"
        raise YamlSyntaxError(
            _offset_mark(path, text, exc.start),
            f"invalid YAML: {char} is half of a surrogate pair, not a character",
        ) from None
    except yaml.reader.ReaderError as exc:
        offset = exc.position
        if hasattr(yaml, "CSafeLoader"):  # libyaml counts UTF-8 bytes
            offset = len(text.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))
        raise YamlSyntaxError(
            _offset_mark(path, text, offset),
            f"invalid YAML: unacceptable character #x{exc.character:04x}: {exc.reason}",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise YamlSyntaxError(Mark(path, line, col), f"invalid YAML: {message}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Mark(path, 1, 1), f"invalid YAML: {exc}") from None


def _offset_mark(path: str, text: str, offset: int) -> Mark:
    line_start = text.rfind("\n", 0, offset) + 1
    return Mark(path, text.count("\n", 0, offset) + 1, offset - line_start + 1)


_LOADER: Any = None


def _c_loader() -> Any:
    """libyaml's composer with our resolver: untagged plain scalars get PLAIN."""
    global _LOADER
    if _LOADER is None:
        import yaml
        from yaml.nodes import ScalarNode, SequenceNode

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        tags = {ScalarNode: STR, SequenceNode: SEQ}

        class Loader(base):  # type: ignore[misc, valid-type]
            def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
                if kind is ScalarNode and implicit[0]:
                    return PLAIN
                return tags.get(kind, MAP)

        _LOADER = Loader
    return _LOADER


def _compose_events(text: str, path: str) -> Any:
    import yaml

    try:
        from yaml._yaml import CParser as parser_class
    except ImportError:  # pragma: no cover - PyYAML built without libyaml
        parser_class = yaml.BaseLoader
    parser = parser_class(text)
    try:
        return _Composer(path, parser.get_event).stream()
    finally:
        parser.dispose()


def too_deep(through: str | None = None) -> str:
    """The message for nesting past MAX_DEPTH (``through``: the alias that got there)."""
    via = f" (counting what the alias *{through} brings in)" if through else ""
    return f"nesting is deeper than {MAX_DEPTH} levels{via}; flatten the document"


class _Composer:
    """Nodes as libyaml's composer with ``_c_loader``'s resolver makes them, from events."""

    def __init__(self, path: str, get_event: Any) -> None:
        from yaml import events, nodes

        self.ev = events
        self.nodes = nodes
        self.path = path
        self.get_event = get_event
        self.anchors: dict[str, Any] = {}
        self.heights: dict[int, int] = {}  # collections below a node, by id, for aliases

    def stream(self) -> Any:
        get = self.get_event
        end = self.ev.StreamEndEvent
        get()  # StreamStart
        if type(get()) is end:
            return None
        root = self.document()
        extra = get()
        if type(extra) is not end:
            raise self.error(
                extra.start_mark,
                "invalid YAML: expected a single document in the stream but found another document",
            )
        return root

    def document(self) -> Any:
        """Nodes up to DocumentEnd: one loop over the events, open collections on a stack.

        A mapping collects keys and values in one flat list, paired when it ends.
        """
        ev, nodes = self.ev, self.nodes
        scalar_event, alias_event = ev.ScalarEvent, ev.AliasEvent
        map_start, seq_start = ev.MappingStartEvent, ev.SequenceStartEvent
        map_end, seq_end = ev.MappingEndEvent, ev.SequenceEndEvent
        scalar_node, map_node, seq_node = nodes.ScalarNode, nodes.MappingNode, nodes.SequenceNode
        get = self.get_event
        stack: list[Any] = []
        add: Any = None  # value.append of the innermost open collection
        root: Any = None
        while True:
            event = get()
            kind = type(event)
            if kind is scalar_event:
                tag = event.tag
                if tag is None or tag == "!":
                    tag = PLAIN if event.implicit[0] else STR
                node: Any = scalar_node(
                    tag, event.value, event.start_mark, event.end_mark, event.style
                )
                if event.anchor is not None:
                    self.anchor(event, node)
            elif kind is map_start or kind is seq_start:
                if len(stack) >= MAX_DEPTH:
                    raise self.error(event.start_mark, too_deep())
                tag = event.tag
                if kind is map_start:
                    node = map_node(
                        MAP if tag is None or tag == "!" else tag,
                        [],
                        event.start_mark,
                        None,
                        event.flow_style,
                    )
                else:
                    node = seq_node(
                        SEQ if tag is None or tag == "!" else tag,
                        [],
                        event.start_mark,
                        None,
                        event.flow_style,
                    )
                if event.anchor is not None:
                    self.anchor(event, node)
                if add is None:
                    root = node
                else:
                    add(node)
                stack.append(node)
                add = node.value.append
                continue
            elif kind is map_end or kind is seq_end:
                node = stack.pop()
                node.end_mark = event.end_mark
                if kind is map_end:
                    items = iter(node.value)
                    node.value = list(zip(items, items, strict=True))
                add = stack[-1].value.append if stack else None
                continue
            elif kind is alias_event:
                node = self.alias(event, len(stack))
            else:  # DocumentEnd
                return root
            if add is None:
                root = node
            else:
                add(node)

    def anchor(self, event: Any, node: Any) -> None:
        name = event.anchor
        first = self.anchors.get(name)
        if first is not None:
            where = f"line {first.start_mark.line + 1}, column {first.start_mark.column + 1}"
            raise self.error(
                event.start_mark, f"invalid YAML: found duplicate anchor &{name} (first at {where})"
            )
        self.anchors[name] = node

    def alias(self, event: Any, depth: int) -> Any:
        """The anchored node; refused while it is still open, or if it nests too deep here."""
        name = event.anchor
        node = self.anchors.get(name)
        if node is None:
            raise self.error(event.start_mark, f"invalid YAML: found undefined alias *{name}")
        if node.end_mark is None:
            raise self.error(
                event.start_mark,
                f"the alias *{name} is inside the collection &{name} it names: a recursive "
                "structure cannot be loaded; repeat the values instead",
            )
        if node.id != "scalar" and depth + self.height(node) > MAX_DEPTH:
            raise self.error(event.start_mark, too_deep(name))
        return node

    def height(self, root: Any) -> int:
        """Levels of collections in a closed node, each node measured once (aliases repeat)."""
        heights = self.heights
        stack: list[tuple[Any, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            if id(node) in heights:
                continue
            children = _children(node)
            if done:
                heights[id(node)] = 1 + max((heights[id(c)] for c in children), default=0)
                continue
            stack.append((node, True))
            stack.extend((c, False) for c in children)
        return heights[id(root)]

    def error(self, mark: Any, message: str) -> YamlSyntaxError:
        return YamlSyntaxError(Mark(self.path, mark.line + 1, mark.column + 1), message)


def _children(node: Any) -> list[Any]:
    """The collections directly inside a collection."""
    if node.id == "sequence":
        return [c for c in node.value if c.id != "scalar"]
    return [c for pair in node.value for c in pair if c.id != "scalar"]
