"""Repayment plans (分期协商) and settlements in the replay: hand-checked numbers and properties.

The loan of ``make_loan()``: 12 instalments of 833.33 principal + 150.00 interest, the first due
2026-02-15 (day 0 below), the second 2026-03-15 (day 28); penalty 0.075 % a day on overdue
principal, 833.33 × 0.075 % = 0.62 a day. The plan starts on day 10 (2026-02-25) and asks for
500.00 on day 20 (2026-03-07) and 500.00 on day 50 (2026-04-06), grace 3 days.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.kernel.accrual import cost_cap
from arrears.kernel.errors import InvalidTerms
from arrears.kernel.explain import explain, render_text
from arrears.kernel.plans import PlanStatus
from arrears.kernel.state import state
from arrears.kernel.terms import (
    AccrualRounding,
    Component,
    DayCount,
    Instalment,
    InterestRate,
    LoanTerms,
    Payment,
    PlanInstalment,
    ProductTerms,
    RateBasis,
    RepaymentPlan,
    Waiver,
)
from tests.kernel.factories import make_loan
from tests.kernel.test_state import loans_and_payments, products
from tests.kernel.test_waivers import assert_accounted_and_never_negative, waivers_for

FIRST_DUE = date(2026, 2, 15)


def day(n: int) -> date:
    return FIRST_DUE + timedelta(days=n)


PLAN = RepaymentPlan(
    "R1", day(10), (PlanInstalment(day(20), 50_000), PlanInstalment(day(50), 50_000))
)
KEPT = [Payment("P1", day(18), 50_000), Payment("P2", day(50), 50_000)]


def test_penalty_is_frozen_while_the_plan_is_active():
    loan = make_loan()
    without = state(loan, [], day(20))
    s = state(loan, [], day(20), plans=[PLAN])
    assert without.penalty_accrued == 20 * 62
    assert s.penalty_accrued == 9 * 62  # days 1–9; from the plan's first day nothing accrues
    [period] = s.instalments[0].penalty_periods
    assert (period.start, period.days) == (day(1), 9)
    assert s.plan_status is PlanStatus.ACTIVE and s.plan_active
    [plan] = s.plans
    assert (plan.frozen_from, plan.frozen_to, plan.frozen_days) == (day(10), day(20), 11)


def test_a_plan_freezes_compound_interest_too():
    loan = make_loan(product=ProductTerms(compound=True))
    s = state(loan, [], day(20), plans=[PLAN])
    assert s.compound_accrued == 9 * 11  # 150.00 × 0.075 % = 0.1125 → 0.11 a day, days 1–9


def test_a_kept_plan_keeps_the_loan_current_while_it_pays():
    loan = make_loan()
    for n in range(10, 50):  # completed at the end of day 50 by P2
        s = state(loan, KEPT, day(n), plans=[PLAN])
        assert (s.dpd, s.bucket) == (0, "M0"), n
        assert s.total_due == s.plan_due == 0, n
        assert s.penalty_accrued == 9 * 62, n
        assert state(loan, KEPT, day(n)).dpd > 0  # without the plan it is delinquent
    # payments are still allocated to the loan's own instalments: penalty, interest, principal
    s = state(loan, KEPT, day(30), plans=[PLAN])
    assert s.applications[0].lines[0].component is Component.PENALTY
    assert s.plan_paid == 50_000
    assert s.overdue_principal > 0  # the contractual figures are unchanged by the plan


def test_a_plan_covered_in_full_is_completed_and_the_loan_is_contractual_again():
    loan = make_loan()
    s = state(loan, KEPT, day(50), plans=[PLAN])
    assert s.plan_status is PlanStatus.COMPLETED and s.plans[0].completed_on == day(50)
    assert s.plan_paid == 100_000
    after = state(loan, KEPT, day(51), plans=[PLAN])
    assert after.dpd > 0  # not a settlement: what the plan did not cover is overdue again
    assert after.penalty_accrued > s.penalty_accrued  # and accrues penalty from the next day


def test_plan_dpd_counts_from_an_uncovered_plan_instalment_within_its_grace():
    loan = make_loan()
    s = state(loan, [], day(23), plans=[PLAN])
    assert s.plan_status is PlanStatus.ACTIVE
    assert (s.dpd, s.bucket, s.total_due, s.plan_due) == (3, "M1", 50_000, 50_000)
    on_due_date = state(loan, [], day(20), plans=[PLAN])
    assert on_due_date.dpd == 0 and on_due_date.total_due == 50_000  # due today, not past due


def test_missing_a_plan_instalment_past_grace_breaks_the_plan_and_penalty_resumes():
    loan = make_loan()
    # due day 20, grace 3: still uncovered at the end of day 23, so broken on day 24
    s = state(loan, [], day(30), plans=[PLAN])
    assert s.plan_status is PlanStatus.BROKEN and s.plan_broken_on == day(24)
    assert s.dpd == 30  # contractual again: since the first instalment's due date
    # without the plan the first instalment would also owe penalty for days 10–23
    assert s.total_due == state(loan, [], day(30)).total_due - 14 * 62
    first, second = s.instalments[0], s.instalments[1]
    assert [(p.start, p.days) for p in first.penalty_periods] == [(day(1), 9), (day(24), 7)]
    assert [(p.start, p.days) for p in second.penalty_periods] == [(day(29), 2)]
    assert s.penalty_accrued == 9 * 62 + 7 * 62 + 2 * 62
    assert s.plan_due == 0 and s.plans[0].frozen_to == day(23)
    assert state(loan, [], day(23), plans=[PLAN]).plan_status is PlanStatus.ACTIVE


def test_a_shortfall_within_the_tolerance_does_not_break_the_plan():
    loan = make_loan()
    short = [Payment("P1", day(18), 49_999)]
    assert state(loan, short, day(30), plans=[PLAN]).plan_status is PlanStatus.BROKEN
    tolerant = replace(PLAN, tolerance=1)
    s = state(loan, short, day(30), plans=[tolerant])
    assert s.plan_status is PlanStatus.ACTIVE and s.dpd == 0 and s.total_due == 1


def test_a_back_dated_payment_rescues_a_plan_by_replay():
    loan = make_loan()
    late = Payment("P1", day(23), 50_000)  # booked on day 30, valued on the last grace day
    assert state(loan, [], day(30), plans=[PLAN]).plan_status is PlanStatus.BROKEN
    assert state(loan, [late], day(30), plans=[PLAN]).plan_status is PlanStatus.ACTIVE


def test_a_settlement_waives_the_rest_and_closes_the_loan():
    loan = make_loan(term=3)  # 3,333.33 a month + 150.00 interest
    settlement = replace(PLAN, waive_rest=True)
    settle_day = day(45)
    payments = [Payment("P1", day(18), 50_000), Payment("P2", settle_day, 50_000)]
    no_waiver = state(loan, payments, settle_day, plans=[replace(settlement, waive_rest=False)])
    s = state(loan, payments, settle_day, plans=[settlement])
    assert s.plan_status is PlanStatus.COMPLETED and s.plans[0].completed_on == settle_day
    assert s.closed and s.payoff == 0 and s.dpd == 0 and s.total_due == 0
    assert s.settled_on == settle_day
    # what is waived is exactly what the borrower would still have had to pay off that day
    assert s.waived_total == no_waiver.payoff > 0
    [rest] = s.waivers
    assert (rest.ref, rest.day, rest.component, rest.unused) == ("R1:rest", settle_day, None, 0)
    # P1 (500.00 on 5 Mar) paid the 22.50 penalty, the 150.00 interest and 327.50 principal of
    # instalment 1; P2 (500.00 on 1 Apr) 500.00 more of its principal. Left and waived:
    # #1 principal 2,505.83; #2 interest 150.00 + principal 3,333.33; #3 28.33 + 3,333.34.
    assert (s.waived_penalty, s.waived_compound) == (0, 0)
    assert s.waived_interest == 15_000 + 2_833
    assert s.waived_principal == 250_583 + 333_333 + 333_334
    assert s.waived_total == 935_083
    # the instalment not yet due owes only the interest for the 17 days used (15 Mar – 1 Apr):
    # 3,333.34 × 0.05 % × 17 = 28.3333 → 28.33
    assert s.instalments[2].interest == s.instalments[2].interest_waived == 2_833
    assert all(i.outstanding == 0 and i.paid_on == settle_day for i in s.instalments[1:])
    assert_accounted_and_never_negative(s)
    later = state(loan, [*payments, Payment("P3", day(60), 1_000)], day(60), plans=[settlement])
    assert later.closed and later.credit == 1_000 and later.waived_total == s.waived_total


def test_a_settlement_applies_the_credit_before_waiving():
    loan = make_loan(term=3)
    settlement = RepaymentPlan("S1", day(10), (PlanInstalment(day(20), 500_000),), waive_rest=True)
    paid = [Payment("P1", day(20), 500_000)]  # more than what is due: the rest is credit
    s = state(loan, paid, day(20), plans=[settlement])
    assert s.closed and s.credit == 0
    assert s.paid_total == 500_000
    applied = sum(
        i.principal_paid + i.interest_paid + i.penalty_paid + i.compound_paid for i in s.instalments
    )
    assert applied == 500_000
    assert s.applications[-1].ref == "credit"
    assert_accounted_and_never_negative(s)


def test_a_plan_completes_when_the_loan_is_paid_off():
    loan = make_loan(term=3)
    quote = state(loan, [], day(15), plans=[PLAN])
    s = state(loan, [Payment("P1", day(15), quote.payoff)], day(15), plans=[PLAN])
    assert s.closed and s.plan_status is PlanStatus.COMPLETED and s.waived_total == 0


def test_a_later_plan_supersedes_an_active_one():
    loan = make_loan()
    second = RepaymentPlan("R2", day(22), (PlanInstalment(day(40), 100_000),), grace_days=0)
    s = state(loan, [], day(30), plans=[second, PLAN])  # order given does not matter
    assert [p.status for p in s.plans] == [PlanStatus.SUPERSEDED, PlanStatus.ACTIVE]
    assert s.plans[0].superseded_on == day(22) and s.plans[0].frozen_to == day(21)
    assert s.plan_ref == "R2" and s.dpd == 0 and s.penalty_accrued == 9 * 62
    broken = state(loan, [], day(45), plans=[PLAN, second])
    assert broken.plan_ref == "R2" and broken.plan_broken_on == day(41)


def test_a_plan_not_yet_effective_changes_nothing():
    loan = make_loan()
    assert state(loan, [], day(9), plans=[PLAN]) == state(loan, [], day(9))


def test_plans_are_validated():
    with pytest.raises(InvalidTerms):
        RepaymentPlan("R", day(10), ())
    with pytest.raises(InvalidTerms):
        RepaymentPlan("R", day(10), (PlanInstalment(day(9), 100),))
    with pytest.raises(InvalidTerms):
        RepaymentPlan("R", day(10), (PlanInstalment(day(20), 1), PlanInstalment(day(20), 1)))
    with pytest.raises(InvalidTerms):
        PlanInstalment(day(20), 0)
    with pytest.raises(InvalidTerms):
        RepaymentPlan("R", day(10), (PlanInstalment(day(20), 1),), grace_days=-1)
    with pytest.raises(InvalidTerms):
        RepaymentPlan("R", day(10), (PlanInstalment(day(20), 1),), tolerance=-1)
    assert PLAN.total == 100_000
    same_day = replace(PLAN, ref="R2")
    with pytest.raises(InvalidTerms):
        state(make_loan(), [], day(30), plans=[PLAN, same_day])
    with pytest.raises(InvalidTerms):
        state(make_loan(), [], day(30), plans=[replace(PLAN, effective_on=date(2026, 1, 1))])
    clash = Waiver("R1:rest", day(12), Component.PENALTY, 1)
    with pytest.raises(InvalidTerms):
        state(make_loan(), [], day(30), plans=[PLAN], waivers=[clash])


def test_explain_shows_the_plan_line_by_line():
    loan = make_loan()
    data = explain(loan, state(loan, [Payment("P1", day(18), 50_000)], day(30), plans=[PLAN]))
    assert data["plan"] == {
        "ref": "R1",
        "status": "active",
        "active": True,
        "broken_on": None,
        "due": {"amount": "0.00", "minor": 0},
        "paid": {"amount": "500.00", "minor": 50_000},
    }
    [plan] = data["plans"]
    assert plan["frozen"] == {"from": "2026-02-25", "to": "2026-03-17", "days": 21}
    assert [(i["due_date"], i["covered"]) for i in plan["instalments"]] == [
        ("2026-03-07", True),
        ("2026-04-06", False),
    ]
    text = render_text(data)
    assert "Repayment plan R1 from 2026-02-25: active" in text
    assert "penalty and compound frozen 2026-02-25…2026-03-17 (21 days)" in text
    assert "Owed now under the plan: 0.00 CNY" in text
    broken = render_text(explain(loan, state(loan, [], day(30), plans=[PLAN])))
    assert "Repayment plan R1 from 2026-02-25: broken, broken on 2026-03-11" in broken
    assert "frozen 2026-02-25…2026-03-10 (14 days)" in broken


def test_explain_shows_a_settlement_as_a_waiver_of_everything_left():
    loan = make_loan(term=3)
    settlement = replace(PLAN, waive_rest=True)
    payments = [Payment("P1", day(18), 50_000), Payment("P2", day(45), 50_000)]
    data = explain(loan, state(loan, payments, day(45), plans=[settlement]))
    [rest] = data["waivers"]
    assert rest["ref"] == "R1:rest" and rest["component"] == "all"
    text = render_text(data)
    assert "Settlement plan R1 from 2026-02-25 (waives the rest once covered): completed" in text
    assert "2026-04-01 R1:rest all" in text


# --- properties ---------------------------------------------------------------------------


@st.composite
def plans_for(draw: st.DrawFn, loan: LoanTerms) -> list[RepaymentPlan]:
    horizon = loan.schedule[-1].due_date + timedelta(days=60)
    size = loan.schedule[0].total
    plans = []
    starts = sorted(set(draw(st.lists(st.dates(loan.start, horizon), min_size=0, max_size=2))))
    for n, start in enumerate(starts):
        offsets = sorted(set(draw(st.lists(st.integers(0, 90), min_size=1, max_size=4))))
        instalments = tuple(
            PlanInstalment(start + timedelta(days=k), draw(st.integers(1, 2 * size)))
            for k in offsets
        )
        plans.append(
            RepaymentPlan(
                f"R{n}",
                start,
                instalments,
                grace_days=draw(st.integers(0, 5)),
                tolerance=draw(st.sampled_from([0, 0, 100])),
                waive_rest=draw(st.booleans()),
            )
        )
    return plans


@st.composite
def histories_with_plans(draw: st.DrawFn):
    loan, payments, as_of = draw(loans_and_payments())
    return loan, payments, as_of, draw(plans_for(loan)), draw(waivers_for(loan, as_of))


FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(histories_with_plans())
def test_with_plans_every_fen_is_accounted_for_and_nothing_is_negative(case):
    loan, payments, as_of, plans, waivers = case
    s = state(loan, payments, as_of, plans=plans, waivers=waivers)
    assert_accounted_and_never_negative(s)
    if s.plan_active:
        assert (s.dpd, s.total_due) == (s.plans[-1].dpd, s.plan_due)
    latest = s.plans[-1] if s.plans else None
    if latest and latest.status is PlanStatus.COMPLETED and latest.waive_rest:
        assert s.closed and s.payoff == 0 and s.principal_outstanding == 0


@FAST
@given(histories_with_plans())
def test_no_penalty_or_compound_accrues_on_a_day_a_plan_was_active(case):
    loan, payments, as_of, plans, waivers = case
    s = state(loan, payments, as_of, plans=plans, waivers=waivers)
    frozen = [(p.frozen_from, p.frozen_to) for p in s.plans]
    for inst in s.instalments:
        for period in (*inst.penalty_periods, *inst.compound_periods):
            for first, last in frozen:
                assert period.end < first or period.start > last, (period, first, last)


def assert_plans_add_no_penalty(loan: LoanTerms, as_of: date, plans: list[RepaymentPlan]) -> None:
    """Without payments a plan only takes accruing days away, so the borrower never owes more
    penalty + compound than without it. Each component alone is never more either unless a cost
    cap applies: the cap is one budget served penalty first on the days it binds, so days frozen
    before it binds can move fen from compound to penalty at the same total (see
    ``test_under_a_binding_cost_cap_a_plan_can_move_fen_from_compound_to_penalty_not_add_any``)."""
    with_plans = state(loan, [], as_of, plans=plans)
    plain = state(loan, [], as_of)
    assert (
        with_plans.penalty_accrued + with_plans.compound_accrued
        <= plain.penalty_accrued + plain.compound_accrued
    )
    if loan.product.cost_cap_annual is None:
        assert with_plans.penalty_accrued <= plain.penalty_accrued
        assert with_plans.compound_accrued <= plain.compound_accrued


@FAST
@given(histories_with_plans())
def test_without_payments_a_plan_never_adds_penalty(case):
    loan, _, as_of, plans, _ = case
    assert_plans_add_no_penalty(loan, as_of, plans)


@st.composite
def small_loans_with_plans(draw: st.DrawFn):
    """Loans whose penalty or compound is under a fen a day and plans that freeze a few days:
    where a freeze that splits a ``period`` run is felt in the rounding."""
    term = draw(st.integers(1, 3))
    loan = make_loan(
        principal=draw(st.integers(term * 100, term * 3_000)),
        term=term,
        start=draw(st.dates(date(2024, 1, 1), date(2027, 12, 31))),
        interest_each=draw(st.integers(1, 300)),
        daily_rate=draw(st.sampled_from([Decimal("0.0002"), Decimal("0.0005"), Decimal("0.001")])),
        product=replace(draw(products), compound=True, accrual_rounding=AccrualRounding.PERIOD),
    )
    due = (loan.schedule[0].due_date - loan.start).days
    span = (loan.schedule[-1].due_date + timedelta(days=60) - loan.start).days
    offsets = sorted(set(draw(st.lists(st.integers(due, span), min_size=1, max_size=3))))
    plans = [  # short freezes: unpaid, each breaks a few days after it starts
        RepaymentPlan(
            f"R{n}",
            loan.start + timedelta(days=k),
            (PlanInstalment(loan.start + timedelta(days=k + draw(st.integers(0, 1))), 1),),
            grace_days=draw(st.integers(0, 1)),
        )
        for n, k in enumerate(offsets)
    ]
    as_of = loan.start + timedelta(days=offsets[0] + draw(st.integers(0, 40)))
    return loan, as_of, plans


@FAST
@given(small_loans_with_plans())
def test_without_payments_a_plan_never_adds_penalty_on_small_bases(case):
    loan, as_of, plans = case
    assert_plans_add_no_penalty(loan, as_of, plans)


@FAST
@given(histories_with_plans())
def test_plans_not_yet_effective_change_nothing(case):
    loan, payments, as_of, plans, waivers = case
    later = [p for p in plans if p.effective_on > as_of]
    assert state(loan, payments, as_of, plans=later, waivers=waivers) == state(
        loan, payments, as_of, waivers=waivers
    )


@FAST
@given(histories_with_plans(), st.randoms())
def test_plan_order_given_does_not_matter(case, rnd):
    loan, payments, as_of, plans, waivers = case
    shuffled = list(plans)
    rnd.shuffle(shuffled)
    assert state(loan, payments, as_of, plans=shuffled, waivers=waivers) == state(
        loan, payments, as_of, plans=plans, waivers=waivers
    )


# --- regressions found by the properties ----------------------------------------------------


def _capped_loan() -> LoanTerms:
    """The falsifying example of ``test_without_payments_a_plan_never_adds_penalty`` (a full run,
    2026): two instalments, penalty 0.15 % a day, compound, 3 days' grace, a 24 % cost cap."""
    return LoanTerms(
        ref="L1",
        currency="CNY",
        principal=26980,
        start=date(2026, 5, 19),
        rate=InterestRate(Decimal("0.001"), RateBasis.DAILY),
        day_count=DayCount.THIRTY_360,
        schedule=(
            Instalment(1, date(2026, 6, 19), 13490, 373, date(2026, 5, 19), date(2026, 6, 19)),
            Instalment(2, date(2026, 7, 19), 13490, 373, date(2026, 6, 19), date(2026, 7, 19)),
        ),
        product=ProductTerms(
            penalty_multiplier=Decimal("1.5"),
            compound=True,
            grace_days=3,
            grace_retroactive=False,
            cost_cap_annual=Decimal("0.24"),
            accrual_rounding=AccrualRounding.DAILY,
        ),
    )


