"""Load a strategy from YAML, strictly: every mistake is rejected with the source, line and reason.

The document is walked as a ``yaml.compose`` node tree (not ``safe_load``) so each error can point
at the line of the offending node, e.g. ``default.yaml:14: stage 'internal': entry: unknown column
'dpdd'``. Entry conditions are split into their AND/OR/NOT structure by ``conditions`` (bounded,
linear), each term parsed by ``polars.sql_expr`` and type-checked by evaluating them on an empty
frame with the ``STATE_COLUMNS`` schema; nothing is ever passed to ``eval``. The document's size,
encoding, nesting, names and numbers are bounded by ``arrears.yamldoc``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Final

import polars as pl
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the venv

from arrears.strategy import conditions
from arrears.strategy.model import (
    ALLOCATION_METHODS,
    CHANNELS,
    LADDER,
    NUMERIC_COLUMNS,
    PLACEMENT_METHODS,
    REFERENCES,
    STATE_COLUMNS,
    Allocation,
    Cadence,
    Placement,
    Stage,
    Strategy,
    StrategyError,
    Treatment,
    Variant,
)
from arrears.yamldoc import NULL, STR, StrictDoc

_EMPTY_STATE = pl.DataFrame(schema=STATE_COLUMNS)
#: Highest strategy version (a bump per published change; the database column is 32-bit).
MAX_VERSION: Final = 1_000_000
#: Largest cadence day (about a century): the day arithmetic stays far inside int64.
MAX_DAYS: Final = 36_600


class _Doc(StrictDoc):
    """The shared strict readers, raising ``StrategyError``."""

    error = StrategyError

    def integer(self, node: yaml.Node, where: str) -> int:
        return self.whole_number(node, where)

    def optional_integer(self, node: yaml.Node | None, where: str) -> int | None:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == NULL):
            return None
        return self.integer(node, where)


#: Columns renamed to the loan-state contract's names (issue 12), and what to write instead.
RENAMED: Final[dict[str, str]] = {
    "penalty": "penalty_outstanding + compound_outstanding (罚息 + 复利)",
}


def _unknown(column: str) -> str:
    """The message for a column no strategy may name (with the new name of a renamed one)."""
    if column in RENAMED:
        return f"unknown column {column!r}: renamed, write {RENAMED[column]}"
    return f"unknown column {column!r}"


def _check_entry(doc: _Doc, node: yaml.Node, where: str) -> str:
    """Parse the SQL entry condition and prove it is a boolean over known state columns.

    The text is split into its AND/OR/NOT structure by ``conditions.parse`` (bounded, linear)
    and each term is parsed and type-checked by Polars on its own, in one ``select`` over an
    empty frame: the cost grows with the number of terms, not its square (see ``conditions``).
    """
    text = doc.string(node, where, max_chars=conditions.MAX_CHARS)
    try:
        tree = conditions.parse(text)
    except conditions.ConditionError as exc:
        raise doc.fail(node, where, f"{exc}: {_quoted(text)}") from exc
    leaves = conditions.terms(tree)
    exprs: list[pl.Expr] = []
    for index, term in enumerate(leaves):
        try:
            expr = pl.sql_expr(term)
        except pl.exceptions.PolarsError as exc:
            raise doc.fail(
                node, where, f"cannot parse {_quoted(term)}: {_first_line(exc)}"
            ) from exc
        for column in expr.meta.root_names():
            if column not in STATE_COLUMNS:
                raise doc.fail(node, where, _unknown(column))
        exprs.append(expr.alias(f"t{index}"))
    try:
        schema = _EMPTY_STATE.select(exprs).schema
        _EMPTY_STATE.select(conditions.to_expr(tree))
    except pl.exceptions.PolarsError as exc:
        raise doc.fail(
            node, where, f"invalid condition {_quoted(text)}: {_first_line(exc)}"
        ) from exc
    for index, term in enumerate(leaves):
        dtype = schema[f"t{index}"]
        if dtype != pl.Boolean:
            shown = text if len(leaves) == 1 else term
            raise doc.fail(
                node, where, f"must be a boolean condition, {_quoted(shown)} gives {dtype}"
            )
    return text


def _quoted(text: str) -> str:
    """A condition as an error quotes it: whole when short, its start when not."""
    return repr(text) if len(text) <= 200 else repr(text[:200]) + f"… ({len(text):,} characters)"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _cadence(doc: _Doc, node: yaml.Node, where: str) -> Cadence:
    fields = doc.mapping(node, where, {"first"}, {"every", "until"})
    first = doc.integer(fields["first"], f"{where}: first")
    every = doc.optional_integer(fields.get("every"), f"{where}: every")
    until = doc.optional_integer(fields.get("until"), f"{where}: until")
    for key, value in (("first", first), ("every", every), ("until", until)):
        if value is not None and abs(value) > MAX_DAYS:
            raise doc.fail(fields[key], f"{where}: {key}", f"must be within ±{MAX_DAYS:,} days")
    if every is not None and every < 1:
        raise doc.fail(fields["every"], f"{where}: every", f"must be at least 1 day, got {every}")
    if until is not None and until < first:
        raise doc.fail(fields["until"], f"{where}: until", f"{until} is before first ({first})")
    return Cadence(first=first, every=every, until=until)


def _treatment(doc: _Doc, node: yaml.Node, where: str) -> Treatment:
    fields = doc.mapping(node, where, {"channel", "template", "cadence"})
    channel = doc.name(fields["channel"], f"{where}: channel")
    if channel not in CHANNELS:
        allowed = ", ".join(sorted(CHANNELS))
        raise doc.fail(
            fields["channel"], f"{where}: channel", f"unknown channel {channel!r} ({allowed})"
        )
    template = doc.name(fields["template"], f"{where}: template")
    return Treatment(channel, template, _cadence(doc, fields["cadence"], f"{where}: cadence"))


def _allocation(doc: _Doc, node: yaml.Node, where: str) -> Allocation:
    fields = doc.mapping(node, where, {"method"}, {"sticky_days", "reallocate_on_bucket_change"})
    method = doc.string(fields["method"], f"{where}: method")
    if method not in ALLOCATION_METHODS:
        allowed = ", ".join(sorted(ALLOCATION_METHODS))
        raise doc.fail(fields["method"], f"{where}: method", f"unknown {method!r} ({allowed})")
    sticky_days = 7
    if "sticky_days" in fields:
        sticky_days = doc.integer(fields["sticky_days"], f"{where}: sticky_days")
        if sticky_days < 0:
            raise doc.fail(
                fields["sticky_days"], f"{where}: sticky_days", f"must be >= 0, got {sticky_days}"
            )
    reallocate = True
    if "reallocate_on_bucket_change" in fields:
        reallocate = doc.boolean(
            fields["reallocate_on_bucket_change"], f"{where}: reallocate_on_bucket_change"
        )
    return Allocation(method, sticky_days, reallocate)


def _placement(doc: _Doc, node: yaml.Node, where: str) -> Placement:
    """The stage's agency placement rules; every field checked where it is written."""
    fields = doc.mapping(
        node,
        where,
        {"eligible", "method", "term_days"},
        {"replace_with_other_agency", "champion", "challenger", "challenger_share"},
    )
    eligible = _check_entry(doc, fields["eligible"], f"{where}: eligible")
    method = doc.string(fields["method"], f"{where}: method")
    if method not in PLACEMENT_METHODS:
        allowed = ", ".join(sorted(PLACEMENT_METHODS))
        raise doc.fail(fields["method"], f"{where}: method", f"unknown {method!r} ({allowed})")
    term_days = doc.integer(fields["term_days"], f"{where}: term_days")
    if not 1 <= term_days <= 366:
        raise doc.fail(
            fields["term_days"], f"{where}: term_days", f"must be 1 to 366, got {term_days}"
        )
    other = True
    if "replace_with_other_agency" in fields:
        other = doc.boolean(
            fields["replace_with_other_agency"], f"{where}: replace_with_other_agency"
        )
    arms = ("champion", "challenger", "challenger_share")
    if method != "champion_challenger":
        for name in arms:
            if name in fields:
                raise doc.fail(fields[name], f"{where}: {name}", "only for champion_challenger")
        return Placement(eligible, method, term_days, other)
    for name in arms:
        if name not in fields:
            raise doc.fail(node, where, f"champion_challenger needs {name!r}")
    champion = doc.name(fields["champion"], f"{where}: champion")
    challenger = doc.name(fields["challenger"], f"{where}: challenger")
    if champion == challenger:
        raise doc.fail(fields["challenger"], f"{where}: challenger", "must differ from champion")
    share = doc.integer(fields["challenger_share"], f"{where}: challenger_share")
    if not 1 <= share <= 99:
        raise doc.fail(
            fields["challenger_share"],
            f"{where}: challenger_share",
            f"must be 1 to 99, got {share}",
        )
    return Placement(eligible, method, term_days, other, champion, challenger, share)


