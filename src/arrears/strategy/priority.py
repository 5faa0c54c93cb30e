"""Queue priority: the strategy's integer weights over a case's state, in exact integer arithmetic.

A case's priority is ``sum(weight × column)`` over the strategy's ``priority`` block, a null value
counting as 0. The queue is worked highest priority first, ties by case id ascending, so the order
is total and the same on every run. Example: with ``{dpd: 1000, total_due: 1}`` a case 30 days
past due owing 50000 fen scores ``30 × 1000 + 50000 = 80000``.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from arrears.strategy.model import Strategy, StrategyError

INT64_MAX: Final = 2**63 - 1


def _bound(cases: pl.DataFrame, weights: dict[str, int]) -> int:
    """The largest |score| the weights can produce on this frame, in Python's exact integers.

    If it fits in int64, every partial sum of the Int64 computation fits too, so the result is
    exact; otherwise the caller refuses instead of letting the column wrap around.
    """
    stats = cases.select(
        *(pl.col(c).min().alias(f"{c}:min") for c in weights),
        *(pl.col(c).max().alias(f"{c}:max") for c in weights),
    ).row(0, named=True)
    total = 0
    for column, weight in weights.items():
        low, high = stats[f"{column}:min"] or 0, stats[f"{column}:max"] or 0
        total += abs(weight) * max(abs(int(low)), abs(int(high)))
    return total


def priority_scores(strategy: Strategy, cases: pl.DataFrame) -> pl.Series:
    """Each case's priority (Int64, named ``priority``): the weighted sum of its state columns.

    Nulls count as 0; weight-0 columns are not read. A strategy without weights scores every
    case 0. Raises ``StrategyError`` when a weighted column is missing or not an integer column
    (``strategy-missing-column``), or when the weights could overflow int64
    (``strategy-priority-overflow``) — never a silently wrapped or float score.
    """
    weights = {c: w for c, w in strategy.priority.items() if w != 0}
    missing = [c for c in weights if c not in cases.columns]
    if missing:
        raise StrategyError(
            f"priority: the cases frame lacks column(s) {', '.join(missing)}",
            code="strategy-missing-column",
        )
    for column in weights:
        dtype = cases.schema[column]
        if not (dtype.is_integer() or dtype == pl.Null):
            raise StrategyError(
                f"priority: column {column!r} must be an integer column, got {dtype}",
                code="strategy-missing-column",
            )
    if not weights or cases.height == 0:
        return pl.Series("priority", [0] * cases.height, dtype=pl.Int64)
    bound = _bound(cases, weights)
    if bound > INT64_MAX:
        raise StrategyError(
            f"priority: weights {weights} can reach {bound}, beyond int64; lower the weights",
            code="strategy-priority-overflow",
        )
    terms = [
        pl.col(c).cast(pl.Int64).fill_null(0) * pl.lit(w, dtype=pl.Int64)
        for c, w in weights.items()
    ]
    return cases.select(pl.sum_horizontal(terms).cast(pl.Int64).alias("priority")).to_series()


def queue_order(strategy: Strategy, cases: pl.DataFrame) -> pl.DataFrame:
    """``cases`` with a ``priority`` column, sorted as the queue is worked: priority descending,
    then ``case_id`` ascending (a total order, so the queue never depends on input row order)."""
    if "case_id" not in cases.columns:
        raise StrategyError(
            "priority: the cases frame lacks column(s) case_id", code="strategy-missing-column"
        )
    return cases.with_columns(priority_scores(strategy, cases)).sort(
        ["priority", "case_id"], descending=[True, False], maintain_order=True
    )