CAPPED_PLANS = [
    RepaymentPlan("R0", date(2026, 5, 29), (PlanInstalment(date(2026, 5, 29), 1),), grace_days=0),
    RepaymentPlan("R1", date(2026, 7, 2), (PlanInstalment(date(2026, 7, 2), 1),), grace_days=1),
]


def test_under_a_binding_cost_cap_a_plan_can_move_fen_from_compound_to_penalty_not_add_any():
    """The cap is one budget for interest + penalty + compound, served penalty first on the
    days it binds. R1 froze 2–3 July, before the cap bound: without the plan those two days
    charged 0.40 penalty and 0.02 compound; with it the 0.42 of headroom is left to the
    capped days, which serve penalty first. The borrower owes the same 5.49, at the cap."""
    loan = _capped_loan()
    as_of = date(2026, 7, 31)
    with_plans = state(loan, [], as_of, plans=CAPPED_PLANS)
    plain = state(loan, [], as_of)
    assert [p.frozen_days for p in with_plans.plans] == [1, 2]
    assert (plain.penalty_accrued, plain.compound_accrued) == (523, 26)
    assert (with_plans.penalty_accrued, with_plans.compound_accrued) == (525, 24)
    cap = cost_cap(loan.principal, Decimal("0.24"), loan.start, as_of)
    interest = 2 * 373
    assert interest + plain.penalty_accrued + plain.compound_accrued == cap == 1295
    assert interest + with_plans.penalty_accrued + with_plans.compound_accrued == cap
    assert with_plans.payoff == plain.payoff


