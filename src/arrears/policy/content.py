"""Screening a rendered message for forbidden content and missing disclosures, in zh and en.

Matching runs on a *normalised* text, so the common ways of slipping a phrase past a naive filter
do not work: Unicode NFKC (full-width letters and digits become ASCII, compatibility forms fold),
case folding, and runs of white space collapsed to one space. Chinese keywords are also matched on
a *compact* form with every space and separator removed, so ``逮 捕`` or ``逮-捕`` still reads
``逮捕``; Latin keywords match on word boundaries (``arrest`` does not fire inside ``arrestor``)
and patterns (regular expressions) handle inflections and word order.

A category's ``allow`` phrases are removed before matching: they are the standard safe wordings
that contain a forbidden word (``切勿向任何个人账户转账`` — *never* pay into a personal account).
``except_facts`` names request facts whose values are legitimate matches (e.g. the lender's
official collection account, which must not be flagged as a private bank account).

A pack's own ``patterns`` are compiled by ``compile_pattern`` with RE2 (``google-re2``), whose
matching time is linear in the text whatever the pattern: ``(a+)+$`` on a 29-character message
took Python's backtracking engine 42 s (issue 14). RE2 has no lookaround or backreferences; a
pattern that needs lookaround (the shipped card-number pattern looks behind and ahead for
digits) runs in Python's ``re`` only if no quantified part of it can itself repeat or branch —
the shape every catastrophic pattern has — and backreferences are refused.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # type: ignore[import-not-found]  # no stub for the parser
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import re2  # type: ignore[import-untyped]  # google-re2 ships no types

from arrears.policy.model import Category, Element, SafePattern

#: Longest content pattern (characters).
MAX_PATTERN_CHARS: Final = 1_000
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is our error message, not a stderr line
_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, sre_parse.POSSESSIVE_REPEAT}


class PatternError(ValueError):
    """Why a content pattern is refused (the loader adds the file and line)."""


def compile_pattern(text: str) -> SafePattern:
    """``text`` compiled with an engine that cannot backtrack catastrophically, or
    ``PatternError``: RE2 when it accepts the syntax, else Python's ``re`` for a pattern that
    passes ``_backtrack_safe`` (lookaround, no nested repetition, no backreference)."""
    if len(text) > MAX_PATTERN_CHARS:
        raise PatternError(f"longer than {MAX_PATTERN_CHARS:,} characters")
    try:
        return SafePattern(text, re2.compile(text, _RE2_OPTIONS), "re2")
    except re2.error as exc:
        refused = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
    try:
        with warnings.catch_warnings():  # "possible nested set": the pack author's business
            warnings.simplefilter("ignore", FutureWarning)
            compiled = re.compile(text)
    except re.error as exc:
        raise PatternError(f"bad regular expression {text!r}: {exc}") from exc
    problem = _backtrack_problem(sre_parse.parse(text))
    if problem is not None:
        raise PatternError(
            f"{text!r}: not RE2 syntax ({refused}), and for Python's engine it {problem}; "
            "rewrite it without lookaround, or without the nested repetition"
        )
    return SafePattern(text, compiled, "re")


def _backtrack_problem(items: Any, inside_repeat: bool = False) -> str | None:
    """Why a parsed pattern could backtrack catastrophically (``None`` when it cannot): a part
    repeated more than once that itself repeats or branches, or a backreference."""
    for op, av in items:
        if op in (sre_parse.GROUPREF, sre_parse.GROUPREF_EXISTS):
            return "uses a backreference"
        if op in _REPEATS:
            _low, high, body = av
            repeats = high > 1
            if repeats and inside_repeat:
                return "repeats inside a repetition"
            problem = _backtrack_problem(body, inside_repeat or repeats)
            if problem is not None:
                return problem
        elif op is sre_parse.BRANCH:
            if inside_repeat:
                return "has alternatives inside a repetition"
            for branch in av[1]:
                problem = _backtrack_problem(branch, inside_repeat)
                if problem is not None:
                    return problem
        elif op is sre_parse.SUBPATTERN:
            problem = _backtrack_problem(av[-1], inside_repeat)
            if problem is not None:
                return problem
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            problem = _backtrack_problem(av[1], inside_repeat)
            if problem is not None:
                return problem
        elif op is sre_parse.ATOMIC_GROUP:
            problem = _backtrack_problem(av, inside_repeat)
            if problem is not None:
                return problem
    return None


_SPACE = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s\-_*.·•|/\\、，,。:：;；'\"“”‘’()（）\[\]【】<>《》~～!！?？]+")
_LATIN = re.compile(r"[a-z0-9]")
_DIGITS = re.compile(r"\D+")


#: Patterns with Chinese characters are also run on the compact text; Latin ones are not (their
#: word boundaries and spaces matter, and joining digit groups would invent numbers).
_CJK = re.compile(r"[\u3400-\u9fff]")


def normalise(text: str) -> str:
    """NFKC, case-folded, white space collapsed: the form every pattern runs on."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def compact(normalised: str) -> str:
    """The normalised text without spaces and separators, for CJK keyword matching."""
    return _SEPARATORS.sub("", normalised)


