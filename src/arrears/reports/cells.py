"""A cell of a report table as a person reads it (pages, terminal, PDF) and as a file holds it
(CSV, XLSX, chart data). One module, so the five renderings cannot disagree.

* ``money`` cells are integer minor units; the row's ``currency`` column names the currency
  (a table with money columns has one). Shown with :func:`arrears.formatting.format_money`;
  written to files as the exact decimal in major units (``123456`` CNY → ``1234.56``).
* ``rate`` cells are ``Decimal`` fractions. Shown as a percentage rounded to
  :data:`RATE_PLACES` decimals under :data:`RATE_ROUNDING` (half-up); written to files as the
  exact fraction. ``None`` (no denominator) is shown as "–" and written empty.
* ``number`` cells are ``Decimal``, shown to :data:`NUMBER_PLACES` decimals, half-up.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

from arrears.formatting import babel_locale, format_money
from arrears.kernel.money import CURRENCY_EXPONENTS, Money
from arrears.reports.base import Cell, Column, Table

#: Rates shown as percentages with two decimals (12.35 %), rounded half-up: display only.
RATE_PLACES = 2
RATE_ROUNDING = ROUND_HALF_UP
#: ``number`` cells (contacts per case) shown with two decimals, half-up.
NUMBER_PLACES = 2
#: What a cell without a value (a rate without denominator) shows.
EMPTY = "–"
#: The column that names a row's currency.
CURRENCY = "currency"


def row_currency(table: Table, row: tuple[Cell, ...]) -> str | None:
    """The currency of ``row`` (its ``currency`` cell), or ``None`` when the table has none."""
    for column, cell in zip(table.columns, row, strict=True):
        if column.key == CURRENCY and isinstance(cell, str) and cell in CURRENCY_EXPONENTS:
            return cell
    return None


def major_units(minor: int, currency: str | None) -> Decimal:
    """``minor`` units as an exact decimal in the currency's major unit (no currency: as is)."""
    places = CURRENCY_EXPONENTS.get(currency or "", 0)
    return Decimal(minor).scaleb(-places) if places else Decimal(minor)


def percent(rate: Decimal) -> Decimal:
    """A fraction as a percentage rounded for display (``0.123456`` → ``12.35``)."""
    return (rate * 100).quantize(Decimal(1).scaleb(-RATE_PLACES), RATE_ROUNDING)


def show(cell: Cell, column: Column, currency: str | None, locale: str) -> str:
    """The cell as a person reads it in ``locale``."""
    if cell is None:
        return EMPTY
    kind = column.kind
    if kind == "money" and isinstance(cell, int):
        if currency is None:
            return format_decimal(cell, locale=babel_locale(locale))
        return format_money(Money(cell, currency), locale)
    if kind == "rate" and isinstance(cell, Decimal):
        return f"{format_decimal(percent(cell), format='#,##0.00', locale=babel_locale(locale))}%"
    if kind == "number" and isinstance(cell, Decimal):
        rounded = cell.quantize(Decimal(1).scaleb(-NUMBER_PLACES), ROUND_HALF_UP)
        return format_decimal(rounded, format="#,##0.00", locale=babel_locale(locale))
    if kind == "count" and isinstance(cell, int):
        return format_decimal(cell, locale=babel_locale(locale))
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def exact(cell: Cell, column: Column, currency: str | None) -> str:
    """The cell as a file holds it: exact, locale-free (``1234.56``, ``0.125``, ``2026-11-30``)."""
    if cell is None:
        return ""
    if column.kind == "money" and isinstance(cell, int):
        return str(major_units(cell, currency))
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def chart_value(cell: Cell, column: Column, currency: str | None) -> str | None:
    """The cell as a chart plots it: major units for money, a percentage (rounded for display)
    for a rate, else the number; as text, so no float is made on the server."""
    if cell is None or isinstance(cell, (str, date)):
        return None
    if column.kind == "money" and isinstance(cell, int):
        return str(major_units(cell, currency))
    if column.kind == "rate" and isinstance(cell, Decimal):
        return str(percent(cell))
    return str(cell)