def test_a_run_cut_by_a_plan_is_rounded_down_so_the_plan_adds_no_rounding_fen():
    """Period rounding: compound 3.00 × 0.075 % = 0.00225 a day. A one-day plan on day 4
    (broken on day 5) splits the run; rounding both parts half-up charged 0.01 + 0.02 = 0.03,
    more than the 11 unfrozen days' 0.02 (2.475 fen). The part before the freeze is
    rounded down instead: 0.00 + 0.02."""
    loan = make_loan(
        product=ProductTerms(compound=True, accrual_rounding=AccrualRounding.PERIOD),
        interest_each=300,
    )
    plan = RepaymentPlan("R1", day(4), (PlanInstalment(day(4), 100),), grace_days=0)
    s = state(loan, [], day(11), plans=[plan])
    plain = state(loan, [], day(11))
    assert plain.compound_accrued == 2  # round(11 × 300 × 0.00075 = 2.475)
    before, after = s.instalments[0].compound_periods
    assert (before.start, before.days, before.amount, before.cut_by_plan) == (day(1), 3, 0, True)
    assert (after.start, after.days, after.amount, after.cut_by_plan) == (day(5), 7, 2, False)
    assert s.compound_accrued == 2 <= plain.compound_accrued
    first, _ = s.instalments[0].penalty_periods  # 3 × 833.33 × 0.075 % = 1.87499 → 1.87
    assert (first.amount, first.cut_by_plan) == (187, True)
    assert "(rounded down: a repayment plan froze the days after)" in render_text(explain(loan, s))


