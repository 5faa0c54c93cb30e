"""Small exact figures the reports share — one module, so a figure has one name and one rule.

For the event reports: rates, ratios, per-thousand counts, and a Polars frame turned into a
report table:

* a *rate* is ``part / whole`` as a ``Decimal`` in the default context (28 digits), ``None``
  without a denominator — shown as a percentage by ``reports.cells``;
* a *ratio* (contacts per case) is rounded to :data:`RATIO_PLACES` decimals, half-up;
* a *per-thousand* figure (complaints per 1,000 cases) is rounded to
  :data:`PER_THOUSAND_PLACES` decimals, half-up.

For the ledger reports: one label per figure (the loan-state contract's names), the roll
states' names and the month-end points a period is read at.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from django.utils.translation import (  # type: ignore[import-untyped]
    gettext_lazy as _,
)
from django.utils.translation import pgettext_lazy

from arrears.reports.base import Cell, Column, Table
from arrears.reports.states import CLOSED, WRITTEN_OFF

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


#: A column label per loan-state figure, under the contract's own name.
LABELS = {
    "dpd": pgettext_lazy("ledger report", "Days past due"),
    "bucket": _("Bucket"),
    "overdue_principal": _("Overdue principal"),
    "overdue_interest": _("Overdue interest"),
    "penalty_outstanding": pgettext_lazy("ledger report", "Penalty outstanding"),
    "compound_outstanding": pgettext_lazy("ledger report", "Compound interest outstanding"),
    "total_due": _("Total due"),
    "principal_outstanding": pgettext_lazy("ledger report", "Principal outstanding"),
    "payoff": _("Payoff"),
    "credit": pgettext_lazy("ledger report", "Credit"),
    "penalty_accrued": pgettext_lazy("ledger report", "Penalty accrued"),
    "compound_accrued": pgettext_lazy("ledger report", "Compound interest accrued"),
    "paid_total": _("Paid"),
}
STATE_LABELS = {
    CLOSED: pgettext_lazy("ledger report", "Closed (paid off)"),
    WRITTEN_OFF: _("Written off"),
}


def money(name: str) -> Column:
    return Column(name, LABELS[name], "money")


def state_label(name: str) -> str:
    """A roll state as shown: a bucket's own name (M1…), or closed / written off."""
    return str(STATE_LABELS.get(name, name))


def month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def points(start: date, end: date) -> list[date]:
    """The dates a period's month-over-month figures are read at: the day before ``start``
    (the opening), every month end in ``[start, end)``, and ``end``."""
    out = [start - timedelta(days=1)]
    day = month_end(start)
    while day < end:
        out.append(day)
        day = month_end(day + timedelta(days=1))
    out.append(end)
    return out
