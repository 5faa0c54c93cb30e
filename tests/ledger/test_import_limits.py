"""The ledger's limits at import (issue 14, defects 1, 2 and 9): every value outside them is
``row N, field F: reason`` and nothing is applied — the same on SQLite and PostgreSQL, since the
database never sees such a value — and a full or read-only disk is one clear line."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from arrears.kernel import limits
from arrears.ledger import models
from arrears.ledger.importers import ImportRejected, import_file, pipeline, writing
from tests.ledger.test_import import (  # noqa: F401 - ``product`` is an autouse fixture
    counts,
    loan_row,
    payment_row,
    product,
    rejected,
    run,
    write_csv,
)

pytestmark = pytest.mark.django_db

EMPTY = {"Borrower": 0, "Phone": 0, "Loan": 0, "Instalment": 0, "Payment": 0}


def refused(tmp_path: Path, rows: list[dict[str, str]], kind: str = "loans") -> str:
    return rejected(kind, write_csv(tmp_path / f"{kind}.csv", rows))


def line_of(message: str, row: int, field: str) -> str:
    """The one line of ``message`` about ``row`` and ``field`` (fails when there is none)."""
    [line] = [ln for ln in message.splitlines() if ln.startswith(f"row {row}, field {field}: ")]
    return line


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("principal", "92233720368547758.07", "is too large (at most 9999999999999 minor units"),
        ("principal", "92233720368547758070", "is too large"),
        ("principal", "100000000000.00", "is too large"),  # exactly 10^13 fen
        ("principal", "99999999999.999", "has more than 2 decimal places"),
        ("start_date", "0001-01-01", "is outside 1970-01-01..2199-12-31"),
        ("start_date", "9999-12-31", "is outside 1970-01-01..2199-12-31"),
        ("start_date", "1969-12-31", "is outside 1970-01-01..2199-12-31"),
        ("borrower_name", "张" * 100_000, "is longer than 200 characters"),
        ("borrower_name", "Li\x00Lei", "holds a control character"),
        ("loan_ref", "L\x001", "holds a control character"),
        ("loan_ref", "A/B", "may hold only letters, digits, '-', '_' and '.'"),
        ("loan_ref", "..", "may hold only letters, digits"),
        ("loan_ref", "L" * 65, "is longer than 64 characters"),
        ("borrower_ref", "B 1", "may hold only letters, digits"),
        ("rate", "0.05", "is above the sanity cap of 0.01 a day"),
    ],
)
def test_a_value_outside_the_limits_is_a_row_error_and_nothing_is_applied(
    tmp_path: Path, field: str, value: str, reason: str
) -> None:
    rows = [loan_row(1), loan_row(2, **{field: value})]
    message = refused(tmp_path, rows)
    assert reason in line_of(message, 3, field)
    assert counts() == EMPTY
    assert "Traceback" not in message and len(message) < 2_000  # a 100k name is not echoed


def test_an_annual_rate_is_capped_at_the_same_daily_rate(tmp_path: Path) -> None:
    rows = [loan_row(1, rate_basis="annual", rate="3.66")]
    assert "row 2, field rate: 3.66 is above the sanity cap of 3.65 a year" in refused(
        tmp_path, rows
    )
    assert "applied 1" in run(
        "loans", write_csv(tmp_path / "ok.csv", [loan_row(1, rate_basis="annual", rate="3.65")])
    )


def test_the_largest_amount_and_the_last_date_are_accepted(tmp_path: Path) -> None:
    rows = [loan_row(1, principal="99999999999.99", start_date="2199-01-01", term="6")]
    assert "applied 1" in run("loans", write_csv(tmp_path / "loans.csv", rows))
    assert models.Loan.objects.get().principal_minor == limits.MAX_AMOUNT_MINOR


def test_a_parquet_file_is_bounded_like_a_csv(tmp_path: Path) -> None:
    rows = [loan_row(1), loan_row(2, principal="92233720368547758.07", loan_ref="A/B")]
    pl.DataFrame(rows).write_parquet(tmp_path / "loans.parquet")
    message = rejected("loans", tmp_path / "loans.parquet")
    assert "row 3, field loan_ref: may hold only" in message
    assert "row 3, field principal: is too large" in message


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("amount", "92233720368547758.08", "is too large"),
        ("payment_ref", "P\x00", "holds a control character"),
        ("payment_ref", "P/1", "may hold only"),
        ("value_date", "9999-12-31", "is outside 1970-01-01..2199-12-31"),
    ],
)
def test_a_payment_outside_the_limits_is_a_row_error(
    tmp_path: Path, field: str, value: str, reason: str
) -> None:
    run("loans", write_csv(tmp_path / "loans.csv", [loan_row(1)]))
    rows = [payment_row("P1", loan_ref="L1"), payment_row("P2", loan_ref="L1", **{field: value})]
    assert reason in line_of(refused(tmp_path, rows, "payments"), 3, field)
    assert models.Payment.objects.count() == 0


def test_a_bad_last_row_is_refused_before_any_lookup_or_schedule(tmp_path: Path) -> None:
    """The vectorised bounds pass refuses the file without a query (and so without the
    lookups and schedules that make up most of an import's time)."""
    rows = [loan_row(n) for n in range(200)]
    rows[-1]["principal"] = "92233720368547758.07"
    path = write_csv(tmp_path / "loans.csv", rows)
    with CaptureQueriesContext(connection) as captured, pytest.raises(ImportRejected) as caught:
        import_file("loans", path)
    assert [str(e) for e in caught.value.errors] == [
        "row 201, field principal: is too large (at most 9999999999999 minor units, below 10^13)"
    ]
    assert captured.captured_queries == []


def test_every_field_error_is_still_reported_with_an_out_of_bounds_value(tmp_path: Path) -> None:
    rows = [loan_row(1, phone="not a phone"), loan_row(2, start_date="0001-01-01")]
    message = refused(tmp_path, rows)
    assert "row 2, field phone:" in message
    assert "row 3, field start_date:" in message


@pytest.mark.parametrize(
    "reason", ["database or disk is full", "attempt to write a readonly database"]
)
def test_a_full_or_read_only_disk_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reason: str
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise OperationalError(reason)

    monkeypatch.setattr(writing, "_insert_rows", fail)
    message = rejected("loans", write_csv(tmp_path / "loans.csv", [loan_row(1)]))
    assert message.endswith(
        f"file: the database could not store the file ({reason}); nothing was imported"
    )
    assert counts() == EMPTY


def test_an_excel_gbk_csv_is_decoded(tmp_path: Path) -> None:
    """Excel on a Chinese Windows saves "CSV" in GBK: the names arrive intact."""
    path = tmp_path / "loans.csv"
    write_csv(path, [loan_row(1, borrower_name="张三丰")])
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    assert "applied 1" in run("loans", path)
    assert models.Borrower.objects.get().name == "张三丰"


def test_bytes_that_are_no_text_encoding_are_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "loans.csv"
    path.write_bytes(b"loan_ref,borrower_ref\n\xff\xfe\x80\x81,\x80\n")
    message = rejected("loans", path)
    assert message.startswith("1 error(s)") or "row 1" in message
    assert "Traceback" not in message


def test_a_long_file_refused_by_the_bounds_pass_has_only_its_bad_rows_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``FULL_FIELD_PASS_ROWS`` the rows with a value out of bounds are parsed in full
    (every error of theirs, with their own row numbers) and the file says the rest waits."""
    monkeypatch.setattr(pipeline, "FULL_FIELD_PASS_ROWS", 3)
    rows = [loan_row(n) for n in range(6)]
    rows[1]["phone"] = "not a phone"  # not a limit: unchecked this time
    rows[4].update(principal="92233720368547758.07", locale="xx")
    with CaptureQueriesContext(connection) as captured, pytest.raises(ImportRejected) as caught:
        import_file("loans", write_csv(tmp_path / "loans.csv", rows))
    lines = [str(e) for e in caught.value.errors]
    assert lines[0].startswith("row 6, field locale: ")
    assert lines[1].startswith("row 6, field principal: is too large")
    assert lines[2] == (
        "file: only the 1 row(s) with a value outside the ledger's limits were checked in full "
        "(the file has 6 rows); fix them and import again to check the rest"
    )
    assert len(lines) == 3 and captured.captured_queries == []


def test_a_huge_unknown_column_name_is_not_echoed_whole(tmp_path: Path) -> None:
    path = tmp_path / "loans.csv"
    path.write_text("x" * 100_000 + ",loan_ref\n1,2\n")
    message = rejected("loans", path)
    assert f"row 1, field {'x' * 64}…: unknown column" in message
    assert len(message) < 5_000


def test_terms_the_kernel_refuses_are_asked_once_per_loan_and_each_row_gets_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loans alike but for the principal share their terms (made once); when the kernel refuses
    a key's terms (here: any loan starting on 2026-02-15), every loan of that key asks again
    with its own principal, once, and its row names the kernel's reason; nothing is written."""
    from arrears.kernel.errors import InvalidTerms
    from arrears.ledger.importers import loan_validation

    real = loan_validation.services.schedule_terms
    asked: list[int] = []

    def refusing(**kwargs: object) -> object:
        if str(kwargs["start_date"]) == "2026-02-15":
            asked.append(int(str(kwargs["principal_minor"])))
            raise InvalidTerms(f"no calendar for a loan of {kwargs['principal_minor']}")
        return real(**kwargs)

    monkeypatch.setattr(loan_validation.services, "schedule_terms", refusing)
    rows = [
        loan_row(1, start_date="2026-02-15", principal="100.00"),
        loan_row(2),
        loan_row(3, start_date="2026-02-15", principal="200.00"),
        loan_row(4),
    ]
    message = refused(tmp_path, rows)
    assert (
        line_of(message, 2, "schedule") == "row 2, field schedule: no calendar for a loan of 10000"
    )
    assert (
        line_of(message, 4, "schedule") == "row 4, field schedule: no calendar for a loan of 20000"
    )
    assert "row 3" not in message and "row 5" not in message
    assert asked == [10000, 20000]
    assert counts() == EMPTY
