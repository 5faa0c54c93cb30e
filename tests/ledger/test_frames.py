"""``ledger.frames``: the ledger as the snapshot format's frames, exactly the values the ORM's
selectors give the kernel, in the format's order and types."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.engine.chunk import kernel_terms, product_terms
from arrears.engine.snapshot import TABLES, empty_frame
from arrears.ledger import models, selectors, services
from arrears.ledger.frames import frame_counts, iter_frames, read_frames
from tests import factories
from tests.ledger.books import concession_book

pytestmark = pytest.mark.django_db


def test_an_empty_book_is_seven_empty_frames_of_the_formats_types() -> None:
    frames = read_frames()
    for name in TABLES:
        assert_frame_equal(frames.tables[name], empty_frame(name))
    assert list(iter_frames()) == []


def test_a_loan_without_payments_and_with_nulls_reads_exactly() -> None:
    product = factories.product()  # no cost cap: a null decimal
    loan = factories.loan("L-QUIET", factories.borrower(), product, term=3)
    frames = read_frames()
    assert frame_counts(frames) == {
        "products": 1,
        "loans": 1,
        "instalments": 3,
        "payments": 0,
        "waivers": 0,
        "plans": 0,
        "plan_instalments": 0,
    }
    for name, frame in frames.tables.items():
        assert frame.schema == empty_frame(name).schema, name
    row = frames.products.row(0, named=True)
    assert row["cost_cap_annual"] is None
    assert row["penalty_multiplier"] == product.penalty_multiplier
    assert row["compound"] is False
    loan_row = frames.loans.row(0, named=True)
    assert (loan_row["ref"], loan_row["start_date"], loan_row["rate_value"]) == (
        "L-QUIET",
        loan.start_date,
        loan.rate_value,
    )
    assert frames.instalments["due_date"].to_list() == [i.due_date for i in loan.instalments]


def test_a_reversed_payment_keeps_its_date_and_refs_sort_by_bytes() -> None:
    loan = factories.loan("L-PAID", factories.borrower(), factories.product())
    day = loan.instalments[0].due_date
    for ref in ("p-1", "P-2"):
        services.record_payment(
            loan=loan, ref=ref, value_date=day, amount_minor=10_000, currency="CNY"
        )
    bounced = models.Payment.objects.get(ref="p-1")
    services.reverse_payment(
        payment=bounced, reversed_on=date(2026, 3, 1), reversal_ref="R-1", reason="NSF"
    )
    payments = read_frames().payments
    assert payments["ref"].to_list() == ["P-2", "p-1"]  # "P" < "p" in byte order
    assert payments["reversed_on"].to_list() == [None, date(2026, 3, 1)]


def test_the_frames_are_the_kernel_values_the_selectors_give() -> None:
    book = concession_book(loans=14)
    frames = read_frames()
    entries = kernel_terms(
        frames.loans,
        frames.instalments,
        frames.payments,
        product_terms(frames.products),
        **frames.concessions,
    )
    by_id = {entry.loan_id: entry for entry in selectors.portfolio_entries(models.Loan.objects)}
    assert sorted(entries) == sorted(loan.id for loan in book)
    for loan_id, entry in entries.items():
        expected = by_id[loan_id]
        assert (entry.ref, entry.terms, entry.payments) == (
            expected.ref,
            expected.terms,
            expected.payments,
        )
        assert entry.waivers == expected.waivers
        assert entry.plans == expected.plans


def test_a_selection_and_its_chunks_read_the_same_rows() -> None:
    concession_book(loans=14)
    chosen = models.Loan.objects.filter(ref__in=["G-000", "G-005", "G-007", "G-011"])
    some = read_frames(chosen)
    assert sorted(some.loans["ref"].to_list()) == ["G-000", "G-005", "G-007", "G-011"]
    ids = some.loans["loan_id"].implode()
    whole = read_frames()
    for name in TABLES[1:]:
        assert_frame_equal(
            some.tables[name], whole.tables[name].filter(pl.col("loan_id").is_in(ids))
        )
    chunks = list(iter_frames(None, 4))
    assert [len(c.loans) for c in chunks] == [4, 4, 4, 2]
    for name in TABLES[1:]:
        assert_frame_equal(pl.concat([c.tables[name] for c in chunks]), whole.tables[name])
    in_range = read_frames(low=int(whole.loans["loan_id"][3]), high=int(whole.loans["loan_id"][6]))
    assert in_range.loans["ref"].to_list() == ["G-003", "G-004", "G-005"]
    assert set(in_range.plans["ref"].to_list()) == {"PL-ACTIVE"}
