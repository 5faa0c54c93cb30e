"""Fuzzing the importer (issue 14, "Fuzzers in CI"): Hypothesis writes loans and payments files
— CSV in UTF-8 or in GBK as Excel writes it, Parquet, and plain random bytes — mixing valid
values with hostile ones (NUL and control characters, huge numbers, far dates, long text).
Whatever the file, an import either applies it or refuses it with ``ImportRejected``: never a
traceback, and each example within a deadline (every input is bounded in size)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.ledger.importers import (
    LOAN_COLUMNS,
    LOAN_OPTIONAL,
    PAYMENT_COLUMNS,
    PAYMENT_OPTIONAL,
    ImportRejected,
    import_file,
)
from tests.ledger.test_import import (  # noqa: F401 - ``product`` is an autouse fixture
    loan_row,
    payment_row,
    product,
    run,
    write_csv,
)

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=timedelta(seconds=10),
    suppress_health_check=list(HealthCheck),
)

#: Values that are hostile to a ledger: huge and signed numbers, exponents, full-width digits,
#: NUL and other control characters, far dates, a slash in a reference, long text.
hostile = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=3).map(str),
    st.sampled_from(
        [
            "",
            "92233720368547758.07",
            "9223372036854775808",
            "1e30",
            "１２３",
            "0001-01-01",
            "9999-12-31",
            "2026-02-30",
            "A/B",
            "..",
            "x\x00y",
            "\t",
            "\u202e",
            "张" * 300,
            "9" * 5_000,
            "x" * 100_000,
            "NaN",
            "-0",
        ]
    ),
    st.dates().map(lambda d: d.isoformat()),
    st.text(max_size=80),
)


#: The strategies the row strategies draw from, made once: a strategy made anew at each draw
#: is checked anew each time. The same strategies drawn in the same order give the same files.
_ROWS = st.integers(min_value=1, max_value=4)
_LOAN_HOSTILE_COLUMNS = st.sets(st.sampled_from([*LOAN_COLUMNS, *LOAN_OPTIONAL]), max_size=4)
_PAYMENT_HOSTILE_COLUMNS = st.sets(
    st.sampled_from([*PAYMENT_COLUMNS, *PAYMENT_OPTIONAL]), max_size=3
)


@st.composite
def loan_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    rows = []
    for n in range(draw(_ROWS)):
        row = {column: "" for column in (*LOAN_COLUMNS, *LOAN_OPTIONAL)} | loan_row(n)
        for column in draw(_LOAN_HOSTILE_COLUMNS):
            row[column] = draw(hostile)
        rows.append(row)
    return rows


@st.composite
def payment_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    rows = []
    for n in range(draw(_ROWS)):
        row = {"reverses": ""} | payment_row(f"P{n}", loan_ref="L1")
        for column in draw(_PAYMENT_HOSTILE_COLUMNS):
            row[column] = draw(hostile)
        rows.append(row)
    return rows


def write(path: Path, rows: list[dict[str, str]], form: str) -> Path:
    """``rows`` as a file of ``form``: ``utf8`` or ``gbk`` CSV (GBK falls back to UTF-8 for a
    row GBK cannot encode, as Excel would not have written it), or ``parquet``."""
    if form == "parquet":
        target = path.with_suffix(".parquet")
        pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String)).write_parquet(target)
        return target
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    target = path.with_suffix(".csv")
    try:
        data = buffer.getvalue().encode("gbk" if form == "gbk" else "utf-8")
    except UnicodeEncodeError:
        data = buffer.getvalue().encode("utf-8", errors="surrogatepass")
    target.write_bytes(data)
    return target


def import_or_refuse(kind: str, path: Path) -> None:
    """The only two outcomes allowed; the message of a refusal is short lines, never a dump."""
    try:
        import_file(kind, path)
    except ImportRejected as error:
        assert error.errors
        assert all(len(str(e)) < 1_000 for e in error.errors)


@FUZZ
@given(rows=loan_rows(), form=st.sampled_from(["utf8", "gbk", "parquet"]))
def test_any_loans_file_is_applied_or_refused(tmp_path: Path, rows, form) -> None:
    import_or_refuse("loans", write(tmp_path / "loans", rows, form))


@FUZZ
@given(rows=payment_rows(), form=st.sampled_from(["utf8", "gbk", "parquet"]))
def test_any_payments_file_is_applied_or_refused(tmp_path: Path, rows, form) -> None:
    if not (tmp_path / "seed.csv").exists():
        run("loans", write_csv(tmp_path / "seed.csv", [loan_row(1)]))
    import_or_refuse("payments", write(tmp_path / "payments", rows, form))


@FUZZ
@given(data=st.binary(max_size=2_000), suffix=st.sampled_from([".csv", ".parquet"]))
def test_any_bytes_are_applied_or_refused(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"file{suffix}"
    path.write_bytes(data)
    import_or_refuse("loans", path)


@FUZZ
@given(body=st.text(max_size=300))
def test_any_text_after_a_valid_header_is_applied_or_refused(tmp_path: Path, body: str) -> None:
    path = tmp_path / "loans.csv"
    header = ",".join([*LOAN_COLUMNS, *LOAN_OPTIONAL])
    path.write_bytes(f"{header}\n{body}".encode("utf-8", errors="surrogatepass"))
    import_or_refuse("loans", path)
