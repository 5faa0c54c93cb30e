"""Snapshot-shaped frames through the engine give the kernel's numbers and buckets."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.engine.batch import run
from arrears.engine.frames import batch_from_frames, results_frame
from arrears.kernel.state import state
from arrears.kernel.terms import InterestRate, LoanTerms, Payment, ProductTerms, RateBasis
from tests.kernel.test_state import loans_and_payments

DEC_RATE = pl.Decimal(20, 12)


def frames(book: list[tuple[LoanTerms, list[Payment]]]):
    """The four snapshot frames for a book of kernel loans (one product row per loan)."""
    products, loans, instalments, payments = [], [], [], []
    for loan_id, (loan, history) in enumerate(book, start=1):
        p: ProductTerms = loan.product
        products.append(
            {
                "product_id": loan_id,
                "code": f"P{loan_id}",
                "version": 1,
                "penalty_multiplier": p.penalty_multiplier,
                "compound": p.compound,
                "grace_days": p.grace_days,
                "grace_retroactive": p.grace_retroactive,
                "cost_cap_annual": p.cost_cap_annual,
                "rounding": p.rounding.value,
                "accrual_rounding": p.accrual_rounding.value,
                "allocation_order": ",".join(c.value for c in p.allocation_order),
                "tolerance_minor": p.tolerance,
                "buckets": json.dumps(
                    [
                        {"name": b.name, "min_dpd": b.min_dpd, "max_dpd": b.max_dpd}
                        for b in p.buckets
                    ]
                ),
            }
        )
        loans.append(
            {
                "loan_id": loan_id,
                "ref": loan.ref,
                "product_id": loan_id,
                "currency": loan.currency,
                "principal_minor": loan.principal,
                "rate_value": loan.rate.value,
                "rate_basis": loan.rate.basis.value,
                "day_count": loan.day_count.value,
                "start_date": loan.start,
            }
        )
        for i in loan.schedule:
            instalments.append(
                {
                    "loan_id": loan_id,
                    "seq": i.seq,
                    "due_date": i.due_date,
                    "principal_minor": i.principal,
                    "interest_minor": i.interest,
                    "period_start": i.period_start,
                    "period_end": i.period_end,
                }
            )
        for pay in history:
            payments.append(
                {
                    "loan_id": loan_id,
                    "ref": pay.ref,
                    "value_date": pay.value_date,
                    "amount_minor": pay.amount,
                    "reversed_on": pay.reversed_on,
                }
            )
    return (
        pl.DataFrame(
            products,
            schema_overrides={
                "penalty_multiplier": pl.Decimal(12, 6),
                "cost_cap_annual": pl.Decimal(12, 6),
            },
        ),
        pl.DataFrame(loans, schema_overrides={"rate_value": DEC_RATE}),
        pl.DataFrame(instalments),
        pl.DataFrame(
            payments,
            schema={
                "loan_id": pl.Int64,
                "ref": pl.String,
                "value_date": pl.Date,
                "amount_minor": pl.Int64,
                "reversed_on": pl.Date,
            },
        ),
    )


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(loans_and_payments(), min_size=1, max_size=5), st.booleans())
def test_frames_through_the_engine_match_the_kernel(cases, annual):
    as_of = max(a for _, _, a in cases)
    book = []
    for n, (loan, payments, _) in enumerate(cases):
        if annual:  # annual rates exercise the named daily-rate rounding on both sides
            loan = LoanTerms(
                loan.ref + str(n),
                loan.currency,
                loan.principal,
                loan.start,
                InterestRate(Decimal("0.1825"), RateBasis.ANNUAL),
                loan.day_count,
                loan.schedule,
                loan.product,
            )
        book.append((loan, payments))
    batch, order, terms = batch_from_frames(*frames(book), as_of)
    result = results_frame(order, run(batch, as_of), as_of, terms)
    for row, (loan, payments) in zip(result.iter_rows(named=True), book, strict=True):
        s = state(loan, payments, as_of)
        assert not row["fallback"]
        assert (
            row["dpd"],
            row["bucket"],
            row["penalty_outstanding"],
            row["total_due"],
            row["payoff"],
            row["credit"],
            row["settled_on"],
        ) == (s.dpd, s.bucket, s.penalty_outstanding, s.total_due, s.payoff, s.credit, s.settled_on)


def test_reversed_and_future_payments_are_left_out_by_date():
    from tests.kernel.factories import make_loan

    loan = make_loan()
    due = loan.schedule[0].due_date
    history = [
        Payment("A", due, 50_000, reversed_on=due + timedelta(days=3)),
        Payment("B", due + timedelta(days=20), 98_333),
    ]
    for as_of in (due + timedelta(days=1), due + timedelta(days=5), due + timedelta(days=25)):
        batch, order, terms = batch_from_frames(*frames([(loan, history)]), as_of)
        [row] = results_frame(order, run(batch, as_of), as_of, terms).iter_rows(named=True)
        s = state(loan, history, as_of)
        assert (row["dpd"], row["total_due"], row["paid_total"]) == (
            s.dpd,
            s.total_due,
            s.paid_total,
        )
    assert date(2026, 2, 15) == due


def test_the_snapshot_readers_frames_give_the_same_batch_as_unchecked_frames():
    """``validated=True`` skips the sorts and ownership checks the reader has already done,
    but not the due-date order within a loan (a snapshot is sorted by seq): a schedule whose
    due dates fall within a loan is replayed in due-date order either way."""
    import numpy as np

    from tests.kernel.factories import make_loan

    book = []
    for n in range(4):
        loan = make_loan(ref=f"V{n}", principal=100_000 * (n + 1))
        history = [Payment(f"V{n}-P", loan.schedule[0].due_date, loan.schedule[0].total)]
        book.append((loan, history))
    products, loans, instalments, payments = frames(book)
    # Loan 2's first two instalments swap due dates: seq order is no longer due-date order.
    dues = instalments["due_date"].to_list()
    first = instalments["loan_id"].to_list().index(2)
    dues[first], dues[first + 1] = dues[first + 1], dues[first]
    instalments = instalments.with_columns(pl.Series("due_date", dues))
    as_of = max(loan.schedule[-1].due_date for loan, _ in book)
    checked, _, _ = batch_from_frames(products, loans, instalments, payments, as_of)
    trusted, _, _ = batch_from_frames(products, loans, instalments, payments, as_of, validated=True)
    for name in ("inst_off", "due", "pstart", "iprincipal", "pay_off", "pvalue", "dnum", "order"):
        assert np.array_equal(getattr(checked, name), getattr(trusted, name)), name
    assert np.array_equal(run(checked, as_of), run(trusted, as_of))
    assert np.all(np.diff(trusted.due[trusted.inst_off[1] : trusted.inst_off[2]]) >= 0)
