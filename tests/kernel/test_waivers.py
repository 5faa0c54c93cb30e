"""Waivers (减免) in the replay: hand-checked numbers and properties.

The loan of ``make_loan()``: 12 instalments of 833.33 principal + 150.00 interest, the first due
2026-02-15; penalty 0.075 % a day on the overdue principal, 833.33 × 0.075 % = 0.62 a day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.kernel.allocation import AllocationLine
from arrears.kernel.errors import InvalidTerms
from arrears.kernel.explain import explain, render_text
from arrears.kernel.state import InstalmentStatus, LoanState, state
from arrears.kernel.terms import (
    PRINCIPAL_FIRST,
    Component,
    LoanTerms,
    Payment,
    ProductTerms,
    Waiver,
)
from tests.kernel.factories import make_loan
from tests.kernel.test_state import loans_and_payments

FIRST_DUE = date(2026, 2, 15)
DAY_10 = FIRST_DUE + timedelta(days=10)  # penalty so far: 10 days × 0.62 = 6.20


def test_a_penalty_waiver_reduces_only_the_penalty():
    loan = make_loan()
    without = state(loan, [], DAY_10)
    s = state(loan, [], DAY_10, waivers=[Waiver("W1", DAY_10, Component.PENALTY, 500)])
    assert without.penalty_outstanding == 620
    assert s.penalty_outstanding == 120
    assert s.penalty_accrued == 620  # the charge stays on record; only what is owed drops
    assert (s.waived_total, s.waived_penalty) == (500, 500)
    assert (s.waived_compound, s.waived_interest, s.waived_principal) == (0, 0, 0)
    assert s.instalments[0].penalty_waived == 500
    assert s.overdue_principal == without.overdue_principal == 83_333
    assert s.overdue_interest == without.overdue_interest == 15_000
    assert s.total_due == without.total_due - 500
    assert s.payoff == without.payoff - 500
    assert s.dpd == without.dpd == 10
    [application] = s.waivers
    assert (application.ref, application.day, application.applied, application.unused) == (
        "W1",
        DAY_10,
        500,
        0,
    )
    assert application.lines == (AllocationLine(1, Component.PENALTY, 500),)


def test_a_waiver_does_not_stop_penalty_from_accruing_afterwards():
    loan = make_loan()
    waiver = Waiver("W1", DAY_10, Component.PENALTY, 500)
    s = state(loan, [], DAY_10 + timedelta(days=1), waivers=[waiver])
    assert s.penalty_accrued == 620 + 62
    assert s.penalty_outstanding == 120 + 62


def test_a_waiver_bigger_than_the_penalty_leaves_the_rest_unused_and_never_becomes_credit():
    loan = make_loan()
    waiver = Waiver("W1", DAY_10, Component.PENALTY, 1_000)
    s = state(loan, [], DAY_10, waivers=[waiver])
    [application] = s.waivers
    assert (application.amount, application.applied, application.unused) == (1_000, 620, 380)
    assert s.penalty_outstanding == 0 and s.waived_penalty == 620 and s.credit == 0
    later = state(loan, [], DAY_10 + timedelta(days=1), waivers=[waiver])
    assert later.penalty_outstanding == 62  # the unused 3.80 does not cover tomorrow's penalty


def test_a_waiver_before_any_penalty_is_wholly_unused():
    loan = make_loan()
    s = state(loan, [], FIRST_DUE, waivers=[Waiver("W1", FIRST_DUE, Component.PENALTY, 100)])
    [application] = s.waivers
    assert (application.applied, application.unused, application.lines) == (0, 100, ())
    assert s.waived_total == 0


def test_reversing_a_waiver_restores_the_figures_exactly():
    loan = make_loan()
    payments = [Payment("P1", DAY_10 + timedelta(days=3), 20_000)]
    as_of = DAY_10 + timedelta(days=30)
    waiver = Waiver("W1", DAY_10, Component.PENALTY, 500)
    plain = state(loan, payments, as_of)
    assert state(loan, payments, as_of, waivers=[waiver]) != plain
    reversed_waiver = replace(waiver, reversed_on=DAY_10 + timedelta(days=20))
    assert state(loan, payments, as_of, waivers=[reversed_waiver]) == plain
    # before its reversal date the reversed waiver still counts
    before = DAY_10 + timedelta(days=19)
    assert state(loan, payments, before, waivers=[reversed_waiver]) == state(
        loan, payments, before, waivers=[waiver]
    )


def test_waiving_the_last_penalty_of_an_otherwise_paid_instalment_drops_dpd():
    loan = make_loan(product=ProductTerms(allocation_order=PRINCIPAL_FIRST))
    # principal first: 833.33 principal and 150.00 interest paid, the 6.20 penalty stays owed
    paid = [Payment("P1", DAY_10, 98_333)]
    day = DAY_10 + timedelta(days=2)
    before = state(loan, paid, day)
    assert before.dpd == 12 and before.penalty_outstanding == 620
    assert before.penalty_accrued == 620  # no principal overdue, so no more penalty
    s = state(loan, paid, day, waivers=[Waiver("W1", day, Component.PENALTY, 620)])
    assert s.dpd == 0 and s.bucket == "M0"
    first = s.instalments[0]
    assert first.status is InstalmentStatus.PAID and first.paid_on == day
    assert first.outstanding == 0


def test_a_principal_waiver_lowers_the_penalty_base():
    loan = make_loan()
    s = state(
        loan,
        [],
        DAY_10 + timedelta(days=1),
        waivers=[Waiver("W1", DAY_10, Component.PRINCIPAL, 50_000)],
    )
    first = s.instalments[0]
    assert first.principal_waived == 50_000 and first.principal_outstanding == 33_333
    # day 11 accrues on 333.33: 333.33 × 0.075 % = 0.2499975 → 0.25
    assert s.penalty_accrued == 620 + 25
    assert s.principal_outstanding == 1_000_000 - 50_000
    assert s.overdue_principal == 33_333


def test_a_principal_waiver_reaches_instalments_not_yet_due_oldest_first():
    loan = make_loan()
    s = state(loan, [], DAY_10, waivers=[Waiver("W1", DAY_10, Component.PRINCIPAL, 100_000)])
    assert [line.amount for line in s.waivers[0].lines] == [83_333, 16_667]
    assert s.overdue_principal == 0
    assert s.instalments[1].principal_outstanding == 83_333 - 16_667
    assert s.instalments[1].status is InstalmentStatus.NOT_DUE


def test_an_interest_waiver_stops_compound_on_the_waived_interest():
    loan = make_loan(product=ProductTerms(compound=True))
    waiver = Waiver("W1", DAY_10, Component.INTEREST, 15_000)
    s = state(loan, [], DAY_10 + timedelta(days=5), waivers=[waiver])
    # compound 150.00 × 0.075 % = 0.1125 → 0.11 a day for days 1–10, nothing after
    assert s.compound_accrued == 10 * 11
    assert s.instalments[0].interest_outstanding == 0
    assert s.waived_interest == 15_000


def test_a_waiver_applies_after_the_day_s_accrual_and_before_the_day_s_payments():
    loan = make_loan()
    # the waiver takes the 6.20 penalty accrued through day 10, so the payment goes to interest
    pay = Payment("P1", DAY_10, 10_000)
    s = state(loan, [pay], DAY_10, waivers=[Waiver("W1", DAY_10, Component.PENALTY, 620)])
    [application] = s.applications
    assert application.lines == (AllocationLine(1, Component.INTEREST, 10_000),)


def test_a_waiver_dated_before_the_loan_applies_on_its_first_day():
    loan = make_loan()
    early = Waiver("W1", loan.start - timedelta(days=3), Component.INTEREST, 100)
    s = state(loan, [], loan.start, waivers=[early])
    assert s.waivers[0].day == loan.start and s.waived_interest == 100


def test_waivers_are_validated():
    with pytest.raises(InvalidTerms):
        Waiver("W1", DAY_10, Component.PENALTY, 0)
    with pytest.raises(InvalidTerms):
        Waiver("W1", DAY_10, Component.PENALTY, -5)
    with pytest.raises(InvalidTerms):
        Waiver("W1", DAY_10, "penalty", 5)  # type: ignore[arg-type]
    twice = [Waiver("W1", DAY_10, Component.PENALTY, 5), Waiver("W1", DAY_10, Component.PENALTY, 6)]
    with pytest.raises(InvalidTerms):
        state(make_loan(), [], DAY_10, waivers=twice)


def test_explain_shows_each_waiver_and_what_is_left():
    loan = make_loan()
    waiver = Waiver("W1", DAY_10, Component.PENALTY, 1_000)
    data = explain(loan, state(loan, [], DAY_10, waivers=[waiver]))
    [shown] = data["waivers"]
    assert (shown["ref"], shown["component"], shown["day"]) == ("W1", "penalty", "2026-02-25")
    assert (shown["applied"]["amount"], shown["unused"]["amount"]) == ("6.20", "3.80")
    assert shown["waived"] == [
        {"seq": 1, "component": "penalty", "amount": {"amount": "6.20", "minor": 620}}
    ]
    penalty = data["instalments"][0]["penalty"]
    assert (
        penalty["due"]["minor"],
        penalty["waived"]["minor"],
        penalty["outstanding"]["minor"],
    ) == (
        620,
        620,
        0,
    )
    assert data["totals"]["waived_total"]["amount"] == "6.20"
    text = render_text(data)
    assert "2026-02-25 W1 penalty 10.00: #1 penalty 6.20, unused 3.80" in text
    assert "Waived: 6.20 (penalty 6.20" in text
    assert "      waived   penalty 6.20" in text


def test_explain_without_waivers_or_plans_keeps_its_shape():
    loan = make_loan()
    data = explain(loan, state(loan, [], DAY_10))
    assert data["waivers"] == [] and data["plans"] == [] and data["plan"] is None
    assert "Waivers:" not in render_text(data) and "plan" not in render_text(data)


# --- properties ---------------------------------------------------------------------------


@st.composite
def waivers_for(draw: st.DrawFn, loan: LoanTerms, as_of: date) -> list[Waiver]:
    horizon = loan.schedule[-1].due_date + timedelta(days=60)
    total = loan.principal + sum(i.interest for i in loan.schedule)
    due = st.sampled_from([i.due_date for i in loan.schedule]).flatmap(
        lambda d: st.integers(-2, 15).map(lambda k: max(loan.start, d + timedelta(days=k)))
    )
    waivers = []
    for n in range(draw(st.integers(0, 4))):
        day = draw(st.dates(loan.start, horizon) | due)
        amount = draw(st.integers(1, 5_000) | st.integers(1, total))
        reversed_on = draw(st.none() | st.dates(day, horizon + timedelta(days=30)))
        component = draw(st.sampled_from(list(Component)))
        waivers.append(Waiver(f"W{n}", day, component, amount, reversed_on))
    return waivers


@st.composite
def histories_with_waivers(draw: st.DrawFn) -> tuple[LoanTerms, list[Payment], date, list[Waiver]]:
    loan, payments, as_of = draw(loans_and_payments())
    return loan, payments, as_of, draw(waivers_for(loan, as_of))


FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_accounted_and_never_negative(s: LoanState) -> None:
    """Every fen charged is still owed, paid or waived; nothing owed or waived is negative."""
    charged = sum(i.principal + i.interest + i.penalty + i.compound for i in s.instalments)
    owed = sum(i.outstanding for i in s.instalments)
    paid = sum(
        i.principal_paid + i.interest_paid + i.penalty_paid + i.compound_paid for i in s.instalments
    )
    assert charged - owed == paid + s.waived_total
    assert paid + s.credit == s.paid_total
    lines = [line for w in s.waivers for line in w.lines]
    assert s.waived_total == sum(line.amount for line in lines)
    assert s.waived_total == (
        s.waived_penalty + s.waived_compound + s.waived_interest + s.waived_principal
    )
    assert s.waived_total == sum(i.waived for i in s.instalments)
    for w in s.waivers:
        assert w.applied + w.unused == w.amount and w.applied == sum(x.amount for x in w.lines)
        assert w.applied >= 0 and w.unused >= 0
        assert all(line.amount > 0 for line in w.lines)
    for i in s.instalments:
        parts = (
            i.principal_outstanding,
            i.interest_outstanding,
            i.penalty_outstanding,
            i.compound_outstanding,
            i.principal_waived,
            i.interest_waived,
            i.penalty_waived,
            i.compound_waived,
        )
        assert all(part >= 0 for part in parts), i
    figures = (
        s.dpd,
        s.overdue_principal,
        s.overdue_interest,
        s.penalty_outstanding,
        s.compound_outstanding,
        s.total_due,
        s.principal_outstanding,
        s.accrued_interest,
        s.payoff,
        s.credit,
        s.plan_due,
        s.plan_paid,
    )
    assert all(figure >= 0 for figure in figures), s


@FAST
@given(loans_and_payments())
def test_no_waivers_and_no_plans_is_the_plain_replay(case):
    loan, payments, as_of = case
    assert state(loan, payments, as_of, waivers=(), plans=()) == state(loan, payments, as_of)


@FAST
@given(histories_with_waivers())
def test_every_fen_is_paid_waived_or_still_owed_and_nothing_is_negative(case):
    loan, payments, as_of, waivers = case
    assert_accounted_and_never_negative(state(loan, payments, as_of, waivers=waivers))


@FAST
@given(histories_with_waivers(), st.data())
def test_reversing_every_waiver_equals_never_having_them(case, data):
    loan, payments, as_of, waivers = case
    reversed_all = [
        replace(w, reversed_on=data.draw(st.dates(w.effective_on, max(w.effective_on, as_of))))
        for w in waivers
    ]
    assert state(loan, payments, as_of, waivers=reversed_all) == state(loan, payments, as_of)


@FAST
@given(histories_with_waivers(), st.randoms())
def test_waiver_order_given_does_not_matter(case, rnd):
    loan, payments, as_of, waivers = case
    shuffled = list(waivers)
    rnd.shuffle(shuffled)
    assert state(loan, payments, as_of, waivers=shuffled) == state(
        loan, payments, as_of, waivers=waivers
    )
