"""``arrears import payments``: every row validated first, every error reported, all rows or
none, a second import of the same file changes nothing, and reversals by reference.

Every test imports into the same three loans of one borrower, built once for the module
(``tests/ledger/conftest.py``); each test's own rows roll back after it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from arrears.ledger import models
from arrears.ledger.importers import PAYMENT_COLUMNS
from tests.ledger.test_import import counts, payment_row, rejected, run, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def loans(shared_payment_loans: dict[str, int], db: None) -> dict[str, models.Loan]:
    """L1 and L2 in CNY and LJ in JPY, of one borrower, loaded afresh for the test."""
    found = models.Loan.objects.in_bulk(shared_payment_loans.values())
    return {ref: found[pk] for ref, pk in shared_payment_loans.items()}


def test_a_payments_file_records_every_payment(
    tmp_path: Path, loans: dict[str, models.Loan]
) -> None:
    rows = [
        payment_row("P1"),
        payment_row("P2", loan_ref="L2", value_date="2026-03-15", amount="0.01"),
        payment_row("P3", loan_ref="LJ", amount="5000", currency="JPY"),
    ]
    out = run("payments", write_csv(tmp_path / "pay.csv", rows))
    assert "applied 3, skipped 0" in out
    stored = {p.ref: p for p in models.Payment.objects.all()}
    assert (stored["P1"].loan.ref, stored["P1"].amount_minor, stored["P1"].value_date) == (
        "L1",
        100_000,
        date(2026, 2, 15),
    )
    assert stored["P2"].amount_minor == 1
    assert stored["P3"].amount_minor == 5000
    assert stored["P1"].source == "pay.csv"


def test_imported_payments_bump_each_paid_loan_and_later_payments_still_bump(
    tmp_path: Path, loans: dict[str, models.Loan]
) -> None:
    """SQLite's per-payment trigger is suspended for the bulk insert: every paid loan's
    revision still goes up (an unpaid one's does not), a refused file (its bad row last, in a
    later chunk when chunked) changes no revision, the trigger is back after either, and a
    payment recorded later bumps."""
    from arrears.daily.services import revision_triggers_present

    def revisions() -> dict[str, int]:
        return dict(models.Loan.objects.values_list("ref", "revision"))

    before = revisions()
    bad = [payment_row("P1"), payment_row("P2", loan_ref="L2"), payment_row("P3", amount="0")]
    rejected("payments", write_csv(tmp_path / "bad.csv", bad))
    assert revisions() == before
    assert revision_triggers_present()
    rows = [
        payment_row("P1"),
        payment_row("P2", value_date="2026-03-15"),
        payment_row("P3", loan_ref="L2"),
    ]
    run("payments", write_csv(tmp_path / "pay.csv", rows))
    after = revisions()
    assert after["L1"] > before["L1"] and after["L2"] > before["L2"]
    assert after["LJ"] == before["LJ"]
    assert revision_triggers_present()
    models.Payment.objects.create(
        ref="P9", loan=loans["L1"], value_date=date(2026, 4, 15), amount_minor=1, currency="CNY"
    )
    assert revisions()["L1"] > after["L1"]


def test_importing_the_same_payments_file_twice_changes_nothing(
    tmp_path: Path, loans: dict[str, models.Loan]
) -> None:
    rows = [payment_row(f"P{n}") for n in range(5)] + [payment_row("R0", reverses="P0")]
    path = write_csv(tmp_path / "pay.csv", rows)
    assert "applied 6, skipped 0" in run("payments", path)
    before = counts()
    reversed_before = list(models.Payment.objects.values_list("ref", "reversed_on", "reversal_ref"))
    assert "applied 0, skipped 6" in run("payments", path)
    assert counts() == before
    after = list(models.Payment.objects.values_list("ref", "reversed_on", "reversal_ref"))
    assert after == reversed_before
    assert models.ImportBatch.objects.filter(kind="payments").count() == 2


def test_a_reversal_row_reverses_a_stored_payment_from_its_date(
    tmp_path: Path, loans: dict[str, models.Loan]
) -> None:
    run("payments", write_csv(tmp_path / "a.csv", [payment_row("P1")]))
    reversal = payment_row("R1", value_date="2026-02-20", reverses="P1")
    assert "applied 1, skipped 0" in run("payments", write_csv(tmp_path / "b.csv", [reversal]))
    payment = models.Payment.objects.get(ref="P1")
    assert (payment.reversed_on, payment.reversal_ref) == (date(2026, 2, 20), "R1")
    assert payment.reversed_at is not None and payment.reversed_at >= payment.created_at
    assert models.Payment.objects.count() == 1  # a reversal is not a payment of its own
    assert "applied 0, skipped 1" in run("payments", tmp_path / "b.csv")


def test_a_payment_can_be_reversed_in_the_file_that_brings_it(
    tmp_path: Path, loans: dict[str, models.Loan]
) -> None:
    rows = [payment_row("R1", value_date="2026-02-16", reverses="P1"), payment_row("P1")]
    run("payments", write_csv(tmp_path / "pay.csv", rows))
    payment = models.Payment.objects.get(ref="P1")
    assert (payment.reversed_on, payment.reversal_ref) == (date(2026, 2, 16), "R1")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"loan_ref": "L9"}, "row 3, field loan_ref: loan L9 does not exist"),
        ({"value_date": "2026-02-30"}, "row 3, field value_date: '2026-02-30' is not a valid date"),
        (
            {"value_date": "2026-01-14"},
            "row 3, field value_date: 2026-01-14 is before loan L1 started",
        ),
        ({"amount": "-5.00"}, "row 3, field amount: -5.00 is negative"),
        ({"amount": "0"}, "row 3, field amount: 0 is zero"),
        (
            {"amount": "1.234"},
            "row 3, field amount: '1.234' has more than 2 decimal places for CNY",
        ),
        ({"amount": "12,00"}, "row 3, field amount: '12,00' is not a decimal number"),
        ({"currency": "USD"}, "row 3, field currency: USD does not match loan L1's currency CNY"),
        (
            {"loan_ref": "LJ", "amount": "10.5", "currency": "JPY"},
            "row 3, field amount: '10.5' has more than 0 decimal places for JPY",
        ),
        ({"payment_ref": "P1"}, "row 3, field payment_ref: P1 appears again (first on row 2)"),
        ({"payment_ref": ""}, "row 3, field payment_ref: is required"),
        ({"reverses": "P404"}, "row 3, field reverses: payment P404 does not exist"),
        (
            {"reverses": "P1", "amount": "999.99"},
            "row 3, field amount: must equal the amount of payment P1",
        ),
        (
            {"reverses": "P1", "value_date": "2026-02-14"},
            "row 3, field value_date: reversal date 2026-02-14 is before payment P1's value "
            "date 2026-02-15",
        ),
        (
            {"reverses": "P1", "loan_ref": "L2"},
            "row 3, field loan_ref: payment P1 belongs to loan L1",
        ),
        ({"reverses": "X"}, "row 3, field reverses: X cannot reverse itself"),
    ],
)
def test_one_bad_payment_row_among_good_ones_imports_nothing(
    tmp_path: Path, loans: dict[str, models.Loan], overrides: dict[str, str], expected: str
) -> None:
    rows = [payment_row("P1"), payment_row("X", **overrides), payment_row("P3")]
    before = counts()
    message = rejected("payments", write_csv(tmp_path / "pay.csv", rows))
    assert expected in message
    assert counts() == before
    assert not models.Payment.objects.exists()


def test_errors_name_the_row_a_spreadsheet_shows(
    tmp_path: Path, loans: dict[str, models.Loan]
) -> None:
    rows = [payment_row(f"P{n}") for n in range(2, 7)] + [payment_row("P7", amount="-5.00")]
    message = rejected("payments", write_csv(tmp_path / "pay.csv", rows))
    assert "row 7, field amount: -5.00 is negative" in message


def test_a_payment_already_stored_with_other_data_is_an_error(
    tmp_path: Path, loans: dict[str, models.Loan]
) -> None:
    run("payments", write_csv(tmp_path / "a.csv", [payment_row("P1")]))
    changed = [payment_row("P1", amount="1000.01", value_date="2026-02-16"), payment_row("P2")]
    message = rejected("payments", write_csv(tmp_path / "b.csv", changed))
    assert (
        "row 2, field payment_ref: payment P1 already exists with a different value_date, amount"
        in (message)
    )
    assert not models.Payment.objects.filter(ref="P2").exists()


def test_a_payment_reversed_already_cannot_be_reversed_again(
    tmp_path: Path, loans: dict[str, models.Loan]
) -> None:
    run(
        "payments",
        write_csv(tmp_path / "a.csv", [payment_row("P1"), payment_row("R1", reverses="P1")]),
    )
    message = rejected(
        "payments", write_csv(tmp_path / "b.csv", [payment_row("R2", reverses="P1")])
    )
    assert "row 2, field reverses: payment P1 was already reversed on 2026-02-15 by R1" in message


def test_a_reversal_reference_cannot_be_reused_as_a_payment(
    tmp_path: Path, loans: dict[str, models.Loan]
) -> None:
    run(
        "payments",
        write_csv(tmp_path / "a.csv", [payment_row("P1"), payment_row("R1", reverses="P1")]),
    )
    message = rejected("payments", write_csv(tmp_path / "b.csv", [payment_row("R1")]))
    assert (
        "row 2, field payment_ref: R1 is already the reference of the reversal of payment P1"
        in (message)
    )


def test_a_payments_file_needs_its_columns(tmp_path: Path, loans: dict[str, Any]) -> None:
    header = [c for c in PAYMENT_COLUMNS if c != "amount"]
    message = rejected("payments", write_csv(tmp_path / "p.csv", [payment_row("P1")], header))
    assert "row 1, field amount: required column is missing" in message


def test_payments_from_parquet(tmp_path: Path, loans: dict[str, models.Loan]) -> None:
    frame = pl.DataFrame([payment_row("P1"), payment_row("P2")]).with_columns(
        pl.col("value_date").str.to_date(), pl.col("amount").cast(pl.Decimal(12, 2))
    )
    frame.write_parquet(tmp_path / "pay.parquet")
    assert "applied 2, skipped 0" in run("payments", tmp_path / "pay.parquet")
    assert models.Payment.objects.get(ref="P2").amount_minor == 100_000