def _priority(doc: _Doc, node: yaml.Node | None) -> dict[str, int]:
    """Integer weights by numeric state column; an empty block is refused as a likely slip."""
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise doc.fail(node, "priority", "expected a mapping")
    if not node.value:
        raise doc.fail(node, "priority", "needs at least one weight (omit the block for none)")
    weights: dict[str, int] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag != STR:
            raise doc.fail(key, "priority", "keys must be strings")
        column = str(key.value)
        if column in weights:
            raise doc.fail(key, "priority", f"duplicate key {column!r}")
        if column not in STATE_COLUMNS:
            raise doc.fail(key, "priority", _unknown(column))
        if column not in NUMERIC_COLUMNS:
            raise doc.fail(key, "priority", f"{column!r} is not a numeric column")
        weights[column] = doc.integer(value, f"priority: {column}")
    return weights


def _stage(doc: _Doc, node: yaml.Node, index: int) -> Stage:
    fields = doc.mapping(
        node,
        f"stage #{index + 1}",
        {"name", "entry", "owner", "treatments"},
        {"reference", "allocation", "placement"},
    )
    name = doc.name(fields["name"], f"stage #{index + 1}: name")
    where = f"stage {name!r}"
    entry = _check_entry(doc, fields["entry"], f"{where}: entry")
    owner = doc.name(fields["owner"], f"{where}: owner")
    reference = "dpd"
    if "reference" in fields:
        reference = doc.string(fields["reference"], f"{where}: reference")
        if reference not in REFERENCES:
            allowed = ", ".join(sorted(REFERENCES))
            raise doc.fail(
                fields["reference"], f"{where}: reference", f"unknown {reference!r} ({allowed})"
            )
    treatments = tuple(
        _treatment(doc, t, f"{where}: treatment #{i + 1}")
        for i, t in enumerate(doc.sequence(fields["treatments"], f"{where}: treatments"))
    )
    allocation = None
    if "allocation" in fields:
        allocation = _allocation(doc, fields["allocation"], f"{where}: allocation")
    placement = None
    if "placement" in fields:
        placement = _placement(doc, fields["placement"], f"{where}: placement")
    return Stage(name, entry, owner, treatments, reference, allocation, placement)


