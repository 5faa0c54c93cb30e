"""Strict YAML reading for the documents people write by hand: strategies and policy packs.

Both are read as a ``yaml.compose`` node tree (not ``safe_load``) so that every error can name
the file and line of the offending node. ``StrictDoc`` holds what the two readers share — the
error with its line, mappings with unknown/duplicate/missing keys refused, lists, non-empty
strings, integers, booleans; each loader subclasses it with its own error type and readers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the venv

from arrears.kernel.errors import ArrearsError

INT = "tag:yaml.org,2002:int"
STR = "tag:yaml.org,2002:str"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"


def shown(node: yaml.Node) -> str:
    """How a wrong node is quoted in an error message."""
    if isinstance(node, yaml.ScalarNode):
        return repr(node.value)
    return "a mapping" if isinstance(node, yaml.MappingNode) else "a list"


class StrictDoc:
    """Error helpers and typed readers bound to one source name."""

    error: ClassVar[type[ArrearsError]] = ArrearsError

    def __init__(self, source: str) -> None:
        self.source = source

    def root(self, text: str) -> yaml.Node:
        """The document's root node; invalid YAML or an empty document is an error with a line."""
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f"{mark.line + 1}" if mark is not None else "?"
            raise self.error(f"{self.source}:{line}: not valid YAML: {exc.problem}") from exc
        if node is None:
            raise self.error(f"{self.source}:1: empty document")
        return node

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
                raise self.fail(key, where, f"duplicate key {key.value!r}")
            if key.value not in required | optional:
                allowed = ", ".join(sorted(required | optional)) or "none"
                raise self.fail(key, where, f"unknown key {key.value!r} (allowed: {allowed})")
            out[key.value] = value
        missing = sorted(required - out.keys())
        if missing:
            raise self.fail(node, where, f"missing key {missing[0]!r}")
        return out

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, f"expected a list, got {shown(node)}")
        return list(node.value)

    def string(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR or not node.value.strip():
            raise self.fail(node, where, f"expected a non-empty string, got {shown(node)}")
        return str(node.value).strip()

    def whole_number(self, node: yaml.Node, where: str) -> int:
        if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
            raise self.fail(node, where, f"expected an integer, got {shown(node)}")
        value: Any = yaml.constructor.SafeConstructor().construct_object(node)
        return int(value)

    def boolean(self, node: yaml.Node, where: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
            raise self.fail(node, where, f"expected true or false, got {shown(node)}")
        return bool(yaml.constructor.SafeConstructor().construct_object(node))
