"""``arrears.spreadsheets``: no cell the product writes runs as a formula in a spreadsheet, and
every module that writes CSV or XLSX goes through it."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.spreadsheets import (
    FORMULA_STARTS,
    safe_cell,
    safe_csv_writer,
    safe_frame,
    safe_row,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "arrears"
#: What writing a CSV or XLSX looks like in the code.
WRITES_SPREADSHEET = re.compile(
    r"csv\.writer\(|csv\.DictWriter\(|\.write_csv\(|\.write_excel\(|xlsxwriter|openpyxl"
)
#: Modules that write CSV without the helper, each with the reason.
NOT_SPREADSHEETS = {
    # the demo's generated loans.csv/payments.csv are import files our importer reads back;
    # a quoted phone ("'+86…") would no longer import, and every value is generated, not typed.
    "demo/files.py",
    "spreadsheets.py",  # the helper itself
}
HOSTILE = [
    "=1+1",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_like_text_is_quoted(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["Zhang San", "", "-12.50", "+86", "12", ".5", None, 12, -12, Decimal("-1.5")]
)
def test_other_cells_and_plain_numbers_are_left_alone(value: object) -> None:
    assert safe_cell(value) == value


@given(st.text(max_size=40))
def test_a_cell_is_either_unchanged_or_quoted_and_never_runs(text: str) -> None:
    cell = safe_cell(text)
    assert cell in (text, "'" + text)
    runs = cell[:1] in FORMULA_STARTS
    assert not runs or re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cell)


@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=20))
def test_the_frame_helper_agrees_with_the_cell_helper(values: list[str | None]) -> None:
    frame = pl.DataFrame({"text": values, "n": list(range(len(values)))}, strict=False).cast(
        {"text": pl.String}
    )
    safe = safe_frame(frame)
    assert safe["text"].to_list() == safe_row(values)
    assert safe["n"].to_list() == list(range(len(values)))


def test_the_csv_writer_quotes_text_and_leaves_numbers() -> None:
    out = io.StringIO()
    writer = safe_csv_writer(out)
    writer.writerow(["=1+1", -5, Decimal("-1.25"), None, "ok"])
    writer.writerows([["@x"]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["'=1+1", "-5", "-1.25", "", "ok"], ["'@x"]]


def test_every_module_that_writes_a_spreadsheet_uses_the_helper() -> None:
    writers = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if WRITES_SPREADSHEET.search(path.read_text("utf-8"))
    }
    using = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "arrears.spreadsheets" in path.read_text("utf-8")
    }
    unsafe = writers - using - NOT_SPREADSHEETS
    assert not unsafe, f"write CSV/XLSX through arrears.spreadsheets: {sorted(unsafe)}"
    assert {"quality/views.py", "agencies/exchange.py"} <= using
    assert writers | {"spreadsheets.py"} >= NOT_SPREADSHEETS  # an exception that no longer is
