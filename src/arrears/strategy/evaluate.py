"""Evaluate a strategy for a whole portfolio at once: stage and variant per case, due treatments.

Everything is vectorised: one ``pl.when`` chain for the stages, integer mixing in NumPy for the
variant split, one join for the treatments. No per-row Python except for non-integer case ids.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Final

import numpy as np
import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from arrears.strategy.model import Strategy, StrategyError

_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)
_M1: Final = np.uint64(0xBF58476D1CE4E5B9)
_M2: Final = np.uint64(0x94D049BB133111EB)


def _require(frame: pl.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise StrategyError(
            f"{what}: the cases frame lacks column(s) {', '.join(missing)}",
            code="strategy-missing-column",
        )


def assign_stages(strategy: Strategy, cases: pl.DataFrame) -> pl.DataFrame:
    """Add ``stage``, ``owner`` and ``reason`` to each case: the last stage whose entry holds.

    A null condition (SQL NULL) counts as false; a case meeting no entry gets null in all three.
    ``reason`` reads ``"<strategy> v<version>: stage '<name>' because <entry>"`` so every
    assignment explains itself.
    """
    needed, chain, columns = _stage_plan(strategy)
    _require(cases, ["case_id", *needed], f"strategy {strategy.name!r} v{strategy.version}")
    # eager steps: on the few rows of a day (or a contact's re-evaluation) the lazy plan's
    # optimiser cost more than the steps themselves, and on many rows it changes nothing
    return (
        cases.with_columns(chain.alias("_stage_index")).with_columns(*columns).drop("_stage_index")
    )


@lru_cache(maxsize=16)
def _stage_plan(strategy: Strategy) -> tuple[list[str], pl.Expr, tuple[pl.Expr, ...]]:
    """What :func:`assign_stages` evaluates for ``strategy``: the columns its entry conditions
    read, the ``pl.when`` chain giving each case its stage's index, and the stage, owner and
    reason columns from that index. Built once per process and strategy (a strategy is frozen
    and the workflow evaluates the active one every day and after every logged contact);
    expressions are immutable, so sharing them is safe."""
    needed = sorted({c for s in strategy.stages for c in s.condition().meta.root_names()})
    when: Then | ChainedThen | None = None
    for index in reversed(range(len(strategy.stages))):
        condition = strategy.stages[index].condition()
        then = pl.lit(index, dtype=pl.Int32)
        chained = (pl.when(condition) if when is None else when.when(condition)).then(then)
        when = chained
    if when is None:  # pragma: no cover - the loader refuses a strategy without stages
        raise StrategyError(f"strategy {strategy.name!r} has no stages")
    chain = when.otherwise(pl.lit(None, dtype=pl.Int32))
    names = {i: s.name for i, s in enumerate(strategy.stages)}
    owners = {i: s.owner for i, s in enumerate(strategy.stages)}
    reasons = {
        i: f"{strategy.name} v{strategy.version}: stage {s.name!r} because {s.entry}"
        for i, s in enumerate(strategy.stages)
    }
    index_col = pl.col("_stage_index")
    columns = (
        index_col.replace_strict(names, default=None, return_dtype=pl.String).alias("stage"),
        index_col.replace_strict(owners, default=None, return_dtype=pl.String).alias("owner"),
        index_col.replace_strict(reasons, default=None, return_dtype=pl.String).alias("reason"),
    )
    return needed, chain, columns


def _splitmix64(
    values: np.ndarray[tuple[int], np.dtype[np.uint64]],
) -> np.ndarray[tuple[int], np.dtype[np.uint64]]:
    """The SplitMix64 finaliser (Steele, Lea, Flood 2014): a fixed, well-mixed uint64 bijection."""
    with np.errstate(over="ignore"):
        z = values + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def _name_key(strategy: Strategy) -> np.uint64:
    """A per-strategy-name salt, independent of the version so a new version keeps every split."""
    digest = hashlib.sha256(strategy.name.encode("utf-8")).digest()
    return np.uint64(int.from_bytes(digest[:8], "big"))


def variant_of(case_ids: pl.Series, strategy: Strategy) -> pl.Series:
    """The variant of each case: a stable split by a hash of (strategy name, case id).

    Why not ``pl.Series.hash``: Polars does not promise the same hash across releases, so an
    upgrade could silently move cases between champion and challenger. Integer ids are mixed
    with SplitMix64 (fixed constants, NumPy uint64) after XOR with a SHA-256-derived salt of the
    strategy *name*; the version is left out on purpose, so publishing v2 keeps every case in its
    arm. String ids go through SHA-256 of ``"<name>:<id>"`` (a Python loop; slower but stable).
    The bucket ``hash % 100`` is matched against the cumulative shares in declared order.
    """
    if case_ids.dtype.is_integer():
        raw = case_ids.cast(pl.Int64).to_numpy().astype(np.int64, copy=False).view(np.uint64)
        mixed = _splitmix64(raw ^ _name_key(strategy))
    elif case_ids.dtype == pl.String:
        prefix = f"{strategy.name}:"
        mixed = np.fromiter(
            (
                int.from_bytes(hashlib.sha256((prefix + str(v)).encode()).digest()[:8], "big")
                for v in case_ids.to_list()
            ),
            dtype=np.uint64,
            count=len(case_ids),
        )
    else:
        raise StrategyError(
            f"case_id must be an integer or string column, got {case_ids.dtype}",
            code="strategy-missing-column",
        )
    if case_ids.null_count():
        raise StrategyError("case_id must not be null", code="strategy-missing-column")
    buckets = (mixed % np.uint64(100)).astype(np.int64)
    bounds = np.cumsum([v.share for v in strategy.variants])
    names = np.array([v.name for v in strategy.variants], dtype=object)
    chosen = names[np.searchsorted(bounds, buckets, side="right")]
    return pl.Series("variant", chosen, dtype=pl.String)


def treatments_frame(strategy: Strategy) -> pl.DataFrame:
    """One row per (stage, treatment) with its cadence, the table ``treatments_due`` joins on."""
    rows = [
        {
            "stage": s.name,
            "reference": s.reference,
            "treatment": i,
            "channel": t.channel,
            "template": t.template,
            "first": t.cadence.first,
            "every": t.cadence.every,
            "until": t.cadence.until,
        }
        for s in strategy.stages
        for i, t in enumerate(s.treatments)
    ]
    schema: dict[str, type[pl.DataType]] = {
        "stage": pl.String,
        "reference": pl.String,
        "treatment": pl.Int32,
        "channel": pl.String,
        "template": pl.String,
        "first": pl.Int64,
        "every": pl.Int64,
        "until": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def treatments_due(strategy: Strategy, assigned: pl.DataFrame) -> pl.DataFrame:
    """One row per case and treatment of its stage, with ``due``: is the cadence due today?

    ``assigned`` needs ``case_id``, ``stage`` (from ``assign_stages``) and ``offset``: the day on
    the due-date scale, i.e. ``dpd`` when overdue and ``-days_to_due`` before the due date; this is
    what stages with ``reference: dpd`` count. Stages with ``reference: stage_day`` count days since
    the case entered the stage instead, read from a ``stage_day`` column (0 on the entry day),
    required only when the strategy has such a stage. Cases without a stage get no rows.
    ``due`` equals ``Cadence.due_on(offset)`` for every row.
    """
    needs_stage_day = any(s.reference == "stage_day" for s in strategy.stages)
    required = ["case_id", "stage", "offset", *(["stage_day"] if needs_stage_day else [])]
    _require(assigned, required, "treatments_due")
    day = (
        pl.col("offset")
        if not needs_stage_day
        else (
            pl.when(pl.col("reference") == "stage_day")
            .then(pl.col("stage_day"))
            .otherwise(pl.col("offset"))
        )
    )
    first, every, until = pl.col("first"), pl.col("every"), pl.col("until")
    on_or_after = day >= first
    within = until.is_null() | (day <= until)
    on_step = pl.when(every.is_null()).then(day == first).otherwise((day - first) % every == 0)
    due = (on_or_after & within & on_step).fill_null(False)
    return (  # eager steps, as in assign_stages
        assigned.select(required)
        .join(treatments_frame(strategy), on="stage", how="inner")
        .with_columns(day.alias("day"), due.alias("due"))
        .select("case_id", "stage", "treatment", "channel", "template", "day", "due")
    )
