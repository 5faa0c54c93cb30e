"""The state of a loan on any date, as a pure function of its history.

``state(loan, payments, as_of, waivers=..., plans=...)`` replays the loan from its start to the
end of ``as_of``: it is never patched, so a back-dated payment, a reversal or a late waiver is
handled simply by calling it again.

One day ``t`` is processed in this order, which is the contract every engine must follow:

0. repayment plans (:mod:`arrears.kernel.plans`): an active plan with an instalment still not
   covered at the end of yesterday, its last grace day, is broken today; a plan effective
   today becomes active (ending an earlier plan still active), and under ``period`` rounding
   the penalty and compound runs that reached yesterday end rounded down, so the freeze never
   adds a rounding fen (:meth:`PenaltyAccrual.freeze`; under a cost cap the exact running total
   of :class:`RunningTotalAccrual` needs nothing);
1. grace windows that ended yesterday are settled: an instalment still unpaid (above the
   tolerance) at the end of its last grace day keeps the grace-day penalty when grace is
   retroactive; one paid within grace owes none;
2. penalty and compound interest accrue for day ``t`` on the overdue amounts as they stood at
   the start of the day (after grace, under the cost cap when the product has one) — unless a
   repayment plan is active on ``t``, which freezes them;
3. waivers effective on ``t`` reduce what is owed on their component, oldest due instalment
   first; what finds nothing to reduce is unused (never credit);
4. instalments due on ``t`` become payable and a credit balance is applied to them;
5. payments valued on ``t`` are allocated (oldest instalment first, product component order),
   and a remainder becomes credit; when credit covers the payoff (principal not yet due plus
   interest for the days used) the loan is settled early;
6. an active plan is completed when the loan is closed or its instalments are covered in full;
   a settlement plan (``waive_rest``) then applies the credit and waives the rest, so the loan
   closes that day.

Without waivers and plans steps 0, 3 and 6 do nothing and the replay is exactly the one every
engine reproduces. Amounts are int minor units of ``loan.currency``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import TypeVar

from arrears.kernel import contract
from arrears.kernel.accrual import (
    PenaltyAccrual,
    PenaltyPeriod,
    RunningTotalAccrual,
    cost_cap,
    interest_for_days_used,
)
from arrears.kernel.allocation import AllocationLine, allocate
from arrears.kernel.delinquency import bucket_for, days_past_due
from arrears.kernel.errors import InvalidDate, InvalidTerms
from arrears.kernel.plans import PlanRun, PlanState, PlanStatus
from arrears.kernel.terms import (
    AccrualRounding,
    Component,
    Instalment,
    LoanTerms,
    Payment,
    ProductTerms,
    RepaymentPlan,
    Waiver,
)

ONE_DAY = timedelta(days=1)
Accrual = PenaltyAccrual | RunningTotalAccrual


def new_accrual(loan: LoanTerms) -> Accrual:
    """The product's accrual: runs rounded one by one, or under a cost cap with ``period``
    rounding the exact running total rounded once (:class:`RunningTotalAccrual` says why)."""
    product: ProductTerms = loan.product
    rate, rounding, mode = loan.penalty_rate, product.rounding, product.accrual_rounding
    if product.cost_cap_annual is not None and mode is AccrualRounding.PERIOD:
        return RunningTotalAccrual(rate, rounding, mode)
    return PenaltyAccrual(rate, rounding, mode)


_Dated = TypeVar("_Dated", Payment, Waiver)


class InstalmentStatus(StrEnum):
    NOT_DUE = "not_due"
    DUE = "due"  # due today, not yet past due
    OVERDUE = "overdue"
    PAID = "paid"


@dataclass(frozen=True, slots=True)
class InstalmentState:
    seq: int
    due_date: date
    period_start: date
    period_end: date
    principal: int
    interest: int
    principal_paid: int
    interest_paid: int
    penalty: int
    penalty_paid: int
    compound: int
    compound_paid: int
    penalty_periods: tuple[PenaltyPeriod, ...]
    compound_periods: tuple[PenaltyPeriod, ...]
    grace_penalty_pending: int
    paid_on: date | None
    status: InstalmentStatus
    dpd: int
    principal_waived: int = 0
    interest_waived: int = 0
    penalty_waived: int = 0
    compound_waived: int = 0

    @property
    def principal_outstanding(self) -> int:
        return self.principal - self.principal_paid - self.principal_waived

    @property
    def interest_outstanding(self) -> int:
        return self.interest - self.interest_paid - self.interest_waived

    @property
    def penalty_outstanding(self) -> int:
        return self.penalty - self.penalty_paid - self.penalty_waived

    @property
    def compound_outstanding(self) -> int:
        return self.compound - self.compound_paid - self.compound_waived

    @property
    def waived(self) -> int:
        return (
            self.principal_waived
            + self.interest_waived
            + self.penalty_waived
            + self.compound_waived
        )

    @property
    def outstanding(self) -> int:
        return (
            self.principal_outstanding
            + self.interest_outstanding
            + self.penalty_outstanding
            + self.compound_outstanding
        )


@dataclass(frozen=True, slots=True)
class PaymentApplication:
    """How one payment (or the credit balance, ref ``"credit"``) was applied on ``value_date``."""

    ref: str
    value_date: date
    amount: int
    lines: tuple[AllocationLine, ...]
    to_credit: int
    settled: bool


@dataclass(frozen=True, slots=True)
class WaiverApplication:
    """How one waiver was applied on ``day``: ``applied`` went to the ``lines`` (oldest due
    instalment first), ``unused`` found nothing to reduce. ``component`` is ``None`` for the
    settlement waiver a completed ``waive_rest`` plan makes (ref ``"<plan>:rest"``), which
    waives whatever was left on every component."""

    ref: str
    day: date
    component: Component | None
    amount: int
    applied: int
    unused: int
    lines: tuple[AllocationLine, ...]


@dataclass(frozen=True, slots=True)
class LoanState:
    """A loan's state at the end of ``as_of``: the contract's figures (documented below, from
    :mod:`arrears.kernel.contract`), then the replay's detail — per instalment, per payment,
    per waiver and per plan — that explanations and statements read."""

    ref: str
    currency: str
    as_of: date
    dpd: int
    bucket: str
    overdue_principal: int
    overdue_interest: int
    penalty_outstanding: int
    compound_outstanding: int
    total_due: int
    principal_outstanding: int
    accrued_interest: int
    payoff: int
    credit: int
    penalty_accrued: int
    compound_accrued: int
    paid_total: int
    settled_on: date | None
    next_due_on: date | None
    instalments: tuple[InstalmentState, ...]
    applications: tuple[PaymentApplication, ...]
    # --- waivers (减免); all derived by replay, zero without waivers ---
    waived_total: int = 0
    waived_penalty: int = 0
    waived_compound: int = 0
    waived_interest: int = 0
    waived_principal: int = 0
    waivers: tuple[WaiverApplication, ...] = ()
    # --- repayment plans (分期协商) of the latest plan effective by ``as_of`` ---
    plan_ref: str | None = None
    plan_status: PlanStatus | None = None
    plan_broken_on: date | None = None
    plan_due: int = 0  # plan arrears while the plan is active (then also ``total_due``)
    plan_paid: int = 0  # coverage: payments made while the plan was active
    plans: tuple[PlanState, ...] = ()

    @property
    def plan_active(self) -> bool:
        """DPD, bucket and ``total_due`` follow the plan rather than the contract."""
        return self.plan_status is PlanStatus.ACTIVE

    @property
    def delinquent(self) -> bool:
        return self.dpd > 0

    @property
    def closed(self) -> bool:
        """Nothing owed now or later (paid off or settled early)."""
        return self.payoff == 0 and self.principal_outstanding == 0


LoanState.__doc__ = f"{LoanState.__doc__}\n\n{contract.attributes_doc()}"


class _Work:
    """Mutable working copy of one instalment during the replay."""

    __slots__ = (
        "comp",
        "compound_paid",
        "compound_waived",
        "grace_comp",
        "grace_pen",
        "inst",
        "interest_due",
        "interest_paid",
        "interest_waived",
        "paid_on",
        "pen",
        "penalty_paid",
        "penalty_waived",
        "principal_due",
        "principal_paid",
        "principal_waived",
    )

    def __init__(self, inst: Instalment, loan: LoanTerms) -> None:
        self.inst = inst
        self.principal_due = inst.principal
        self.interest_due = inst.interest
        self.principal_paid = 0
        self.interest_paid = 0
        self.penalty_paid = 0
        self.compound_paid = 0
        self.principal_waived = 0
        self.interest_waived = 0
        self.penalty_waived = 0
        self.compound_waived = 0
        self.paid_on: date | None = None
        self.pen = new_accrual(loan)
        self.comp = new_accrual(loan)
        self.grace_pen = new_accrual(loan)
        self.grace_comp = new_accrual(loan)

    def principal_owed(self) -> int:
        """The penalty base: principal neither paid nor waived."""
        return self.principal_due - self.principal_paid - self.principal_waived

    def interest_owed(self) -> int:
        """The compound base: interest neither paid nor waived."""
        return self.interest_due - self.interest_paid - self.interest_waived

    def owed(self) -> dict[Component, int]:
        return {
            Component.PENALTY: self.pen.total - self.penalty_paid - self.penalty_waived,
            Component.COMPOUND: self.comp.total - self.compound_paid - self.compound_waived,
            Component.INTEREST: self.interest_owed(),
            Component.PRINCIPAL: self.principal_owed(),
        }

    def unpaid_contractual(self) -> int:
        return self.principal_owed() + self.interest_owed()

    def outstanding(self) -> int:
        return sum(self.owed().values())

    def pay(self, component: Component, amount: int, day: date) -> None:
        if component is Component.PENALTY:
            self.penalty_paid += amount
        elif component is Component.COMPOUND:
            self.compound_paid += amount
        elif component is Component.INTEREST:
            self.interest_paid += amount
        else:
            self.principal_paid += amount
        if self.paid_on is None and self.outstanding() == 0:
            self.paid_on = day

    def waive(self, component: Component, amount: int, day: date) -> None:
        if component is Component.PENALTY:
            self.penalty_waived += amount
        elif component is Component.COMPOUND:
            self.compound_waived += amount
        elif component is Component.INTEREST:
            self.interest_waived += amount
        else:
            self.principal_waived += amount
        if self.paid_on is None and self.outstanding() == 0:
            self.paid_on = day  # cleared by paying and waiving: settled, DPD moves on


class _Replay:
    """One replay of one loan up to ``as_of``; :func:`state` is its only user."""

    def __init__(self, loan: LoanTerms, as_of: date) -> None:
        self.loan = loan
        self.product = loan.product
        self.as_of = as_of
        self.work = [_Work(i, loan) for i in sorted(loan.schedule, key=lambda i: i.due_date)]
        self.credit = 0
        self.settled_on: date | None = None
        self.applications: list[PaymentApplication] = []
        self.waivers: list[WaiverApplication] = []
        self.plans: list[PlanRun] = []

    # --- step 0: repayment plans ------------------------------------------------------
    def _plan(self) -> PlanRun | None:
        """The plan active now, if any (only the latest plan can be)."""
        return self.plans[-1] if self.plans and self.plans[-1].active else None

    def start_plans(self, day: date, starting: list[RepaymentPlan]) -> None:
        run = self._plan()
        if run is not None and run.missed_deadline(day):
            run.broken_on = day
        for plan in starting:
            run = self._plan()
            if run is not None:
                run.superseded_on = day
            self.plans.append(PlanRun(plan))
        if starting:  # accrual is frozen from today: a period run that reached yesterday ends
            for w in self.work:
                for acc in (w.pen, w.comp, w.grace_pen, w.grace_comp):
                    acc.freeze(day)

    def finish_plan(self, day: date) -> None:
        """Step 6: complete the active plan when the loan is closed or the plan is covered."""
        run = self._plan()
        if run is None:
            return
        closed = all(w.outstanding() == 0 for w in self.work)
        if not closed and not run.fully_covered():
            return
        run.completed_on = day
        if run.plan.waive_rest and not closed:
            self._settle_rest(day, run.plan.rest_ref)

    def _settle_rest(self, day: date, ref: str) -> None:
        """Settlement (结清减免): the loan is paid off today as if early, the credit is applied,
        and whatever is still owed is waived. The instalments not yet due owe principal and the
        interest for the days used in the current period (as an early payoff would), never
        their later scheduled interest, so the waived amount is exactly the payoff the
        borrower was spared."""
        _, interest = self._payoff_future(day)
        for index, w in enumerate(self._future(day)):
            w.interest_due = w.interest_paid + w.interest_waived + (interest if index == 0 else 0)
        if self.credit > 0:
            amount, self.credit = self.credit, 0
            self._allocate("credit", day, amount, everything=True)
        lines: list[AllocationLine] = []
        for w in self.work:
            owed = w.owed()
            for component in self.product.allocation_order:
                if owed[component] > 0:
                    lines.append(AllocationLine(w.inst.seq, component, owed[component]))
                    w.waive(component, owed[component], day)
            if w.paid_on is None:
                w.paid_on = day
        self.settled_on = day
        if lines:
            applied = sum(line.amount for line in lines)
            self.waivers.append(
                WaiverApplication(ref, day, None, applied, applied, 0, tuple(lines))
            )

    # --- cost cap ---------------------------------------------------------------------
    def _cost(self, day: date) -> int:
        interest = sum(w.interest_due for w in self.work if w.inst.due_date <= day)
        return interest + sum(w.pen.total + w.comp.total for w in self.work)

    def _cap(self, day: date) -> int | None:
        cap = self.product.cost_cap_annual
        return None if cap is None else cost_cap(self.loan.principal, cap, self.loan.start, day)

    # --- step 1: grace ----------------------------------------------------------------
    def confirm_grace(self, day: date) -> None:
        grace = self.product.grace_days
        if grace == 0:
            return
        for w in self.work:
            if w.inst.due_date + timedelta(days=grace + 1) != day:
                continue
            pending_pen, pending_comp = w.grace_pen, w.grace_comp
            w.grace_pen = new_accrual(self.loan)
            w.grace_comp = new_accrual(self.loan)
            if w.unpaid_contractual() <= self.product.tolerance:
                continue  # paid within grace: the grace-day penalty is forgiven
            for pending, target in ((pending_pen, w.pen), (pending_comp, w.comp)):
                amount = pending.total
                cap = self._cap(day - ONE_DAY)
                headroom = None if cap is None else max(0, cap - self._cost(day - ONE_DAY))
                if isinstance(target, RunningTotalAccrual):
                    assert isinstance(pending, RunningTotalAccrual) and cap is not None
                    target.absorb_within(pending, cap - self._cost(day - ONE_DAY) + target.total)
                elif isinstance(pending, RunningTotalAccrual):
                    raise AssertionError("one loan's accruals are all of one kind")
                elif headroom is None or amount <= headroom:
                    target.absorb(pending)
                elif pending.periods():
                    first = pending.periods()[0]
                    days = sum(p.days for p in pending.periods())
                    target.add_capped(first.start, days, first.base, headroom)

    # --- step 2: accrual --------------------------------------------------------------
    def accrue(self, first: date, last: date) -> None:
        """Accrue days ``first``..``last``; no due date, grace end or plan change lies strictly
        inside, so an active plan freezes either all of these days or none."""
        days = (last - first).days + 1
        if days <= 0 or self._plan() is not None:
            return
        overdue = [w for w in self.work if w.inst.due_date < first and w.outstanding() > 0]
        if not overdue:
            return
        grace = self.product.grace_days
        compound = self.product.compound
        capped = self.product.cost_cap_annual is not None
        for w in overdue:
            in_grace = grace > 0 and first <= w.inst.due_date + timedelta(days=grace)
            if in_grace:
                if self.product.grace_retroactive:
                    w.grace_pen.add(first, days, w.principal_owed())
                    if compound:
                        w.grace_comp.add(first, days, w.interest_owed())
                continue
            if not capped:
                w.pen.add(first, days, w.principal_owed())
                if compound:
                    w.comp.add(first, days, w.interest_owed())
        if capped:
            day = first
            while day <= last:
                self._accrue_capped_day(day, [w for w in overdue if not self._in_grace(w, day)])
                day += ONE_DAY

    def _in_grace(self, w: _Work, day: date) -> bool:
        grace = self.product.grace_days
        return grace > 0 and day <= w.inst.due_date + timedelta(days=grace)

    def _accrue_capped_day(self, day: date, overdue: list[_Work]) -> None:
        cap = self._cap(day)
        assert cap is not None
        cost = self._cost(day)
        for w in overdue:
            pairs = [(w.pen, w.principal_owed())]
            if self.product.compound:
                pairs.append((w.comp, w.interest_owed()))
            for acc, base in pairs:
                if base <= 0:
                    acc.add(day, 1, 0)
                    continue
                if isinstance(acc, RunningTotalAccrual):
                    before = acc.total
                    acc.add_within(day, base, cap - cost + before)
                    cost += acc.total - before
                    continue
                increment = acc.increment_if_added(day, 1, base)
                if cost + increment <= cap:
                    acc.add(day, 1, base)
                    cost += increment
                else:
                    allowed = max(0, cap - cost)
                    acc.add_capped(day, 1, base, allowed)
                    cost += allowed

    # --- step 3: waivers --------------------------------------------------------------
    def waive(self, waiver: Waiver, day: date) -> None:
        """Reduce the owed ``waiver.component`` oldest due instalment first (instalments not
        yet due included); the part that finds nothing to reduce is unused."""
        owed = [(w.inst.seq, w.owed()) for w in self.work]
        result = allocate(waiver.amount, owed, (waiver.component,))
        by_seq = {w.inst.seq: w for w in self.work}
        for line in result.lines:
            by_seq[line.seq].waive(line.component, line.amount, day)
        self.waivers.append(
            WaiverApplication(
                waiver.ref,
                day,
                waiver.component,
                waiver.amount,
                result.allocated,
                result.remainder,
                result.lines,
            )
        )

    # --- steps 4 and 5: dues, credit, payments ---------------------------------------
    def _allocate(self, ref: str, day: date, amount: int, *, everything: bool = False) -> None:
        due = [(w.inst.seq, w.owed()) for w in self.work if everything or w.inst.due_date <= day]
        result = allocate(amount, due, self.product.allocation_order)
        by_seq = {w.inst.seq: w for w in self.work}
        for line in result.lines:
            by_seq[line.seq].pay(line.component, line.amount, day)
        self.credit += result.remainder
        settled = self._try_settle(day) if self.credit > 0 else False
        self.applications.append(
            PaymentApplication(ref, day, amount, result.lines, result.remainder, settled)
        )

    def apply_credit(self, day: date) -> None:
        if self.credit > 0 and any(w.inst.due_date == day for w in self.work):
            amount, self.credit = self.credit, 0
            self._allocate("credit", day, amount)

    def pay(self, payment: Payment) -> None:
        run = self._plan()
        if run is not None:
            run.coverage += payment.amount  # the full amount, whatever it is allocated to
        self._allocate(payment.ref, payment.value_date, payment.amount)

    def _future(self, day: date) -> list[_Work]:
        return [w for w in self.work if w.inst.due_date > day]

    def _payoff_future(self, day: date) -> tuple[int, int]:
        """(principal not yet due, interest for the days used in the current period)."""
        future = self._future(day)
        if not future:
            return 0, 0
        principal = sum(w.principal_owed() for w in future)
        current = future[0]
        days = (day - current.inst.period_start).days
        interest = interest_for_days_used(
            principal,
            self.loan.daily_rate,
            days,
            current.interest_owed(),
            self.product.rounding,
        )
        return principal, interest

    def _try_settle(self, day: date) -> bool:
        future = self._future(day)
        principal, interest = self._payoff_future(day)
        if not future or principal == 0 or self.credit < principal + interest:
            return False
        for index, w in enumerate(future):
            w.interest_due = w.interest_paid + w.interest_waived + (interest if index == 0 else 0)
            w.principal_paid = w.principal_due - w.principal_waived
            w.interest_paid = w.interest_due - w.interest_waived
            w.paid_on = day
        self.credit -= principal + interest
        self.settled_on = day
        return True

    # --- the result -------------------------------------------------------------------
    def result(self) -> LoanState:
        as_of, tolerance = self.as_of, self.product.tolerance
        instalments = tuple(self._instalment_state(w) for w in self.work)
        dpd = days_past_due(((i.due_date, i.outstanding) for i in instalments), as_of, tolerance)
        past = [i for i in instalments if i.due_date < as_of]
        due_now = [i for i in instalments if i.due_date <= as_of]
        contractual_due = sum(i.outstanding for i in due_now)
        total_due = contractual_due
        future_principal, accrued = self._payoff_future(as_of)
        plans = tuple(run.result(as_of) for run in self.plans)
        latest = plans[-1] if plans else None
        if latest is not None and latest.status is PlanStatus.ACTIVE:
            dpd, total_due = latest.dpd, latest.arrears
        waived = {
            component: sum(
                line.amount for a in self.waivers for line in a.lines if line.component is component
            )
            for component in Component
        }
        return LoanState(
            ref=self.loan.ref,
            currency=self.loan.currency,
            as_of=as_of,
            dpd=dpd,
            bucket=bucket_for(dpd, self.product.buckets),
            overdue_principal=sum(i.principal_outstanding for i in past),
            overdue_interest=sum(i.interest_outstanding for i in past),
            penalty_outstanding=sum(i.penalty_outstanding for i in instalments),
            compound_outstanding=sum(i.compound_outstanding for i in instalments),
            total_due=total_due,
            principal_outstanding=sum(i.principal_outstanding for i in instalments),
            accrued_interest=accrued,
            payoff=max(0, contractual_due + future_principal + accrued - self.credit),
            credit=self.credit,
            penalty_accrued=sum(i.penalty for i in instalments),
            compound_accrued=sum(i.compound for i in instalments),
            paid_total=sum(a.amount for a in self.applications if a.ref != "credit"),
            settled_on=self.settled_on,
            next_due_on=min(
                (i.due_date for i in instalments if i.due_date >= as_of and i.outstanding > 0),
                default=None,
            ),
            instalments=instalments,
            applications=tuple(self.applications),
            waived_total=sum(waived.values()),
            waived_penalty=waived[Component.PENALTY],
            waived_compound=waived[Component.COMPOUND],
            waived_interest=waived[Component.INTEREST],
            waived_principal=waived[Component.PRINCIPAL],
            waivers=tuple(self.waivers),
            plan_ref=latest.ref if latest else None,
            plan_status=latest.status if latest else None,
            plan_broken_on=latest.broken_on if latest else None,
            plan_due=latest.arrears if latest else 0,
            plan_paid=latest.coverage if latest else 0,
            plans=plans,
        )

    def _instalment_state(self, w: _Work) -> InstalmentState:
        as_of = self.as_of
        outstanding = w.outstanding()
        if outstanding == 0 and w.paid_on is not None:
            status = InstalmentStatus.PAID
        elif w.inst.due_date > as_of:
            status = InstalmentStatus.NOT_DUE
        elif w.inst.due_date == as_of:
            status = InstalmentStatus.DUE
        else:
            status = InstalmentStatus.OVERDUE
        dpd = 0
        if status is InstalmentStatus.OVERDUE and outstanding > self.product.tolerance:
            dpd = (as_of - w.inst.due_date).days
        return InstalmentState(
            seq=w.inst.seq,
            due_date=w.inst.due_date,
            period_start=w.inst.period_start,
            period_end=w.inst.period_end,
            principal=w.principal_due,
            interest=w.interest_due,
            principal_paid=w.principal_paid,
            interest_paid=w.interest_paid,
            penalty=w.pen.total,
            penalty_paid=w.penalty_paid,
            compound=w.comp.total,
            compound_paid=w.compound_paid,
            penalty_periods=w.pen.periods(),
            compound_periods=w.comp.periods(),
            grace_penalty_pending=w.grace_pen.total + w.grace_comp.total,
            paid_on=w.paid_on,
            status=status,
            dpd=dpd,
            principal_waived=w.principal_waived,
            interest_waived=w.interest_waived,
            penalty_waived=w.penalty_waived,
            compound_waived=w.compound_waived,
        )


def _by_day(
    items: Iterable[_Dated], day_of: Callable[[_Dated], date], loan: LoanTerms, kind: str
) -> dict[date, list[_Dated]]:
    """Items in (date, reference) order grouped by the day they are applied on (an item dated
    before the loan starts is applied on its first day); references must be unique."""
    ordered = sorted(items, key=lambda item: (day_of(item), item.ref))
    refs = [item.ref for item in ordered]
    if len(set(refs)) != len(refs):
        raise InvalidTerms(f"loan {loan.ref}: duplicate {kind} reference")
    grouped: dict[date, list[_Dated]] = defaultdict(list)
    for item in ordered:
        grouped[max(day_of(item), loan.start)].append(item)
    return grouped


def _checked_plans(loan: LoanTerms, plans: Iterable[RepaymentPlan]) -> list[RepaymentPlan]:
    """Plans in start order; they may not start on the same day or before the loan."""
    ordered = sorted(plans, key=lambda plan: plan.effective_on)
    refs = [plan.ref for plan in ordered]
    if len(set(refs)) != len(refs):
        raise InvalidTerms(f"loan {loan.ref}: duplicate plan reference")
    for plan in ordered:
        if plan.effective_on < loan.start:
            raise InvalidTerms(f"loan {loan.ref}: plan {plan.ref} starts before the loan")
    for earlier, later in pairwise(ordered):
        if later.effective_on <= earlier.effective_on:
            raise InvalidTerms(
                f"loan {loan.ref}: plans {earlier.ref} and {later.ref} start on the same day"
            )
    return ordered


def state(
    loan: LoanTerms,
    payments: Iterable[Payment],
    as_of: date,
    *,
    waivers: Iterable[Waiver] = (),
    plans: Iterable[RepaymentPlan] = (),
) -> LoanState:
    """The full state of ``loan`` at the end of ``as_of``, from its terms and history.

    Payments and waivers are taken in (date, reference) order whatever order they are given in;
    one reversed on or before ``as_of`` counts as never made. Plans effective after ``as_of``
    are ignored; plans may not start on the same day. Called without waivers and plans the
    result is exactly the contractual replay.
    """
    if as_of < loan.start:
        raise InvalidDate(f"loan {loan.ref}: as-of date {as_of} is before its start {loan.start}")
    by_day = _by_day(
        (p for p in payments if p.effective(as_of)), lambda p: p.value_date, loan, "payment"
    )
    waivers_by_day = _by_day(
        (w for w in waivers if w.effective(as_of)), lambda w: w.effective_on, loan, "waiver"
    )
    all_plans = _checked_plans(loan, plans)
    rest_refs = {plan.rest_ref for plan in all_plans}
    if any(w.ref in rest_refs for day in waivers_by_day.values() for w in day):
        raise InvalidTerms(f"loan {loan.ref}: a waiver reference is taken by a plan settlement")
    plans_by_day: dict[date, list[RepaymentPlan]] = defaultdict(list)
    for plan in all_plans:
        if plan.effective_on <= as_of:
            plans_by_day[plan.effective_on].append(plan)

    replay = _Replay(loan, as_of)
    grace = loan.product.grace_days
    events = {loan.start, as_of, *by_day, *waivers_by_day, *plans_by_day}
    for inst in loan.schedule:
        events.add(inst.due_date)
        if grace:
            events.add(inst.due_date + timedelta(days=grace + 1))
    for plan in all_plans:
        if plan.effective_on <= as_of:
            events.update(PlanRun(plan).deadlines())
    cursor = loan.start - ONE_DAY
    for day in sorted(e for e in events if loan.start <= e <= as_of):
        replay.accrue(cursor + ONE_DAY, day - ONE_DAY)
        replay.start_plans(day, plans_by_day.get(day, []))
        replay.confirm_grace(day)
        replay.accrue(day, day)
        for waiver in waivers_by_day.get(day, ()):
            replay.waive(waiver, day)
        replay.apply_credit(day)
        for payment in by_day.get(day, ()):
            replay.pay(payment)
        replay.finish_plan(day)
        cursor = day
    return replay.result()
