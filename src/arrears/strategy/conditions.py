"""Entry and eligibility conditions: SQL boolean text → a flat Polars expression, in linear time.

Why not hand the whole text to ``pl.sql_expr``: the SQL parser builds ``a AND b AND c …`` as a
left-deep binary tree, one level per term, and Polars resolves the type of a binary node by
resolving both children again — so the schema check (and the daily run's evaluation) costs
grow with the square of the number of terms and worse (800 terms took 44 s), and a 50,000-term
chain overflows the native stack (a segfault, not an exception).

So this module splits the text itself, once, at the top-level ``OR`` and then ``AND`` keywords
(outside quotes, brackets, ``CASE … END``, and not the ``AND`` of ``BETWEEN x AND y``), strips
redundant brackets and leading ``NOT``, and hands only the small leaf terms to ``pl.sql_expr``.
The terms are joined with ``pl.any_horizontal`` / ``pl.all_horizontal``: one n-ary node each,
so the tree is as deep as the brackets (bounded), not as long as the condition. Both follow
SQL's three-valued logic (``NULL AND false`` is false), like the binary operators they replace.

Everything is bounded before any parsing: the length of the text, the bracket depth, the number
of terms and the length of one term; a condition over a bound is refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import polars as pl

#: Longest condition text (characters).
MAX_CHARS: Final = 20_000
#: Most leaf terms (comparisons) in one condition.
MAX_TERMS: Final = 1_000
#: Deepest nesting of brackets and ``CASE … END``.
MAX_DEPTH: Final = 32
#: Longest single term (a comparison, a function call): its arithmetic is parsed by Polars.
MAX_TERM_CHARS: Final = 1_000

_WORD = re.compile(r"[^\W\d]\w*")


class ConditionError(ValueError):
    """Why a condition is refused (the loader adds the file and line)."""


@dataclass(frozen=True, slots=True)
class Node:
    """``op`` is ``and``, ``or``, ``not`` or ``term`` (then ``text`` is the SQL of the term)."""

    op: str
    children: tuple[Node, ...] = ()
    text: str = ""


def _scan(text: str) -> tuple[list[tuple[int, int, str]], int]:
    """The words at the top level of ``text`` (start, end, upper-cased), skipping quoted text and
    anything inside brackets or ``CASE … END``; and the deepest nesting met."""
    words: list[tuple[int, int, str]] = []
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            end = text.find(ch, i + 1)
            while end != -1 and end + 1 < n and text[end + 1] == ch:  # '' escapes a quote
                end = text.find(ch, end + 2)
            if end == -1:
                raise ConditionError("unterminated quoted text")
            i = end + 1
            continue
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                raise ConditionError(f"nested more than {MAX_DEPTH} levels deep")
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ConditionError("unbalanced ')'")
        elif ch.isalpha() or ch == "_":
            match = _WORD.match(text, i)
            if match is None:  # a letter \w does not count (rare marks): not a keyword
                i += 1
                continue
            word = match.group(0).upper()
            if word == "CASE":
                depth += 1
                deepest = max(deepest, depth)
                if deepest > MAX_DEPTH:
                    raise ConditionError(f"nested more than {MAX_DEPTH} levels deep")
            elif word == "END" and depth > 0:
                depth -= 1
            elif depth == 0:
                words.append((match.start(), match.end(), word))
            i = match.end()
            continue
        i += 1
    if depth != 0:
        raise ConditionError("unbalanced '(' or CASE without END")
    return words, deepest


def _split(text: str, words: list[tuple[int, int, str]], keyword: str) -> list[str]:
    """``text`` cut at its top-level ``keyword``; the ``AND`` of ``BETWEEN … AND`` is no cut."""
    parts: list[str] = []
    last = 0
    between = False
    for start, end, word in words:
        if word == "BETWEEN":
            between = True
        elif word == keyword:
            if keyword == "AND" and between:
                between = False
                continue
            parts.append(text[last:start])
            last = end
    parts.append(text[last:])
    return parts


def _wrapped(text: str) -> bool:
    """Whether the whole text is one bracketed group, ``( … )``."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return True


def parse(text: str) -> Node:
    """The condition's tree of AND/OR/NOT over terms; ``ConditionError`` over a bound."""
    if len(text) > MAX_CHARS:
        raise ConditionError(f"longer than {MAX_CHARS:,} characters ({len(text):,})")
    count = [0]
    return _parse(text, count, 0)


def _parse(text: str, count: list[int], level: int) -> Node:
    text = text.strip()
    if not text:
        raise ConditionError("an empty term (a dangling AND, OR or NOT?)")
    if level > MAX_DEPTH:
        raise ConditionError(f"nested more than {MAX_DEPTH} levels deep")
    words, _ = _scan(text)
    for keyword, op in (("OR", "or"), ("AND", "and")):
        parts = _split(text, words, keyword)
        if len(parts) > 1:
            return Node(op, tuple(_parse(part, count, level) for part in parts))
    if words and words[0][0] == 0 and words[0][2] == "NOT":
        return Node("not", (_parse(text[words[0][1] :], count, level + 1),))
    if _wrapped(text):
        return _parse(text[1:-1], count, level + 1)
    count[0] += 1
    if count[0] > MAX_TERMS:
        raise ConditionError(f"more than {MAX_TERMS:,} terms")
    if len(text) > MAX_TERM_CHARS:
        raise ConditionError(f"a term longer than {MAX_TERM_CHARS:,} characters")
    return Node("term", text=text)


def terms(node: Node) -> list[str]:
    """The SQL text of every leaf term, in order."""
    if node.op == "term":
        return [node.text]
    return [text for child in node.children for text in terms(child)]


def to_expr(node: Node) -> pl.Expr:
    """The Polars expression of a parsed condition (terms by ``pl.sql_expr``, never eval)."""
    if node.op == "term":
        return pl.sql_expr(node.text)
    if node.op == "not":
        return ~to_expr(node.children[0])
    children = [to_expr(child) for child in node.children]
    return pl.all_horizontal(children) if node.op == "and" else pl.any_horizontal(children)


@lru_cache(maxsize=256)
def compile_condition(text: str) -> pl.Expr:
    """``text`` as a Polars boolean expression (validated first by the loader).

    Compiled once per process and text: the workflow asks for every stage's condition on
    every evaluation (each day, and after each logged contact), and splitting and parsing the
    text cost more than the day's evaluation of a small book. An expression is immutable, so
    sharing one is safe; an invalid text raises and is not cached."""
    return to_expr(parse(text))
