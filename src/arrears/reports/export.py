"""Any report result as a CSV (one table a file) or an XLSX workbook (one sheet a table).

Both hold the figures exactly, locale-free (``reports.cells.exact``): money in major units of
the row's currency (``1234.56``), rates as fractions (``0.125``), dates ISO. Headers are the
columns' labels in the active language.

* **CSV**: UTF-8 with a byte-order mark (so a spreadsheet opens Chinese labels as Chinese);
  a text cell starting with ``= + - @`` is prefixed with ``'`` (``arrears.spreadsheets``, like
  every writer) so a spreadsheet never runs it as a formula (amounts and rates are plain
  numbers, never prefixed).
* **XLSX** (xlsxwriter): a sheet per table, the header frozen; strings are written as strings,
  never turned into formulas, numbers or links. An amount is a number cell only when the
  binary double Excel stores reads back as exactly the same decimal — true for every amount
  under 10^15 minor units with two decimals; otherwise it is written as text, so the file never
  shows a rounded amount. Rates are number cells formatted as percentages (the nearest double
  of the exact fraction, which the CSV holds); counts are integer cells.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

from arrears.kernel.money import CURRENCY_EXPONENTS
from arrears.reports import cells
from arrears.reports.base import ReportResult, Table
from arrears.spreadsheets import safe_cell, safe_csv_writer

#: What Excel forbids in a sheet name, and its longest sheet name.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
#: Integers a double holds exactly.
EXACT_INT = 2**53


def exact_double(value: Decimal) -> float | None:
    """``value`` as a double when the double reads back as exactly ``value``, else ``None``."""
    number = float(value)
    return number if Decimal(repr(number)) == value else None


def csv_bytes(table: Table) -> bytes:
    """One table as a CSV file's bytes."""
    out = io.StringIO()
    # Every cell through the one helper: an exact amount or rate ("-12.50") is a plain number
    # and passes unchanged; text that would start a formula gets its "'".
    writer = safe_csv_writer(out, lineterminator="\r\n")
    writer.writerow([str(column.label) for column in table.columns])
    for row in table.rows:
        currency = cells.row_currency(table, row)
        writer.writerow(
            [
                cells.exact(cell, column, currency)
                for column, cell in zip(table.columns, row, strict=True)
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def sheet_names(tables: tuple[Table, ...]) -> list[str]:
    """A valid, unique sheet name per table: its title, cleaned and cut to 31 characters."""
    names: list[str] = []
    for n, table in enumerate(tables, start=1):
        base = _SHEET_FORBIDDEN.sub(" ", str(table.title)).strip().strip("'") or table.key
        name = base[:SHEET_NAME_MAX]
        while name.casefold() in {used.casefold() for used in names}:
            tag = f" ({n})"
            name = base[: SHEET_NAME_MAX - len(tag)] + tag
            n += 1
        names.append(name)
    return names


def xlsx_bytes(result: ReportResult) -> bytes:
    """The whole result as an XLSX workbook's bytes."""
    import xlsxwriter  # type: ignore[import-untyped]

    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    book.set_properties(
        {
            "title": str(result.title),
            "subject": f"{result.name} as of {result.params.as_of.isoformat()}",
            "comments": "\n".join(str(note) for note in result.notes),
        }
    )
    bold = book.add_format({"bold": True})
    percent = book.add_format({"num_format": "0.00%"})
    decimal = book.add_format({"num_format": "#,##0.00"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    money = {
        places: book.add_format({"num_format": "#,##0" + ("." + "0" * places if places else "")})
        for places in set(CURRENCY_EXPONENTS.values())
    }
    for table, name in zip(result.tables, sheet_names(result.tables), strict=True):
        sheet = book.add_worksheet(name)
        for c, column in enumerate(table.columns):
            sheet.write_string(0, c, safe_cell(str(column.label)), bold)
            sheet.set_column(c, c, max(10, min(40, len(str(column.label)) + 2)))
        sheet.freeze_panes(1, 0)
        for r, row in enumerate(table.rows, start=1):
            currency = cells.row_currency(table, row)
            for c, (column, cell) in enumerate(zip(table.columns, row, strict=True)):
                if cell is None:
                    sheet.write_blank(r, c, None)
                elif column.kind == "money" and isinstance(cell, int):
                    amount = cells.major_units(cell, currency)
                    number = exact_double(amount)
                    if number is None:
                        sheet.write_string(r, c, str(amount))
                    else:
                        places = CURRENCY_EXPONENTS.get(currency or "", 0)
                        sheet.write_number(r, c, number, money[places])
                elif column.kind == "rate" and isinstance(cell, Decimal):
                    sheet.write_number(r, c, float(cell), percent)
                elif column.kind == "number" and isinstance(cell, Decimal):
                    sheet.write_number(r, c, float(cell), decimal)
                elif isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) < EXACT_INT:
                    sheet.write_number(r, c, cell)
                elif isinstance(cell, date):
                    sheet.write_datetime(r, c, cell, day)
                else:
                    sheet.write_string(r, c, safe_cell(str(cell)))
    book.close()
    return out.getvalue()