def _stages(doc: _Doc, node: yaml.Node) -> tuple[Stage, ...]:
    items = doc.sequence(node, "stages")
    if not items:
        raise doc.fail(node, "stages", "a strategy needs at least one stage")
    stages: list[Stage] = []
    last_rung = -1
    for index, item in enumerate(items):
        stage = _stage(doc, item, index)
        where = f"stage {stage.name!r}"
        if any(s.name == stage.name for s in stages):
            raise doc.fail(item, where, "duplicate stage name")
        if stage.name in LADDER:
            rung = LADDER.index(stage.name)
            if rung < last_rung:
                raise doc.fail(item, where, f"out of order: must come before {LADDER[last_rung]!r}")
            last_rung = rung
        stages.append(stage)
    return tuple(stages)


def _variants(doc: _Doc, node: yaml.Node | None) -> tuple[Variant, ...]:
    if node is None:
        return (Variant("champion", 100),)
    variants: list[Variant] = []
    for i, item in enumerate(doc.sequence(node, "variants")):
        fields = doc.mapping(item, f"variant #{i + 1}", {"name", "share"})
        name = doc.name(fields["name"], f"variant #{i + 1}: name")
        share = doc.integer(fields["share"], f"variant {name!r}: share")
        if not 1 <= share <= 100:
            raise doc.fail(fields["share"], f"variant {name!r}: share", "must be 1 to 100")
        if any(v.name == name for v in variants):
            raise doc.fail(item, f"variant {name!r}", "duplicate variant name")
        variants.append(Variant(name, share))
    total = sum(v.share for v in variants)
    if total != 100:
        raise doc.fail(node, "variants", f"shares sum to {total}, expected 100")
    return tuple(variants)


def load_strategy(text: str, *, source: str = "<string>") -> Strategy:
    """Parse and validate one strategy document; raise ``StrategyError`` at the first mistake."""
    doc = _Doc(source)
    root = doc.root(text)
    fields = doc.mapping(root, "", {"name", "version", "stages"}, {"variants", "priority"})
    name = doc.name(fields["name"], "name")
    version = doc.integer(fields["version"], "version")
    if not 1 <= version <= MAX_VERSION:
        raise doc.fail(fields["version"], "version", f"must be 1 to {MAX_VERSION:,}, got {version}")
    stages = _stages(doc, fields["stages"])
    variants = _variants(doc, fields.get("variants"))
    priority = _priority(doc, fields.get("priority"))
    return Strategy(name, version, stages, variants, priority)


def read_strategy_file(path: str | os.PathLike[str]) -> str:
    """A strategy file's text: at most ``yamldoc.MAX_BYTES`` and UTF-8, or ``StrategyError``
    with the file and line of the first bad byte."""
    return _Doc(Path(path).name).read(path)


def load_default() -> Strategy:
    """The shipped strategy encoding the article's ladder (``default.yaml`` next to this module)."""
    text = resources.files("arrears.strategy").joinpath("default.yaml").read_text("utf-8")
    return load_strategy(text, source="default.yaml")