def keyword_patterns(
    keywords: Iterable[str],
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """One alternation for Latin keywords (word-bounded) and one for CJK ones (compact form)."""
    latin: list[str] = []
    cjk: list[str] = []
    for keyword in keywords:
        norm = normalise(keyword)
        if _LATIN.search(norm) and norm.isascii():
            latin.append(r"(?<![a-z0-9])" + re.escape(norm) + r"(?![a-z0-9])")
        else:
            cjk.append(re.escape(compact(norm)))
    # longest first so the reported phrase is the most specific one
    latin.sort(key=len, reverse=True)
    cjk.sort(key=len, reverse=True)
    return (
        re.compile("|".join(latin)) if latin else None,
        re.compile("|".join(cjk)) if cjk else None,
    )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message in the forms the matchers need, computed once per message."""

    normal: str
    compact: str

    @staticmethod
    def of(text: str) -> Prepared:
        normal = normalise(text)
        return Prepared(normal, compact(normal))


def _fact_values(facts: Mapping[str, str], names: tuple[str, ...]) -> set[str]:
    values: set[str] = set()
    for name in names:
        for part in re.split(r"[,;，；]", facts.get(name, "")):
            part = normalise(part)
            if part:
                values.add(part)
                digits = _DIGITS.sub("", part)
                if digits:
                    values.add(digits)
    return values


def screen(category: Category, text: Prepared, facts: Mapping[str, str]) -> list[str]:
    """The forbidden phrases of ``category`` found in the message (empty when clean)."""
    normal, packed = text.normal, text.compact
    if category.allow and any(phrase in normal for phrase in category.allow):
        for phrase in category.allow:
            normal = normal.replace(phrase, " ")
        packed = compact(normal)
    allowed = _fact_values(facts, category.except_facts)
    hits: list[str] = []

    def keep(found: str) -> None:
        found = found.strip()
        if not found or found in hits:
            return
        digits = _DIGITS.sub("", found)
        if found in allowed or (digits and digits in allowed):
            return
        hits.append(found)

    if category.keywords is not None:
        for match in category.keywords.finditer(normal):
            keep(match.group(0))
    if category.compact_keywords is not None:
        for match in category.compact_keywords.finditer(packed):
            keep(match.group(0))
    for pattern in category.patterns:
        for match in pattern.finditer(normal):
            keep(match.group(0))
        if _CJK.search(pattern.pattern):  # a Chinese phrase split by spaces or dashes
            for match in pattern.finditer(packed):
                keep(match.group(0))
    return hits


def missing(element: Element, text: Prepared, facts: Mapping[str, str]) -> str | None:
    """Why ``element`` is not satisfied by the message, or ``None`` when it is.

    Some pattern must match (when the element has patterns) and, when the element names a fact,
    the request must give that fact and its value must appear in the text — so a reminder with
    yesterday's amount fails even though it does show *an* amount.
    """
    if element.patterns and not any(p.search(text.normal) for p in element.patterns):
        return f"no {element.id.replace('_', ' ')} found"
    if element.fact is not None:
        value = facts.get(element.fact)
        if value is None or not normalise(value):
            return f"{element.id}: the request gives no {element.fact!r} to check against"
        if normalise(value) not in text.normal:
            return f"{element.id}: {value!r} does not appear in the text"
    return None
