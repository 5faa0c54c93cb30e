"""The loan-state contract (:mod:`arrears.kernel.contract`) as Arrow/Polars types.

The kernel declares each figure's name and unit without naming a dataframe library; this is
the one place that says which Polars type a unit is, so the engine's results, the daily run's
state frame and the workflow's loan frame all take their schemas from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import polars as pl

from arrears.kernel.contract import KEYS, LOAN_STATE, STORED, Field, Unit, field

POLARS_TYPES: Final[dict[Unit, pl.DataType]] = {
    Unit.MONEY: pl.Int64(),
    Unit.DAYS: pl.Int64(),
    Unit.DATE: pl.Date(),
    Unit.TEXT: pl.String(),
    Unit.KEY: pl.Int64(),
}


def schema(fields: Iterable[Field]) -> dict[str, pl.DataType]:
    """``{name: polars type}`` for ``fields``, in their order."""
    return {f.name: POLARS_TYPES[f.unit] for f in fields}


#: A results row (``loan_state.parquet``): the keys, then every figure.
RESULT_SCHEMA: Final[dict[str, pl.DataType]] = schema((*KEYS, *LOAN_STATE))

#: What the daily run stores per loan and day: the loan, then the stored figures.
STORED_SCHEMA: Final[dict[str, pl.DataType]] = schema(
    (field("loan_id"), *(field(name) for name in STORED))
)
