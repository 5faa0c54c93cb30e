"""The day-by-day oracle of ``test_state_oracle`` extended to waivers and repayment plans.

``kernel.state`` jumps from event to event and keeps plan coverage incrementally; the oracle
below walks **every day** and recomputes what it needs from the history each time. Each day it
does literally what the documented day order says (``kernel/state.py`` module docstring):

0. an active plan with a plan instalment whose grace ended yesterday still uncovered (coverage
   = payments valued from the plan's start through yesterday) is broken today; a plan starting
   today becomes active and ends the one before it (and, under period rounding, the penalty or
   compound run that reached yesterday, rounded down);
1. grace windows that ended yesterday are settled;
2. penalty and compound accrue on the start-of-day amounts owed — unless a plan is active;
3. waivers reduce their component oldest instalment first; the rest is unused;
4. credit is applied to instalments due today; 5. payments are allocated;
6. an active plan is completed when the loan owes nothing or its instalments are covered (within
   the tolerance); a settlement plan then makes the loan pay off early with its credit and
   waives the rest.

It reuses the plain oracle's ledgers and walk and never calls ``state()``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from arrears.kernel.accrual import interest_for_days_used
from arrears.kernel.allocation import allocate
from arrears.kernel.delinquency import bucket_for, days_past_due
from arrears.kernel.state import LoanState, state
from arrears.kernel.terms import (
    AccrualRounding,
    Component,
    LoanTerms,
    Payment,
    PlanInstalment,
    ProductTerms,
    RepaymentPlan,
    Waiver,
)
from tests.kernel.factories import make_loan
from tests.kernel.test_state_oracle import Line, Oracle, histories, observed
from tests.kernel.test_waivers import waivers_for

ONE_DAY = timedelta(days=1)


@dataclass
class WLine(Line):
    """An oracle instalment that can also be waived."""

    principal_waived: int = 0
    interest_waived: int = 0
    penalty_waived: int = 0
    compound_waived: int = 0

    def owed(self) -> dict[Component, int]:
        return {
            Component.PENALTY: self.penalty.total() - self.penalty_paid - self.penalty_waived,
            Component.COMPOUND: self.compound.total() - self.compound_paid - self.compound_waived,
            Component.INTEREST: self.interest - self.interest_paid - self.interest_waived,
            Component.PRINCIPAL: self.principal - self.principal_paid - self.principal_waived,
        }

    def waive(self, component: Component, amount: int, day: date) -> None:
        name = f"{component.value}_waived"
        setattr(self, name, getattr(self, name) + amount)
        if self.paid_on is None and self.outstanding() == 0:
            self.paid_on = day


@dataclass
class PlanRecord:
    plan: RepaymentPlan
    broken_on: date | None = None
    completed_on: date | None = None
    superseded_on: date | None = None

    def active(self) -> bool:
        return self.broken_on is None and self.completed_on is None and self.superseded_on is None

    def last_active_day(self, as_of: date) -> date:
        if self.broken_on:
            return self.broken_on - ONE_DAY
        if self.superseded_on:
            return self.superseded_on - ONE_DAY
        return self.completed_on or as_of


class ConcessionOracle(Oracle):
    def __init__(
        self,
        loan: LoanTerms,
        payments: list[Payment],
        waivers: list[Waiver],
        plans: list[RepaymentPlan],
    ) -> None:
        super().__init__(loan)
        self.lines = [
            WLine(**{f.name: getattr(line, f.name) for f in fields(Line)}) for line in self.lines
        ]
        self.payments = payments
        self.waivers = waivers
        self.plans = plans
        self.records: list[PlanRecord] = []
        self.applied: list[tuple[str, date, Component | None, int, int, int, tuple[Any, ...]]] = []

    # --- plans, recomputed from the history every time ----------------------------------------
    def coverage(self, plan: RepaymentPlan, through: date) -> int:
        return sum(p.amount for p in self.payments if plan.effective_on <= p.value_date <= through)

    def active(self) -> PlanRecord | None:
        return next((r for r in self.records if r.active()), None)

    def plan_start_of_day(self, day: date) -> None:
        record = self.active()
        if record is not None:
            plan = record.plan
            covered = self.coverage(plan, day - ONE_DAY) + plan.tolerance
            for k, inst in enumerate(plan.instalments):
                cumulative = sum(i.amount for i in plan.instalments[: k + 1])
                deadline = inst.due_date + timedelta(days=plan.grace_days)
                if deadline == day - ONE_DAY and cumulative > covered:
                    record.broken_on = day
        for plan in self.plans:
            if plan.effective_on == day:
                record = self.active()
                if record is not None:
                    record.superseded_on = day
                self.records.append(PlanRecord(plan))
                self.freeze(day)

    def freeze(self, day: date) -> None:
        """Reading (``PenaltyAccrual.freeze``): under period rounding a run that accrued through
        yesterday is ended by the freeze and rounded down."""
        if self.product.accrual_rounding is not AccrualRounding.PERIOD:
            return
        for line in self.lines:
            for ledger in (line.penalty, line.compound, line.grace_penalty, line.grace_compound):
                last = ledger.pieces[-1] if ledger.pieces else None
                if last is not None and not last.closed and last.end + ONE_DAY == day:
                    last.closed = last.floored = True

    def plan_end_of_day(self, day: date) -> None:
        record = self.active()
        if record is None:
            return
        plan = record.plan
        closed = all(line.outstanding() == 0 for line in self.lines)
        if not closed and self.coverage(plan, day) + plan.tolerance < plan.total:
            return
        record.completed_on = day
        if not plan.waive_rest or closed:
            return
        _, interest = self.payoff_parts(day)
        for k, line in enumerate(self.not_yet_due(day)):
            assert isinstance(line, WLine)
            line.interest = line.interest_paid + line.interest_waived + (interest if k == 0 else 0)
        if self.credit:
            amount, self.credit = self.credit, 0
            self.apply_to(day, amount, self.lines)
        lines = []
        for line in self.lines:
            assert isinstance(line, WLine)
            for component in self.product.allocation_order:
                owed = line.owed()[component]
                if owed > 0:
                    lines.append((line.seq, component, owed))
                    line.waive(component, owed, day)
            line.paid_on = line.paid_on or day
        self.settled_on = day
        if lines:
            total = sum(amount for _, _, amount in lines)
            self.applied.append((plan.rest_ref, day, None, total, total, 0, tuple(lines)))

    # --- waivers -------------------------------------------------------------------------------
    def waive(self, day: date) -> None:
        today = sorted(
            (w for w in self.waivers if max(w.effective_on, self.loan.start) == day),
            key=lambda w: (w.effective_on, w.ref),
        )
        for waiver in today:
            left, lines = waiver.amount, []
            for line in self.lines:
                assert isinstance(line, WLine)
                take = min(left, line.owed()[waiver.component])
                if take > 0:
                    line.waive(waiver.component, take, day)
                    lines.append((line.seq, waiver.component, take))
                    left -= take
            applied = waiver.amount - left
            self.applied.append(
                (waiver.ref, day, waiver.component, waiver.amount, applied, left, tuple(lines))
            )

    # --- accrual, allocation and payoff on what is owed (paid or waived is not) ----------------
    def accrue(self, day: date) -> None:
        if self.active() is not None:
            return  # frozen by the plan
        # The plain oracle's accrual reads the bases as ``principal − principal_paid``; the
        # waived parts are moved into ``paid`` for the call and back, so it sees what is owed.
        for line in self.lines:
            assert isinstance(line, WLine)
            line.principal_paid += line.principal_waived
            line.interest_paid += line.interest_waived
        try:
            super().accrue(day)
        finally:
            for line in self.lines:
                assert isinstance(line, WLine)
                line.principal_paid -= line.principal_waived
                line.interest_paid -= line.interest_waived

    def apply_to(self, day: date, amount: int, lines: list[Line]) -> None:
        result = allocate(
            amount, [(line.seq, line.owed()) for line in lines], self.product.allocation_order
        )
        by_seq = {line.seq: line for line in lines}
        for part in result.lines:
            line = by_seq[part.seq]
            name = f"{part.component.value}_paid"
            setattr(line, name, getattr(line, name) + part.amount)
            if line.paid_on is None and line.outstanding() == 0:
                line.paid_on = day
        self.credit += result.remainder
        if self.credit > 0:
            self.settle_early(day)

    def apply(self, day: date, amount: int) -> None:
        self.apply_to(day, amount, [line for line in self.lines if line.due_date <= day])

    def payoff_parts(self, day: date) -> tuple[int, int]:
        future = self.not_yet_due(day)
        if not future:
            return 0, 0
        owed = [line.owed() for line in future]
        principal = sum(o[Component.PRINCIPAL] for o in owed)
        interest = interest_for_days_used(
            principal,
            self.loan.daily_rate,
            (day - future[0].period_start).days,
            owed[0][Component.INTEREST],
            self.product.rounding,
        )
        return principal, interest

    def settle_early(self, day: date) -> None:
        principal, interest = self.payoff_parts(day)
        if principal == 0 or self.credit < principal + interest:
            return
        for index, line in enumerate(self.not_yet_due(day)):
            assert isinstance(line, WLine)
            line.interest = (
                line.interest_paid + line.interest_waived + (interest if index == 0 else 0)
            )
            line.interest_paid = line.interest - line.interest_waived
            line.principal_paid = line.principal - line.principal_waived
            line.paid_on = day
        self.credit -= principal + interest
        self.settled_on = day

    # --- the walk ------------------------------------------------------------------------------
    def walk(self, as_of: date) -> None:
        day = self.loan.start
        while day <= as_of:
            self.plan_start_of_day(day)
            self.settle_grace(day)
            self.accrue(day)
            self.waive(day)
            self.apply_credit(day)
            for payment in self.payments:
                if payment.value_date == day:
                    self.apply(day, payment.amount)
            self.plan_end_of_day(day)
            day += ONE_DAY


def concession_oracle(
    loan: LoanTerms,
    payments: list[Payment],
    as_of: date,
    waivers: list[Waiver],
    plans: list[RepaymentPlan],
) -> dict[str, Any]:
    effective = sorted(
        (p for p in payments if p.effective(as_of)), key=lambda p: (p.value_date, p.ref)
    )
    oracle = ConcessionOracle(
        loan,
        effective,
        [w for w in waivers if w.effective(as_of)],
        [p for p in plans if p.effective_on <= as_of],
    )
    oracle.walk(as_of)
    lines = oracle.lines
    dpd = days_past_due(
        ((line.due_date, line.outstanding()) for line in lines), as_of, loan.product.tolerance
    )
    owed = [line.owed() for line in lines]
    total_due = sum(line.outstanding() for line in lines if line.due_date <= as_of)
    future_principal, accrued = oracle.payoff_parts(as_of)
    payoff = max(0, total_due + future_principal + accrued - oracle.credit)
    latest = oracle.records[-1] if oracle.records else None
    plan_due = plan_paid = 0
    if latest is not None:
        plan = latest.plan
        plan_paid = oracle.coverage(plan, latest.last_active_day(as_of))
        if latest.active():
            cumulative = 0
            late: list[date] = []
            due_sum = 0
            for inst in plan.instalments:
                cumulative += inst.amount
                if inst.due_date <= as_of:
                    due_sum = cumulative
                if inst.due_date < as_of and cumulative > plan_paid + plan.tolerance:
                    late.append(inst.due_date)
            dpd = (as_of - late[0]).days if late else 0
            plan_due = total_due = max(0, due_sum - plan_paid)

    def waived(component: Component) -> int:
        return sum(
            amount for *_, parts in oracle.applied for _, c, amount in parts if c is component
        )

    status = None
    if latest is not None:
        status = (
            "broken"
            if latest.broken_on
            else "completed"
            if latest.completed_on
            else "superseded"
            if latest.superseded_on
            else "active"
        )
    return {
        "dpd": dpd,
        "bucket": bucket_for(dpd, loan.product.buckets),
        "overdue_principal": sum(
            o[Component.PRINCIPAL]
            for o, line in zip(owed, lines, strict=True)
            if line.due_date < as_of
        ),
        "overdue_interest": sum(
            o[Component.INTEREST]
            for o, line in zip(owed, lines, strict=True)
            if line.due_date < as_of
        ),
        "penalty_outstanding": sum(o[Component.PENALTY] for o in owed),
        "compound_outstanding": sum(o[Component.COMPOUND] for o in owed),
        "total_due": total_due,
        "principal_outstanding": sum(o[Component.PRINCIPAL] for o in owed),
        "accrued_interest": accrued,
        "payoff": payoff,
        "credit": oracle.credit,
        "penalty_accrued": sum(line.penalty.total() for line in lines),
        "compound_accrued": sum(line.compound.total() for line in lines),
        "paid_total": sum(p.amount for p in effective),
        "settled_on": oracle.settled_on,
        "instalments": [
            {
                "seq": line.seq,
                "principal": line.principal,
                "interest": line.interest,
                "principal_paid": line.principal_paid,
                "interest_paid": line.interest_paid,
                "penalty": line.penalty.total(),
                "penalty_paid": line.penalty_paid,
                "compound": line.compound.total(),
                "compound_paid": line.compound_paid,
                "paid_on": line.paid_on,
                "penalty_lines": line.penalty.explained(),
                "compound_lines": line.compound.explained(),
                "waived": (
                    getattr(line, "principal_waived", 0),
                    getattr(line, "interest_waived", 0),
                    getattr(line, "penalty_waived", 0),
                    getattr(line, "compound_waived", 0),
                ),
            }
            for line in lines
        ],
        "waived": tuple(waived(c) for c in Component),
        "waivers": list(oracle.applied),
        "plan": (
            latest.plan.ref if latest else None,
            status,
            latest.broken_on if latest else None,
            plan_due,
            plan_paid,
        ),
        "plan_history": [
            (r.plan.ref, r.broken_on, r.completed_on, r.superseded_on) for r in oracle.records
        ],
    }


def observed_with_concessions(s: LoanState) -> dict[str, Any]:
    view = observed(s)
    for seen, inst in zip(view["instalments"], s.instalments, strict=True):
        seen["waived"] = (
            inst.principal_waived,
            inst.interest_waived,
            inst.penalty_waived,
            inst.compound_waived,
        )
    view["waived"] = (s.waived_penalty, s.waived_compound, s.waived_interest, s.waived_principal)
    view["waivers"] = [
        (
            w.ref,
            w.day,
            w.component,
            w.amount,
            w.applied,
            w.unused,
            tuple((line.seq, line.component, line.amount) for line in w.lines),
        )
        for w in s.waivers
    ]
    view["plan"] = (
        s.plan_ref,
        s.plan_status.value if s.plan_status else None,
        s.plan_broken_on,
        s.plan_due,
        s.plan_paid,
    )
    view["plan_history"] = [(p.ref, p.broken_on, p.completed_on, p.superseded_on) for p in s.plans]
    return view


# --- the oracle checked by hand -------------------------------------------------------------

FIRST_DUE = date(2026, 2, 15)


def test_the_oracle_freezes_penalty_and_breaks_the_plan_on_the_day_after_grace():
    loan = make_loan()
    plan = RepaymentPlan(
        "R1", FIRST_DUE + timedelta(days=10), (PlanInstalment(FIRST_DUE + timedelta(20), 1),)
    )
    view = concession_oracle(loan, [], FIRST_DUE + timedelta(days=30), [], [plan])
    assert view["plan"][1:3] == ("broken", FIRST_DUE + timedelta(days=24))
    assert [(s, d) for s, d, *_ in view["instalments"][0]["penalty_lines"]] == [
        (FIRST_DUE + ONE_DAY, 9),
        (FIRST_DUE + timedelta(days=24), 7),
    ]


def test_the_oracle_leaves_an_oversized_waiver_unused():
    loan = make_loan()
    day = FIRST_DUE + timedelta(days=10)
    waiver = Waiver("W1", day, Component.PENALTY, 1_000)
    view = concession_oracle(loan, [], day, [waiver], [])
    assert view["waivers"] == [
        ("W1", day, Component.PENALTY, 1_000, 620, 380, ((1, Component.PENALTY, 620),))
    ]


# --- the differential test -------------------------------------------------------------------


@st.composite
def aimed_plans(
    draw: st.DrawFn, loan: LoanTerms, payments: list[Payment]
) -> tuple[list[RepaymentPlan], list[Payment]]:
    """One or two plans starting around the loan's due dates, and payments that keep a plan,
    fall short of it by about the tolerance, pay late within or past grace, or settle it."""
    due_dates = [i.due_date for i in loan.schedule]
    plans: list[RepaymentPlan] = []
    extra: list[Payment] = []
    start = draw(st.sampled_from(due_dates)) + timedelta(days=draw(st.integers(-3, 20)))
    start = max(start, loan.start)
    for n in range(draw(st.sampled_from([1, 1, 1, 2]))):
        offsets = sorted(set(draw(st.lists(st.integers(0, 45), min_size=1, max_size=3))))
        size = draw(st.sampled_from([loan.schedule[0].total // 2, loan.schedule[0].total, 3_000]))
        instalments = tuple(
            PlanInstalment(start + timedelta(days=k), draw(st.integers(max(1, size // 2), size)))
            for k in offsets
        )
        plan = RepaymentPlan(
            f"R{n}",
            start,
            instalments,
            grace_days=draw(st.integers(0, 4)),
            tolerance=draw(st.sampled_from([0, 0, 100])),
            waive_rest=draw(st.booleans()),
        )
        plans.append(plan)
        for k, inst in enumerate(instalments):
            how = draw(st.sampled_from(["keep", "keep", "short", "late", "skip"]))
            lag = {"keep": draw(st.integers(-2, 0)), "late": draw(st.integers(1, 6))}.get(how, 0)
            amount = inst.amount - (draw(st.sampled_from([1, 100, 101])) if how == "short" else 0)
            if how != "skip" and amount > 0:
                day = max(inst.due_date + timedelta(days=lag), start)
                extra.append(Payment(f"K{n}{k}", day, amount))
        start += timedelta(days=draw(st.integers(1, 60)))
    return plans, extra


@st.composite
def concession_histories(draw: st.DrawFn):
    loan, payments, as_ofs = draw(histories())
    waivers = draw(waivers_for(loan, as_ofs[0]))
    if payments and draw(st.booleans()):  # a waiver on a payment's day: it goes first
        payment = draw(st.sampled_from(payments))
        component = draw(st.sampled_from(list(Component)))
        amount = draw(st.integers(1, max(1, payment.amount)))
        waivers.append(Waiver("WP", payment.value_date, component, amount))
    plans: list[RepaymentPlan] = []
    if draw(st.integers(0, 3)):
        plans, extra = draw(aimed_plans(loan, payments))
        payments = [*payments, *extra]
        deadlines = [
            i.due_date + timedelta(days=plan.grace_days + k)
            for plan in plans
            for i in plan.instalments
            for k in (0, 1, 2)
        ]
        as_ofs = [*as_ofs[:2], *draw(st.lists(st.sampled_from(deadlines), min_size=1, max_size=2))]
    return loan, payments, as_ofs, waivers, plans


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(concession_histories())
def test_state_with_waivers_and_plans_agrees_with_the_day_by_day_oracle(case):
    loan, payments, as_ofs, waivers, plans = case
    for as_of in as_ofs:
        actual = state(loan, payments, as_of, waivers=waivers, plans=plans)
        if actual.waived_total:
            event("waived something")
        if any(w.unused for w in actual.waivers):
            event("waiver partly unused")
        for p in actual.plans:
            event(f"plan {p.status.value}")
            if p.status.value == "completed" and p.waive_rest:
                event("settled by a plan")
        expected = concession_oracle(loan, payments, as_of, waivers, plans)
        assert observed_with_concessions(actual) == expected


# Hand-picked situations the random search reaches rarely.
def _plan(start: int, *dues: tuple[int, int], **kwargs: Any) -> RepaymentPlan:
    return RepaymentPlan(
        "R1",
        FIRST_DUE + timedelta(days=start),
        tuple(PlanInstalment(FIRST_DUE + timedelta(days=d), a) for d, a in dues),
        **kwargs,
    )


EDGES: dict[str, tuple[ProductTerms, list[tuple[int, int]], list[Waiver], list[RepaymentPlan]]] = {
    "plan across a retroactive grace window": (
        ProductTerms(grace_days=5, grace_retroactive=True),
        [],
        [],
        [_plan(3, (10, 50_000), grace_days=0)],
    ),
    "plan with period rounding and a cost cap, broken": (
        ProductTerms(accrual_rounding=AccrualRounding.PERIOD, cost_cap_annual=Decimal("0.1")),
        [(12, 50_000)],
        [],
        [_plan(5, (12, 50_000), (40, 50_000), grace_days=1)],
    ),
    "settlement paid on the plan's first day": (
        ProductTerms(compound=True),
        [(5, 400_000)],
        [],
        [_plan(5, (5, 400_000), waive_rest=True)],
    ),
    "penalty waiver on the day of a payment that would have paid it": (
        ProductTerms(compound=True),
        [(10, 10_000), (40, 30_000)],
        [
            Waiver("W1", FIRST_DUE + timedelta(days=10), Component.PENALTY, 2_000),
            Waiver("W2", FIRST_DUE + timedelta(days=40), Component.COMPOUND, 2_000),
        ],
        [],
    ),
    "principal waiver then an early payoff": (
        ProductTerms(),
        [(-10, 900_000)],
        [Waiver("W1", FIRST_DUE - timedelta(days=12), Component.PRINCIPAL, 100_000)],
        [],
    ),
    "interest waiver of instalments not yet due, then settled early": (
        ProductTerms(),
        [(2, 2_000_000)],
        [Waiver("W1", FIRST_DUE + timedelta(days=1), Component.INTEREST, 40_000)],
        [],
    ),
}


@pytest.mark.parametrize(("product", "pays", "waivers", "plans"), EDGES.values(), ids=EDGES)
def test_state_agrees_with_the_oracle_on_hand_picked_concessions(product, pays, waivers, plans):
    loan = make_loan(term=3, product=product)
    payments = [Payment(f"E{n}", FIRST_DUE + timedelta(days=d), a) for n, (d, a) in enumerate(pays)]
    last = loan.schedule[-1].due_date + timedelta(days=10)
    for k in range((last - loan.start).days + 1):
        as_of = loan.start + timedelta(days=k)
        expected = concession_oracle(loan, payments, as_of, waivers, plans)
        actual = state(loan, payments, as_of, waivers=waivers, plans=plans)
        assert observed_with_concessions(actual) == expected, as_of
