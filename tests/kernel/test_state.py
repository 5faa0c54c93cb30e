"""The loan state as a pure function of history: hand-checked numbers and properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.kernel.errors import InvalidDate
from arrears.kernel.state import InstalmentStatus, state
from arrears.kernel.terms import (
    PRINCIPAL_FIRST,
    AccrualRounding,
    Component,
    Payment,
    ProductTerms,
)
from tests.kernel.factories import make_loan

START = date(2026, 1, 15)
FIRST_DUE = date(2026, 2, 15)
PENALTY_RATE = Decimal("0.0005") * Decimal("1.5")  # 0.075 % a day


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_penalty_for_one_instalment_ten_days_overdue_is_ten_days_of_the_rounded_daily_amount():
    loan = make_loan()
    overdue_principal = loan.schedule[0].principal  # 83,333 fen = 833.33
    s = state(loan, [], FIRST_DUE + timedelta(days=10))
    expected = 10 * half_up(overdue_principal * PENALTY_RATE)
    assert s.penalty_outstanding == expected == 620
    assert s.dpd == 10
    assert s.bucket == "M1"
    assert s.overdue_principal == overdue_principal
    [period] = s.instalments[0].penalty_periods
    assert (period.days, period.base, period.rate, period.amount) == (
        10,
        overdue_principal,
        PENALTY_RATE,
        expected,
    )


def test_period_rounding_rounds_the_whole_run_once():
    loan = make_loan(product=ProductTerms(accrual_rounding=AccrualRounding.PERIOD))
    s = state(loan, [], FIRST_DUE + timedelta(days=10))
    assert s.penalty_outstanding == half_up(10 * loan.schedule[0].principal * PENALTY_RATE) == 625


def test_due_today_is_not_past_due_and_accrues_nothing():
    s = state(make_loan(), [], FIRST_DUE)
    assert s.dpd == 0
    assert s.penalty_outstanding == 0
    assert s.total_due == make_loan().schedule[0].total
    assert s.instalments[0].status is InstalmentStatus.DUE


def test_a_payment_goes_penalty_then_interest_then_principal_by_default():
    loan = make_loan()
    day = FIRST_DUE + timedelta(days=10)
    s = state(loan, [Payment("P1", day, 10_000)], day)
    inst = s.instalments[0]
    assert inst.penalty_paid == 620
    assert inst.interest_paid == 10_000 - 620
    assert inst.principal_paid == 0
    # the base did not change, so penalty keeps accruing on the whole principal
    later = state(loan, [Payment("P1", day, 10_000)], day + timedelta(days=1))
    assert later.instalments[0].penalty == 620 + 62


def test_principal_first_reduces_the_penalty_base():
    loan = make_loan(product=ProductTerms(allocation_order=PRINCIPAL_FIRST))
    day = FIRST_DUE + timedelta(days=10)
    payments = [Payment("P1", day, 50_000)]
    s = state(loan, payments, day + timedelta(days=1))
    inst = s.instalments[0]
    assert inst.principal_paid == 50_000
    assert inst.penalty == 620 + half_up((83_333 - 50_000) * PENALTY_RATE)


def test_paying_the_whole_instalment_stops_the_penalty_and_cures():
    loan = make_loan()
    day = FIRST_DUE + timedelta(days=5)
    owed = state(loan, [], day).total_due
    s = state(loan, [Payment("P1", day, owed)], day + timedelta(days=20))
    assert s.dpd == 0
    assert s.instalments[0].status is InstalmentStatus.PAID
    assert s.instalments[0].penalty == 5 * half_up(83_333 * PENALTY_RATE)
    assert s.instalments[0].paid_on == day


def test_overpayment_becomes_credit_and_pays_the_next_instalment_on_its_due_date():
    loan = make_loan()
    first_total = loan.schedule[0].total
    pay = Payment("P1", FIRST_DUE, first_total + 40_000)
    s = state(loan, [pay], FIRST_DUE)
    assert s.credit == 40_000
    nxt = state(loan, [pay], loan.schedule[1].due_date)
    assert nxt.credit == 0
    assert nxt.instalments[1].interest_paid == loan.schedule[1].interest
    assert nxt.instalments[1].principal_paid == 40_000 - loan.schedule[1].interest


def test_grace_paid_within_grace_owes_no_penalty():
    loan = make_loan(product=ProductTerms(grace_days=3, grace_retroactive=True))
    owed = loan.schedule[0].total
    pay_day = FIRST_DUE + timedelta(days=3)
    s = state(loan, [Payment("P1", pay_day, owed)], pay_day + timedelta(days=10))
    assert s.instalments[0].penalty == 0
    assert s.dpd == 0


def test_retroactive_grace_charges_the_grace_days_once_grace_is_missed():
    daily = half_up(83_333 * PENALTY_RATE)
    retro = make_loan(product=ProductTerms(grace_days=3, grace_retroactive=True))
    plain = make_loan(product=ProductTerms(grace_days=3, grace_retroactive=False))
    inside = FIRST_DUE + timedelta(days=3)
    assert state(retro, [], inside).penalty_outstanding == 0
    assert state(retro, [], inside).instalments[0].grace_penalty_pending == 3 * daily
    after = FIRST_DUE + timedelta(days=10)
    assert state(retro, [], after).penalty_outstanding == 10 * daily
    assert state(plain, [], after).penalty_outstanding == 7 * daily
    assert state(plain, [], after).dpd == 10  # grace never changes DPD


def test_compound_interest_accrues_on_overdue_interest_only_when_enabled():
    day = FIRST_DUE + timedelta(days=10)
    with_compound = state(make_loan(product=ProductTerms(compound=True)), [], day)
    without = state(make_loan(), [], day)
    assert without.compound_outstanding == 0
    assert with_compound.compound_outstanding == 10 * half_up(15_000 * PENALTY_RATE)
    assert with_compound.penalty_outstanding == without.penalty_outstanding


def test_cost_cap_lets_penalty_accrue_only_while_total_cost_stays_within_it():
    """Contractual interest is never cut; penalty may only grow on a day when contractual
    interest due so far plus penalty stays within the pro-rated annual cap (truncated)."""
    cap = Decimal("0.24")
    loan = make_loan(product=ProductTerms(cost_cap_annual=cap), daily_rate=Decimal("0.001"))
    for days in range(1, 400, 9):
        day = FIRST_DUE + timedelta(days=days)
        before, after = state(loan, [], day - timedelta(days=1)), state(loan, [], day)
        contractual = sum(i.interest for i in after.instalments if i.due_date <= day)
        allowed = int(1_000_000 * cap * (day - START).days / 365)
        if after.penalty_accrued > before.penalty_accrued:
            assert contractual + after.penalty_accrued <= allowed
    uncapped = make_loan(daily_rate=Decimal("0.001"))
    far = FIRST_DUE + timedelta(days=400)
    assert 0 < state(loan, [], far).penalty_accrued < state(uncapped, [], far).penalty_accrued


def test_as_of_before_the_start_is_an_error():
    with pytest.raises(InvalidDate):
        state(make_loan(), [], START - timedelta(days=1))


def test_paying_the_payoff_before_the_first_due_date_charges_interest_for_days_used():
    loan = make_loan()
    day = START + timedelta(days=10)
    s = state(loan, [], day)
    assert s.accrued_interest == half_up(1_000_000 * Decimal("0.0005") * 10)
    assert s.payoff == 1_000_000 + s.accrued_interest
    settled = state(loan, [Payment("P1", day, s.payoff)], day + timedelta(days=90))
    assert settled.settled_on == day
    assert settled.payoff == 0 and settled.dpd == 0 and settled.closed


# --- properties ---------------------------------------------------------------------------

products = st.builds(
    ProductTerms,
    penalty_multiplier=st.sampled_from([Decimal("1.5"), Decimal("1.3"), Decimal("0")]),
    compound=st.booleans(),
    grace_days=st.integers(0, 3),
    grace_retroactive=st.booleans(),
    cost_cap_annual=st.sampled_from([None, None, Decimal("0.24")]),
    accrual_rounding=st.sampled_from(list(AccrualRounding)),
    allocation_order=st.sampled_from([ProductTerms().allocation_order, PRINCIPAL_FIRST]),
    tolerance=st.sampled_from([0, 0, 100]),
)


@st.composite
def loans_and_payments(draw):
    term = draw(st.integers(1, 6))
    principal = draw(st.integers(term * 100, 5_000_000))
    start = draw(st.dates(date(2023, 1, 1), date(2027, 12, 31)))
    loan = make_loan(
        principal=principal,
        term=term,
        start=start,
        interest_each=draw(st.integers(0, principal // 10)),
        daily_rate=draw(st.sampled_from([Decimal("0.0002"), Decimal("0.0005"), Decimal("0.001")])),
        product=draw(products),
    )
    horizon = loan.schedule[-1].due_date + timedelta(days=60)
    span = (horizon - start).days
    payments = [
        Payment(
            f"P{i}",
            start + timedelta(days=draw(st.integers(0, span))),
            draw(st.integers(1, principal // 2 + 1)),
        )
        for i in range(draw(st.integers(0, 5)))
    ]
    as_of = start + timedelta(days=draw(st.integers(0, span)))
    return loan, payments, as_of


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(loans_and_payments(), st.randoms())
def test_payment_order_given_does_not_matter(case, rnd):
    loan, payments, as_of = case
    shuffled = list(payments)
    rnd.shuffle(shuffled)
    assert state(loan, shuffled, as_of) == state(loan, payments, as_of)


@FAST
@given(loans_and_payments(), st.data())
def test_reversing_a_payment_restores_the_state_without_it(case, data):
    loan, payments, as_of = case
    extra_day = data.draw(st.dates(loan.start, as_of))
    extra = Payment("X", extra_day, data.draw(st.integers(1, loan.principal)))
    reversed_on = data.draw(st.dates(extra_day, as_of))
    with_reversal = [*payments, replace(extra, reversed_on=reversed_on)]
    assert state(loan, with_reversal, as_of) == state(loan, payments, as_of)


@FAST
@given(loans_and_payments())
def test_a_back_dated_payment_equals_replaying_from_scratch(case):
    loan, payments, as_of = case
    if not payments:
        return
    *known, late = sorted(payments, key=lambda p: p.value_date)
    # yesterday's view did not know the back-dated payment; today's replay includes it
    before = state(loan, known, as_of)
    after = state(loan, [late, *known], as_of)
    assert after == state(loan, sorted(payments, key=lambda p: p.ref), as_of)
    assert after.paid_total == before.paid_total + (late.amount if late.value_date <= as_of else 0)


@FAST
@given(loans_and_payments())
def test_every_fen_paid_is_accounted_for(case):
    loan, payments, as_of = case
    s = state(loan, payments, as_of)
    applied = sum(
        i.principal_paid + i.interest_paid + i.penalty_paid + i.compound_paid for i in s.instalments
    )
    assert (
        applied + s.credit
        == s.paid_total
        == sum(p.amount for p in payments if p.value_date <= as_of)
    )
    for app in s.applications:
        assert sum(line.amount for line in app.lines) + app.to_credit == app.amount
    assert all(line.component in Component for app in s.applications for line in app.lines)


@FAST
@given(loans_and_payments())
def test_without_payments_penalty_never_decreases_and_dpd_grows_by_one_a_day(case):
    loan, _, as_of = case
    previous = state(loan, [], as_of)
    for _ in range(5):
        as_of += timedelta(days=1)
        current = state(loan, [], as_of)
        assert current.penalty_accrued >= previous.penalty_accrued
        assert current.compound_accrued >= previous.compound_accrued
        if previous.dpd > 0:
            assert current.dpd == previous.dpd + 1
        previous = current


@FAST
@given(loans_and_payments())
def test_paying_the_quoted_payoff_leaves_nothing_owed_that_day(case):
    loan, payments, as_of = case
    quote = state(loan, payments, as_of)
    if quote.payoff == 0:
        return
    paid = state(loan, [*payments, Payment("PAYOFF", as_of, quote.payoff)], as_of)
    assert paid.payoff == 0
    assert paid.total_due == 0
    assert paid.principal_outstanding == 0
    assert paid.dpd == 0
    assert paid.credit == 0


def test_the_next_due_date_is_the_first_instalment_due_from_today_that_still_owes() -> None:
    """``next_due_on`` (what the pre-due horizon reads): the first instalment due on or after
    as_of with anything left to pay — today's own while it is unpaid, the one after once the
    next is paid early, none when every instalment is paid or the schedule has ended."""
    loan = make_loan(term=3, interest_each=0, principal=300_000)  # 2026-02-15, 03-15, 04-15
    assert state(loan, [], date(2026, 2, 1)).next_due_on == date(2026, 2, 15)
    assert state(loan, [], date(2026, 2, 15)).next_due_on == date(2026, 2, 15)
    paid_first = [Payment("P1", date(2026, 2, 15), 100_000)]
    assert state(loan, paid_first, date(2026, 2, 15)).next_due_on == date(2026, 3, 15)
    early = [Payment("P1", date(2026, 2, 1), 100_000)]  # credit until it falls due
    assert state(loan, early, date(2026, 2, 20)).next_due_on == date(2026, 3, 15)
    overdue = state(loan, [], date(2026, 3, 20))  # the February one is past due, not next
    assert (overdue.dpd, overdue.next_due_on) == (33, date(2026, 4, 15))
    assert state(loan, [], date(2026, 4, 16)).next_due_on is None
    settled = [Payment("P1", date(2026, 2, 15), 300_000)]
    assert state(loan, settled, date(2026, 2, 15)).next_due_on is None