def _small_capped_loan() -> LoanTerms:
    """The falsifying example of ``test_without_payments_a_plan_never_adds_penalty_on_small_bases``
    (December 2026): 9.22 due 2024-02-01 with 0.22 interest, penalty 0.075 % a day (0.6915 fen),
    compound, no grace, a 24 % cost cap (0.6062 fen a day) that binds almost every day, period
    rounding half-up."""
    return LoanTerms(
        ref="L1",
        currency="CNY",
        principal=922,
        start=date(2024, 1, 1),
        rate=InterestRate(Decimal("0.0005"), RateBasis.DAILY),
        day_count=DayCount.THIRTY_360,
        schedule=(Instalment(1, date(2024, 2, 1), 922, 22, date(2024, 1, 1), date(2024, 2, 1)),),
        product=ProductTerms(
            penalty_multiplier=Decimal("1.5"),
            compound=True,
            grace_days=0,
            cost_cap_annual=Decimal("0.24"),
            accrual_rounding=AccrualRounding.PERIOD,
        ),
    )


def test_a_plan_under_a_binding_cost_cap_adds_no_fen():
    """Two one-day plans (2024-02-07 and 2024-02-25, each broken the next day). When each run
    was rounded on its own and a capped day ended the run, the loan without plans lost
    2024-02-26 and 2024-03-05 to the cap and charged 0.17, while with the plans (which left a
    fen of room by freezing 2024-02-25) the 11 days 2024-02-26…03-07 fitted as one run,
    11 × 0.6915 = 7.6065 → 8 fen, and it charged 0.18 (cost 0.40, the cap). Now the exact
    running total is clamped to the cap and rounded once (``RunningTotalAccrual``): both
    reach 17.383 fen → 0.17."""
    loan = _small_capped_loan()
    plans = [
        RepaymentPlan(
            f"R{n}", on, (PlanInstalment(on, 1),), grace_days=0, tolerance=0, waive_rest=False
        )
        for n, on in enumerate((date(2024, 2, 7), date(2024, 2, 25)))
    ]
    as_of = date(2024, 3, 7)
    with_plans = state(loan, [], as_of, plans=plans)
    plain = state(loan, [], as_of)
    assert [(p.frozen_from, p.frozen_days) for p in with_plans.plans] == [
        (date(2024, 2, 7), 1),
        (date(2024, 2, 25), 1),
    ]
    assert (with_plans.dpd, plain.dpd) == (35, 35)
    assert (plain.penalty_accrued, plain.compound_accrued) == (17, 0)
    assert (with_plans.penalty_accrued, with_plans.compound_accrued) == (17, 0)
    assert cost_cap(loan.principal, Decimal("0.24"), loan.start, as_of) == 40  # 22 + 17 ≤ 40
    for s in (plain, with_plans):
        [inst] = s.instalments
        assert sum(p.amount for p in inst.penalty_periods) == 17
    text = render_text(explain(loan, with_plans))
    assert "rounding half-up, running total rounded once" in text
    assert "5 days × 9.22 × 0.075% = 0.03 (half-up on the running total)" in text
