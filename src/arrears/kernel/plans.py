"""Repayment plans (分期协商) and settlements during the replay: coverage, breaking, completion.

A plan does not replace the loan's ledger: payments are still allocated to the contractual
instalments (one ledger truth). What the plan changes, while it is *active*:

* penalty and compound interest do not accrue (the frozen days are never charged later; a
  cost cap still grows with calendar days, so days it would have cut after the plan may now
  be charged — never more in total than without the plan);
* days past due, the bucket and the total due are measured on the plan: *coverage* is the sum
  of the payments valued on or after the plan's start (each payment's full amount), and a plan
  instalment is covered when coverage plus the plan's tolerance reaches the cumulative plan
  amount up to it.

A plan instalment still not covered at the end of ``due_date + grace_days`` *breaks* the plan on
the next day; from then on the loan is contractual again. A plan *completes* on the day the loan
is closed or coverage (plus tolerance) reaches the plan's total; a settlement plan
(``waive_rest``) then waives whatever the loan still owes. A later plan's start ends an earlier
plan that is still active (*superseded*).

All of this is derived by replay (:func:`arrears.kernel.state.state`), never stored, so a
back-dated payment that rescues a broken plan is handled by recomputing like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import accumulate

from arrears.kernel.terms import RepaymentPlan

ONE_DAY = timedelta(days=1)


class PlanStatus(StrEnum):
    ACTIVE = "active"
    BROKEN = "broken"  # a plan instalment stayed uncovered past its grace days
    COMPLETED = "completed"  # covered in full, or the loan closed
    SUPERSEDED = "superseded"  # a later plan started while this one was active


@dataclass(frozen=True, slots=True)
class PlanInstalmentState:
    """One plan instalment as of the state's date (or as of the end of the plan)."""

    seq: int
    due_date: date
    amount: int
    cumulative: int  # plan amounts due up to and including this instalment
    covered: bool  # coverage + tolerance ≥ cumulative


@dataclass(frozen=True, slots=True)
class PlanState:
    """What a plan did up to the state's date.

    ``coverage`` counts the payments made while the plan was active. ``arrears`` and ``dpd`` are
    the plan's own figures and are only non-zero while the plan is active (afterwards the loan is
    contractual again). ``frozen_from``…``frozen_to`` are the days on which the plan kept
    penalty and compound interest from accruing (``frozen_days`` of them).
    """

    ref: str
    effective_on: date
    grace_days: int
    tolerance: int
    waive_rest: bool
    total: int
    instalments: tuple[PlanInstalmentState, ...]
    status: PlanStatus
    coverage: int
    arrears: int
    dpd: int
    broken_on: date | None
    completed_on: date | None
    superseded_on: date | None
    frozen_from: date
    frozen_to: date
    frozen_days: int


class PlanRun:
    """Mutable working state of one plan during a replay (private to :mod:`.state`)."""

    __slots__ = ("broken_on", "completed_on", "coverage", "cumulative", "plan", "superseded_on")

    def __init__(self, plan: RepaymentPlan) -> None:
        self.plan = plan
        self.coverage = 0
        self.cumulative = tuple(accumulate(i.amount for i in plan.instalments))
        self.broken_on: date | None = None
        self.completed_on: date | None = None
        self.superseded_on: date | None = None

    @property
    def active(self) -> bool:
        return self.broken_on is None and self.completed_on is None and self.superseded_on is None

    def covered(self, cumulative: int) -> bool:
        return self.coverage + self.plan.tolerance >= cumulative

    def missed_deadline(self, day: date) -> bool:
        """Whether a plan instalment whose grace ended yesterday is still not covered."""
        grace = timedelta(days=self.plan.grace_days)
        return any(
            inst.due_date + grace + ONE_DAY == day and not self.covered(cumulative)
            for inst, cumulative in zip(self.plan.instalments, self.cumulative, strict=True)
        )

    def deadlines(self) -> list[date]:
        """The days on which the plan may break (the day after each grace window)."""
        grace = timedelta(days=self.plan.grace_days)
        return [i.due_date + grace + ONE_DAY for i in self.plan.instalments]

    def fully_covered(self) -> bool:
        return self.covered(self.cumulative[-1])

    def last_active_day(self, as_of: date) -> date:
        if self.broken_on is not None:
            return self.broken_on - ONE_DAY
        if self.superseded_on is not None:
            return self.superseded_on - ONE_DAY
        if self.completed_on is not None:
            return self.completed_on
        return as_of

    def result(self, as_of: date) -> PlanState:
        plan = self.plan
        instalments = tuple(
            PlanInstalmentState(
                seq, inst.due_date, inst.amount, cumulative, self.covered(cumulative)
            )
            for seq, (inst, cumulative) in enumerate(
                zip(plan.instalments, self.cumulative, strict=True), start=1
            )
        )
        if self.broken_on is not None:
            status = PlanStatus.BROKEN
        elif self.completed_on is not None:
            status = PlanStatus.COMPLETED
        elif self.superseded_on is not None:
            status = PlanStatus.SUPERSEDED
        else:
            status = PlanStatus.ACTIVE
        arrears = dpd = 0
        if status is PlanStatus.ACTIVE:
            due = [i for i in instalments if i.due_date <= as_of]
            arrears = max(0, (due[-1].cumulative if due else 0) - self.coverage)
            late = [i for i in instalments if i.due_date < as_of and not i.covered]
            dpd = (as_of - late[0].due_date).days if late else 0
        frozen_to = self.last_active_day(as_of)
        return PlanState(
            ref=plan.ref,
            effective_on=plan.effective_on,
            grace_days=plan.grace_days,
            tolerance=plan.tolerance,
            waive_rest=plan.waive_rest,
            total=plan.total,
            instalments=instalments,
            status=status,
            coverage=self.coverage,
            arrears=arrears,
            dpd=dpd,
            broken_on=self.broken_on,
            completed_on=self.completed_on,
            superseded_on=self.superseded_on,
            frozen_from=plan.effective_on,
            frozen_to=frozen_to,
            frozen_days=max(0, (frozen_to - plan.effective_on).days + 1),
        )
