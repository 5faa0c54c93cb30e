"""Small exact figures the event reports share: rates, ratios, per-thousand counts, and a
Polars frame turned into a report table.

* a *rate* is ``part / whole`` as a ``Decimal`` in the default context (28 digits), ``None``
  without a denominator — shown as a percentage by ``reports.cells``;
* a *ratio* (contacts per case) is rounded to :data:`RATIO_PLACES` decimals, half-up;
* a *per-thousand* figure (complaints per 1,000 cases) is rounded to
  :data:`PER_THOUSAND_PLACES` decimals, half-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from arrears.reports.base import Cell, Column, Table

RATIO_PLACES = 4
RATIO_ROUNDING = ROUND_HALF_UP
PER_THOUSAND_PLACES = 2
PER_THOUSAND_ROUNDING = ROUND_HALF_UP


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` exactly as a Decimal fraction, ``None`` when ``whole`` is 0."""
    if not whole:
        return None
    return Decimal(part) / Decimal(whole)


def ratio(part: int, whole: int) -> Decimal | None:
    """``part / whole`` rounded to :data:`RATIO_PLACES` decimals (half-up)."""
    if not whole:
        return None
    value = Decimal(part) / Decimal(whole)
    return value.quantize(Decimal(1).scaleb(-RATIO_PLACES), RATIO_ROUNDING)


def per_thousand(part: int, whole: int) -> Decimal | None:
    """``part × 1000 / whole`` rounded to :data:`PER_THOUSAND_PLACES` decimals (half-up)."""
    if not whole:
        return None
    value = Decimal(part * 1000) / Decimal(whole)
    return value.quantize(Decimal(1).scaleb(-PER_THOUSAND_PLACES), PER_THOUSAND_ROUNDING)


def table(
    key: str,
    title: object,
    columns: Sequence[Column],
    frame: pl.DataFrame,
    derived: dict[str, object] | None = None,
) -> Table:
    """A report table from ``frame``: each column's cells from the frame's column of the
    same key (ints stay ints, strings strings), except ``derived`` ones — a function of the
    row (a dict) giving the cell (a rate, a ratio)."""
    derived = derived or {}
    rows: list[tuple[Cell, ...]] = []
    for record in frame.iter_rows(named=True):
        cells: list[Cell] = []
        for column in columns:
            make = derived.get(column.key)
            value = make(record) if callable(make) else record.get(column.key)
            if column.kind in ("count", "money") and value is not None:
                value = int(value)
            cells.append(value)
        rows.append(tuple(cells))
    return Table(key=key, title=title, columns=tuple(columns), rows=tuple(rows))
