"""Strict YAML reading for the documents people write by hand: strategies and policy packs.

Both are read as a ``yaml.compose`` node tree (not ``safe_load``) so that every error can name
the file and line of the offending node. ``StrictDoc`` holds what the two readers share — the
error with its line, mappings with unknown/duplicate/missing keys refused, lists, non-empty
strings, integers, booleans; each loader subclasses it with its own error type and readers.

Hand-written documents are also hostile input (issue 14): every reader is bounded before the
work it guards. ``read`` refuses a file over ``MAX_BYTES`` and non-UTF-8 bytes (with the line);
``root`` refuses more than ``MAX_NESTING`` levels (PyYAML composes recursively, so 20,000 levels
would be a ``RecursionError``) by walking the parser's flat event stream first; ``string``
refuses text over ``MAX_STRING`` characters (callers pass a smaller bound for names) and
``whole_number`` more than ``MAX_DIGITS`` digits (Python refuses to convert 4,300).

Both passes (the events, then the nodes) use libyaml's parser (:data:`LOADER`) where PyYAML was
built with it, as it is in the pinned wheel: the pure-Python parser took ~50 ms for a shipped
strategy, twice (events, nodes), each time a strategy version was published or a pack loaded;
libyaml gives the same events, nodes and marks (lines) about ten times faster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Final

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the venv

from arrears.kernel.errors import ArrearsError

#: libyaml's safe loader when PyYAML has it, else PyYAML's own (same nodes, same marks).
LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

INT = "tag:yaml.org,2002:int"
STR = "tag:yaml.org,2002:str"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"

#: Largest document read (bytes): the shipped packs are under 60 kB.
MAX_BYTES: Final = 1_000_000
#: Deepest nesting of mappings and lists.
MAX_NESTING: Final = 32
#: Longest string value (characters) unless a reader passes its own bound.
MAX_STRING: Final = 20_000
#: Longest name (of a strategy, stage, pack, rule…); matches the database column for names.
MAX_NAME: Final = 80
#: Most aliases (``*name``) in one document.
MAX_ALIASES: Final = 50
#: Most digits in an integer.
MAX_DIGITS: Final = 18


def clipped(value: str, limit: int = 80) -> str:
    """``repr(value)``, cut to its first ``limit`` characters: a 5 MB key is quoted briefly."""
    if len(value) <= limit:
        return repr(value)
    return repr(value[:limit]) + f"… ({len(value):,} characters)"


def shown(node: yaml.Node) -> str:
    """How a wrong node is quoted in an error message."""
    if isinstance(node, yaml.ScalarNode):
        return clipped(node.value)
    return "a mapping" if isinstance(node, yaml.MappingNode) else "a list"


class StrictDoc:
    """Error helpers and typed readers bound to one source name."""

    error: ClassVar[type[ArrearsError]] = ArrearsError

    def __init__(self, source: str) -> None:
        self.source = source

    def read(self, path: str | os.PathLike[str]) -> str:
        """The text of a document file: at most ``MAX_BYTES``, UTF-8 (a BOM is allowed).

        Anything else is refused with the line of the first bad byte, e.g. a pack saved as GBK.
        """
        path = Path(path)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise self.error(f"{self.source}: cannot read: {exc.strerror or exc}") from exc
        return self.decode(data)

    def decode(self, data: bytes) -> str:
        """``data`` as text, bounded and strictly UTF-8 (see ``read``)."""
        if len(data) > MAX_BYTES:
            raise self.error(f"{self.source}: larger than {MAX_BYTES:,} bytes")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            bad = data[exc.start : exc.start + 1].hex()
            raise self.error(
                f"{self.source}:{line}: not UTF-8 text (byte 0x{bad} at column {column}); "
                "save the file as UTF-8"
            ) from None

    def root(self, text: str) -> yaml.Node:
        """The document's root node; invalid YAML or an empty document is an error with a line."""
        if len(text) > MAX_BYTES:
            raise self.error(f"{self.source}: larger than {MAX_BYTES:,} characters")
        if "\x00" in text:
            nul = text.count("\n", 0, text.index("\x00")) + 1
            raise self.error(f"{self.source}:{nul}: a NUL character is not allowed")
        try:
            self._check_nesting(text)
            node = yaml.compose(text, Loader=LOADER)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f"{mark.line + 1}" if mark is not None else "?"
            raise self.error(f"{self.source}:{line}: not valid YAML: {exc.problem}") from exc
        except yaml.reader.ReaderError as exc:  # a control character the YAML reader refuses
            line = str(text.count("\n", 0, max(exc.position, 0)) + 1)
            raise self.error(
                f"{self.source}:{line}: not valid YAML: character #x{exc.character:04x} "
                "is not allowed"
            ) from exc
        except yaml.YAMLError as exc:
            raise self.error(f"{self.source}: not valid YAML: {exc}") from exc
        except RecursionError:  # a bound below should make this unreachable; never a traceback
            raise self.error(f"{self.source}: nested too deeply") from None
        if node is None:
            raise self.error(f"{self.source}:1: empty document")
        return node

    def _check_nesting(self, text: str) -> None:
        """Refuse more than ``MAX_NESTING`` levels of mappings and lists, from the parser's event
        stream, which is flat (nothing is composed yet). Aliases (``*name``, the shipped packs
        share a category list) are bounded too: at most ``MAX_ALIASES``, and never of a node
        that itself holds an alias — the "billion laughs" way of multiplying a small file into
        a tree the loader would walk for ever."""
        open_: list[tuple[str | None, bool]] = []  # (anchor, holds an alias) per collection
        layered: set[str] = set()
        aliases = 0
        for event in yaml.parse(text, Loader=LOADER):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.CollectionStartEvent):
                open_.append((event.anchor, False))
                if len(open_) > MAX_NESTING:
                    raise self.error(
                        f"{self.source}:{line}: nested more than {MAX_NESTING} levels deep"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, holds = open_.pop()
                if anchor is not None and holds:
                    layered.add(anchor)
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise self.error(f"{self.source}:{line}: more than {MAX_ALIASES} aliases")
                if event.anchor in layered:
                    raise self.error(
                        f"{self.source}:{line}: *{event.anchor} repeats a node that itself "
                        "uses aliases"
                    )
                open_ = [(anchor, True) for anchor, _ in open_]

    def fail(self, node: yaml.Node, where: str, reason: str) -> ArrearsError:
        line = node.start_mark.line + 1
        prefix = f"{where}: " if where else ""
        return self.error(f"{self.source}:{line}: {prefix}{reason}")

    def mapping(
        self,
        node: yaml.Node,
        where: str,
        required: frozenset[str] | set[str],
        optional: frozenset[str] | set[str] = frozenset(),
    ) -> dict[str, yaml.Node]:
        """The mapping's values by key; unknown, duplicate and missing keys are errors."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, f"expected a mapping, got {shown(node)}")
        out: dict[str, yaml.Node] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag != STR:
                raise self.fail(key, where, "keys must be strings")
            if key.value in out:
                raise self.fail(key, where, f"duplicate key {clipped(key.value)}")
            if key.value not in required | optional:
                allowed = ", ".join(sorted(required | optional)) or "none"
                raise self.fail(
                    key, where, f"unknown key {clipped(key.value)} (allowed: {allowed})"
                )
            out[key.value] = value
        missing = sorted(required - out.keys())
        if missing:
            raise self.fail(node, where, f"missing key {missing[0]!r}")
        return out

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, f"expected a list, got {shown(node)}")
        return list(node.value)

    def string(self, node: yaml.Node, where: str, *, max_chars: int = MAX_STRING) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR or not node.value.strip():
            raise self.fail(node, where, f"expected a non-empty string, got {shown(node)}")
        value = str(node.value).strip()
        if len(value) > max_chars:
            raise self.fail(node, where, f"longer than {max_chars:,} characters ({len(value):,})")
        return value

    def name(self, node: yaml.Node, where: str) -> str:
        """A name: a non-empty string of at most ``MAX_NAME`` characters."""
        return self.string(node, where, max_chars=MAX_NAME)

    def whole_number(self, node: yaml.Node, where: str) -> int:
        if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
            raise self.fail(node, where, f"expected an integer, got {shown(node)}")
        if sum(ch.isdigit() for ch in node.value) > MAX_DIGITS:
            raise self.fail(node, where, f"more than {MAX_DIGITS} digits")
        value: Any = yaml.constructor.SafeConstructor().construct_object(node)
        return int(value)

    def boolean(self, node: yaml.Node, where: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
            raise self.fail(node, where, f"expected true or false, got {shown(node)}")
        return bool(yaml.constructor.SafeConstructor().construct_object(node))
