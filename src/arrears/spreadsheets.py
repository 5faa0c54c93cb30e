"""Cells a spreadsheet will not run: every CSV or XLSX the product writes goes through here.

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which
Excel strips before looking) is read by Excel, LibreOffice and Google Sheets as a formula, so a
borrower named ``=HYPERLINK("http://…")`` would become a live link — or worse — in the
collector's spreadsheet (OWASP "CSV injection"). Such a cell is written with a leading ``'``,
which the spreadsheet shows as text. Only text is changed: numbers, dates and ``None`` pass
unchanged, and so does text that is just a number (``-12.50``), which a spreadsheet reads as
that number, not a formula.

The API (the one helper for every writer):

* :func:`safe_cell` — one value;
* :func:`safe_row` — a row of values;
* :func:`safe_csv_writer` — ``csv.writer`` whose ``writerow``/``writerows`` neutralise;
* :func:`safe_frame` — a Polars frame with every text column neutralised, before
  ``write_csv`` (or an XLSX writer);
* for XLSX with ``xlsxwriter``: write ``safe_cell(value)`` with ``worksheet.write_string`` (or
  ``write_row(row, col, safe_row(values))``), never ``write`` on untrusted text, which turns a
  leading ``=`` into a formula.

``tests/test_spreadsheets.py`` finds every module that writes CSV or XLSX and fails unless it
uses this module (or is listed there with a reason).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import polars as pl

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Text that is only a number: a spreadsheet reads it as that number, never as a formula.
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_PLAIN_NUMBER = re.compile(_NUMBER)
#: The same rule as a regular expression (Polars' engine: no look-around), for frames.
_STARTS_LIKE_FORMULA = r"^[=+\-@\t\r]"
_PLAIN_NUMBER_ANCHORED = rf"^{_NUMBER}$"

T = TypeVar("T")


def safe_cell(value: T) -> T:
    """``value``, or — when it is text a spreadsheet would run as a formula — that text with a
    leading ``'``."""
    if (
        isinstance(value, str)
        and value[:1] in FORMULA_STARTS
        and _PLAIN_NUMBER.fullmatch(value) is None
    ):
        return "'" + value  # type: ignore[return-value]  # T is str here
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(value) for value in values]


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def _csv_cell(value: Any) -> Any:
    """A cell as ``csv.writer`` would write it — numbers as they are, ``None`` empty, anything
    else as its ``str()`` (a lazy translation, an enum…) — neutralised."""
    if value is None or isinstance(value, (int, float, Decimal)):
        return value
    return safe_cell(value if isinstance(value, str) else str(value))


class SafeCsvWriter:
    """A ``csv.writer`` that neutralises every cell it writes."""

    def __init__(self, stream: _Writable, **fmtparams: Any) -> None:
        self._writer = csv.writer(stream, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([_csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_csv_writer(stream: _Writable, **fmtparams: Any) -> SafeCsvWriter:
    """``csv.writer(stream, **fmtparams)``, every cell neutralised."""
    return SafeCsvWriter(stream, **fmtparams)


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text column's formula-like cells neutralised (others unchanged)."""
    import polars as pl

    text = [name for name, kind in frame.schema.items() if kind == pl.String]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(
            pl.col(name).str.contains(_STARTS_LIKE_FORMULA)
            & ~pl.col(name).str.contains(_PLAIN_NUMBER_ANCHORED)
        )
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )
