"""The compiled replay agrees with the reference kernel to the fen, on every field."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.calendars import by_name
from arrears.engine import replay
from arrears.engine.batch import RESULT_COLUMNS, day_number, fraction, from_kernel, run
from arrears.kernel.calendar import BusinessDayConvention
from arrears.kernel.schedule import build_schedule
from arrears.kernel.state import LoanState, state
from arrears.kernel.terms import (
    DayCount,
    InterestRate,
    LoanTerms,
    Payment,
    ProductTerms,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)
from tests.kernel.factories import make_loan
from tests.kernel.test_plans import _small_capped_loan
from tests.kernel.test_state import loans_and_payments


def expected(s: LoanState) -> dict[str, int]:
    return {
        "dpd": s.dpd,
        "overdue_principal": s.overdue_principal,
        "overdue_interest": s.overdue_interest,
        "penalty_outstanding": s.penalty_outstanding,
        "compound_outstanding": s.compound_outstanding,
        "total_due": s.total_due,
        "principal_outstanding": s.principal_outstanding,
        "accrued_interest": s.accrued_interest,
        "payoff": s.payoff,
        "credit": s.credit,
        "penalty_accrued": s.penalty_accrued,
        "compound_accrued": s.compound_accrued,
        "paid_total": s.paid_total,
        "settled_on": replay.NO_DATE if s.settled_on is None else day_number(s.settled_on),
        "next_due_on": replay.NO_DATE if s.next_due_on is None else day_number(s.next_due_on),
        "status": replay.OK,
    }


def engine_rows(cases, as_of: date) -> list[dict[str, int]]:
    results = run(from_kernel(cases, as_of), as_of)
    return [dict(zip(RESULT_COLUMNS, (int(v) for v in row), strict=True)) for row in results]


def test_fraction_is_exact_and_reduced():
    assert fraction(Decimal("0.00075")) == (3, 4000)
    assert fraction(Decimal("0.0005")) == (1, 2000)
    assert fraction(Decimal("1.5")) == (3, 2)
    assert fraction(Decimal("0")) == (0, 1)
    assert fraction(Decimal("24")) == (24, 1)


def test_the_hand_checked_penalty_comes_out_of_the_engine_too():
    as_of = date(2026, 2, 25)
    [row] = engine_rows([(make_loan(), [])], as_of)
    assert (row["dpd"], row["penalty_outstanding"]) == (10, 620)


AGREE = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.slow
@AGREE
@given(st.lists(loans_and_payments(), min_size=1, max_size=6), st.data())
def test_engine_equals_kernel_on_generated_portfolios(cases, data):
    """Several loans (different products, grace, compound, caps, tolerances, rounding rules,
    allocation orders, partial, early and back-dated payments) replayed in one batch."""
    as_of = max(as_of for _, _, as_of in cases)
    as_of += timedelta(days=data.draw(st.integers(0, 40)))
    book = [(loan, payments) for loan, payments, _ in cases]
    assert engine_rows(book, as_of) == [expected(state(loan, p, as_of)) for loan, p in book]


@pytest.mark.slow
@AGREE
@given(loans_and_payments(), st.data())
def test_engine_equals_kernel_with_reversals_and_same_day_payments(case, data):
    loan, payments, as_of = case
    extra = []
    for i in range(data.draw(st.integers(0, 3))):
        day = data.draw(st.dates(loan.start, as_of))
        extra.append(Payment(f"S{i}", day, data.draw(st.integers(1, loan.principal))))
        if data.draw(st.booleans()):
            extra.append(Payment(f"T{i}", day, data.draw(st.integers(1, 50_000))))
    reversed_ = [
        Payment(p.ref + "R", p.value_date, p.amount, reversed_on=data.draw(st.dates(p.value_date)))
        for p in payments[:2]
    ]
    history = [*payments, *extra, *reversed_]
    [row] = engine_rows([(loan, history)], as_of)
    assert row == expected(state(loan, history, as_of))


def test_a_loan_too_large_for_int64_is_handed_back_to_the_kernel():
    huge = make_loan(principal=4 * 10**18 // 1000 * 1000, interest_each=0)
    [row] = engine_rows([(huge, [])], date(2026, 3, 1))
    assert row["status"] == replay.FALLBACK


@pytest.mark.parametrize("field", ["dden", "pden", "cap_den"])
def test_a_divisor_the_compiled_arithmetic_cannot_take_is_handed_back_to_the_kernel(
    field: str,
) -> None:
    """The replay divides without a zero test (NumPy's error model): a rate denominator that
    is not positive never reaches a division there — the loan goes to the kernel, and the
    other loans of the batch are replayed as before."""
    as_of = date(2026, 3, 1)
    batch = from_kernel([(make_loan(), []), (make_loan(), [])], as_of)
    before = run(batch, as_of)
    getattr(batch, field)[0] = 0 if field != "cap_den" else -1
    after = run(batch, as_of)
    assert after[0][RESULT_COLUMNS.index("status")] == replay.FALLBACK
    assert after[1].tolist() == before[1].tolist()
    assert before[1][RESULT_COLUMNS.index("status")] == replay.OK


def test_period_under_a_cap_keeps_the_running_total_exact_in_the_engine_too():
    """The kernel's regression ``test_a_plan_under_a_binding_cost_cap_adds_no_fen`` (no plans:
    the engine replays loans without concessions): 17.383 fen clamped and rounded once."""
    loan = _small_capped_loan()
    as_of = date(2024, 3, 7)
    [row] = engine_rows([(loan, [])], as_of)
    assert row == expected(state(loan, [], as_of))
    assert (row["penalty_accrued"], row["compound_accrued"], row["status"]) == (17, 0, replay.OK)


def test_a_running_total_too_large_for_int64_is_handed_back_to_the_kernel():
    """The running total is a numerator over the rate's denominator: 10¹⁷ fen × 3 (0.075 % is
    3/4000) × 60 days does not fit in int64, though the base times the rate does."""
    product = ProductTerms(cost_cap_annual=Decimal("0.24"), accrual_rounding="period")  # type: ignore[arg-type]
    big = make_loan(principal=10**17, interest_each=0, product=product)
    as_of = date(2026, 4, 15)
    [row] = engine_rows([(big, [])], as_of)
    assert row["status"] == replay.FALLBACK
    [small] = engine_rows([(make_loan(product=product), [])], as_of)
    assert small["status"] == replay.OK


def test_capped_and_period_products_agree_over_a_long_delinquency():
    products = [
        ProductTerms(cost_cap_annual=Decimal("0.24"), compound=True),
        ProductTerms(
            accrual_rounding="period",
            compound=True,
            grace_days=3,  # type: ignore[arg-type]
            grace_retroactive=True,
        ),
        ProductTerms(  # period under a cap: the exact running total, rounded once
            cost_cap_annual=Decimal("0.24"),
            accrual_rounding="period",  # type: ignore[arg-type]
            compound=True,
            grace_days=3,
            grace_retroactive=True,
        ),
    ]
    book = [(make_loan(product=p, daily_rate=Decimal("0.001")), []) for p in products]
    for days in (10, 100, 400):
        as_of = date(2026, 2, 15) + timedelta(days=days)
        assert engine_rows(book, as_of) == [expected(state(loan, p, as_of)) for loan, p in book]


#: The strategies :func:`calendar_loans` draws from that depend on nothing drawn before, built
#: once: one built inside the draw is a new object each time, which Hypothesis validates anew.
_STARTS = st.sampled_from(
    [date(2025, 1, 31), date(2025, 8, 31), date(2025, 9, 30), date(2026, 1, 29), date(2025, 12, 31)]
)
_RATES = st.sampled_from(
    [
        InterestRate(Decimal("0.0005"), RateBasis.DAILY),
        InterestRate(Decimal("0.18"), RateBasis.ANNUAL),
    ]
)
_PRODUCTS = st.sampled_from([ProductTerms(), ProductTerms(grace_days=2, compound=True)])
_SHIFT = st.integers(-2, 2)
_CURRENCIES = st.sampled_from(["CNY", "USD", "JPY"])
_TERMS = st.integers(1, 12)
_PRINCIPALS = st.integers(50_000, 5_000_000)
_METHODS = st.sampled_from(list(ScheduleMethod))
_DAY_COUNTS = st.sampled_from(list(DayCount))
_CONVENTIONS = st.sampled_from(list(BusinessDayConvention))
_REFS = st.integers(0, 10**6)
_PAID_LATE = st.integers(-3, 20)
_PAID = st.booleans()


@st.composite
def calendar_loans(draw):
    """Loans whose schedules come from the real builder: China's holiday calendar with
    shifted due dates, month-end anchors, several currencies and methods."""
    start = draw(_STARTS)
    start += timedelta(days=draw(_SHIFT))
    currency = draw(_CURRENCIES)
    term = draw(_TERMS)
    terms = ScheduleTerms(
        principal=draw(_PRINCIPALS),
        currency=currency,
        rate=draw(_RATES),
        term=term,
        method=draw(_METHODS),
        start=start,
        day_count=draw(_DAY_COUNTS),
        calendar=by_name("cn", range(start.year, start.year + 3)),
        convention=draw(_CONVENTIONS),
    )
    schedule = build_schedule(terms)
    product = draw(_PRODUCTS)
    loan = LoanTerms(
        f"C{draw(_REFS)}",
        currency,
        terms.principal,
        start,
        terms.rate,
        terms.day_count,
        schedule,
        product,
    )
    payments = [
        Payment(
            f"P{k}",
            inst.due_date + timedelta(days=draw(_PAID_LATE)),
            draw(st.integers(1, inst.total + 1000)),
        )
        for k, inst in enumerate(schedule)
        if draw(_PAID)
    ]
    payments = [p for p in payments if p.value_date >= start]
    return loan, payments


@AGREE
@given(
    st.lists(calendar_loans(), min_size=1, max_size=4, unique_by=lambda c: c[0].ref),
    st.integers(0, 500),
)
@pytest.mark.slow
def test_engine_equals_kernel_with_holiday_shifted_month_end_schedules(book, offset):
    as_of = min(loan.start for loan, _ in book) + timedelta(days=offset)
    started = [(loan, p) for loan, p in book if loan.start <= as_of]
    if not started:
        return
    assert engine_rows(started, as_of) == [expected(state(loan, p, as_of)) for loan, p in started]
