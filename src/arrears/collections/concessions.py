"""Waivers (减免) and repayment plans (分期协商) / settlements: request, preview, approve, reverse.

Both are ledger history (``ledger.Waiver``, ``ledger.RepaymentPlan``): once approved the kernel
reads them, so ``explain``, the daily run and the portal all account for them. Their amounts
are checked against the ledger as of their effective date, and their approval against the role
limits (``arrears.collections.approvals``). Waived totals are always derived by replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction

from arrears.collections import approvals
from arrears.collections.models import ApprovalLimit, Case, CaseEvent, Collector
from arrears.collections.services import CollectionsError
from arrears.collections.workflow import business_date, money_text, reevaluate
from arrears.kernel.state import LoanState
from arrears.kernel.terms import Component, Payment
from arrears.kernel.terms import PlanInstalment as KernelPlanInstalment
from arrears.kernel.terms import RepaymentPlan as KernelPlan
from arrears.ledger import selectors
from arrears.ledger.models import Approval, Loan, PlanInstalment, RepaymentPlan, Waiver


def _event(loan: Loan, kind: str, to: str, cause: str, actor: Any, on: date) -> None:
    for case in Case.objects.filter(borrower_id=loan.borrower_id, closed_on__isnull=True):
        CaseEvent.objects.create(case=case, on=on, kind=kind, to_value=to, cause=cause, actor=actor)


def ledger_state(loan: Loan, as_of: date, **extra: Any) -> LoanState:
    """The loan's kernel state with its ledger history (plus hypothetical ``extra`` items)."""
    return selectors.loan_state(loan, as_of, **extra)[1]


def component_outstanding(current: LoanState, component: Component) -> int:
    """What is owed now on one component, across all instalments."""
    return sum(
        {
            Component.PENALTY: i.penalty_outstanding,
            Component.COMPOUND: i.compound_outstanding,
            Component.INTEREST: i.interest_outstanding,
            Component.PRINCIPAL: i.principal_outstanding,
        }[component]
        for i in current.instalments
    )


# --- waivers ---------------------------------------------------------------------------------


def request_waiver(
    loan: Loan,
    *,
    component: str,
    amount_minor: int,
    reason: str,
    user: Any,
    effective_on: date | None = None,
    note: str = "",
) -> Waiver:
    """Ask to waive ``amount_minor`` of one component; refused when more than is owed."""
    day = effective_on or business_date()
    if component not in Component.__members__.values():
        raise CollectionsError(f"component: {component!r} is not one of {list(Component)}")
    if reason not in Waiver.Reason.values:
        raise CollectionsError(f"reason: {reason!r} is not one of {Waiver.Reason.values}")
    if amount_minor <= 0:
        raise CollectionsError("amount: must be positive")
    owed = component_outstanding(ledger_state(loan, day), Component(component))
    if amount_minor > owed:
        raise CollectionsError(
            f"amount: {amount_minor} is more than the {component} owed on {day} ({owed})"
        )
    with transaction.atomic():
        Loan.objects.select_for_update().filter(pk=loan.pk).first()  # one numbering at a time
        number = Waiver.objects.filter(loan=loan).count() + 1
        waiver = Waiver.objects.create(
            ref=f"{loan.ref}-W{number}",
            loan=loan,
            component=component,
            amount_minor=amount_minor,
            effective_on=day,
            reason=reason,
            note=note,
            requested_by=user,
        )
        _event(
            loan,
            CaseEvent.Kind.WAIVER,
            Approval.REQUESTED,
            f"waiver {waiver.ref}: {component} {money_text(amount_minor, loan.currency)} "
            f"({reason})",
            user,
            day,
        )
    return waiver


def _approve(item: Waiver | RepaymentPlan, approver: Any) -> None:
    """One approval of a waiver or plan, within limits; the last one needed puts it in force.

    The same rules serve both (``approvals.approve``); only the amount measured differs: the
    waived amount, or the plan's concession against the current path.
    """
    waiver = isinstance(item, Waiver)
    kind, amount, maker = (
        (ApprovalLimit.Kind.WAIVER, item.amount_minor, item.requested_by)
        if isinstance(item, Waiver)
        else (ApprovalLimit.Kind.PLAN, item.concession_minor, item.proposed_by)
    )
    if item.status != Approval.REQUESTED:
        raise CollectionsError(f"{kind} {item.ref} is {item.status}, not requested")
    verdict = approvals.approve(kind, amount, maker, approver, item.approvals)
    with transaction.atomic():
        item.approvals = verdict.approvals
        if verdict.complete:
            item.status = Approval.APPROVED
        item.save(update_fields=["approvals", "status"])
        _event(
            item.loan,
            CaseEvent.Kind.WAIVER if waiver else CaseEvent.Kind.PLAN,
            item.status,
            f"{kind} {item.ref} approved by {approver.get_username()}"
            + ("" if verdict.complete else " (second approval needed)"),
            approver,
            business_date(),
        )
    if verdict.complete:
        reevaluate(item.loan.borrower_id)


def approve_waiver(waiver: Waiver, approver: Any) -> Waiver:
    """Approve within role limits; the second approval (when needed) puts it in force."""
    _approve(waiver, approver)
    return waiver


def _supervisor(user: Any, what: str) -> None:
    """Reversals and rejections are a team lead's or manager's call (or a superuser's)."""
    if not Collector.supervises(user):
        raise CollectionsError(f"only a team lead or a manager may {what}")


def reverse_waiver(waiver: Waiver, *, user: Any, on: date, reason: str) -> Waiver:
    """Undo an approved waiver from ``on``: the replay then treats it as never made."""
    _supervisor(user, "reverse a waiver")
    if waiver.status != Approval.APPROVED:
        raise CollectionsError(f"waiver {waiver.ref} is {waiver.status}, not approved")
    if on < waiver.effective_on:
        raise CollectionsError(f"on: {on} is before the waiver took effect ({waiver.effective_on})")
    if not reason.strip():
        raise CollectionsError("reason: a reversal needs a reason")
    with transaction.atomic():
        waiver.status, waiver.reversed_on, waiver.reversal_reason = Approval.REVERSED, on, reason
        waiver.save(update_fields=["status", "reversed_on", "reversal_reason"])
        _event(
            waiver.loan,
            CaseEvent.Kind.WAIVER,
            Approval.REVERSED,
            f"waiver {waiver.ref} reversed from {on}: {reason}",
            user,
            on,
        )
    reevaluate(waiver.loan.borrower_id)
    return waiver


# --- repayment plans -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanPreview:
    """What a proposed plan would do, shown before anyone approves it.

    ``current_cost``: what the borrower pays to clear the loan if they pay the same amounts on the
    same dates without a plan (penalty keeps accruing). ``plan_cost``: what they pay under the
    plan (its total, plus anything left after it unless the rest is waived). ``concession`` is
    the difference — the amount the approval limits apply to.
    """

    instalments: tuple[tuple[date, int], ...]
    total: int
    owed_now: int
    dpd_now: int
    current_cost: int
    plan_cost: int
    concession: int
    effect: str


def _kernel_plan(
    ref: str,
    effective_on: date,
    instalments: list[tuple[date, int]],
    grace_days: int,
    tolerance_minor: int,
    waive_rest: bool,
) -> KernelPlan:
    return KernelPlan(
        ref=ref,
        effective_on=effective_on,
        instalments=tuple(KernelPlanInstalment(d, a) for d, a in instalments),
        grace_days=grace_days,
        tolerance=tolerance_minor,
        waive_rest=waive_rest,
    )


def preview_plan(
    loan: Loan,
    *,
    effective_on: date,
    instalments: list[tuple[date, int]],
    grace_days: int = 3,
    tolerance_minor: int = 0,
    waive_rest: bool = False,
) -> PlanPreview:
    """The new schedule, its cost against the current path, and the effect on the case."""
    if not instalments:
        raise CollectionsError("instalments: a plan needs at least one instalment")
    for n, (due, amount) in enumerate(instalments, start=1):
        if amount <= 0:
            raise CollectionsError(f"instalment {n}: amount must be positive")
        if due < effective_on:
            raise CollectionsError(f"instalment {n}: due {due} is before the plan starts")
    dates = [d for d, _ in instalments]
    if dates != sorted(set(dates)):
        raise CollectionsError("instalments: due dates must be strictly increasing")
    now = ledger_state(loan, effective_on)
    if now.payoff == 0:
        raise CollectionsError(f"loan {loan.ref}: nothing is owed on {effective_on}")
    total = sum(a for _, a in instalments)
    if total > now.payoff and not waive_rest:
        raise CollectionsError(f"instalments: total {total} exceeds the payoff {now.payoff}")
    last = dates[-1]
    pays = tuple(
        Payment(ref=f"preview-{n}", value_date=d, amount=a)
        for n, (d, a) in enumerate(instalments, start=1)
    )
    without = ledger_state(loan, last, payments=pays, plans=())
    current_cost = total + without.payoff
    plan = _kernel_plan(
        "preview", effective_on, instalments, grace_days, tolerance_minor, waive_rest
    )
    with_plan = ledger_state(loan, last, payments=pays, plans=(*selectors.loan_plans(loan), plan))
    plan_cost = total + with_plan.payoff
    concession = max(0, current_cost - plan_cost)
    effect = (
        f"case moves to in_plan; days past due follow the plan (now {now.dpd}); penalty "
        f"stops accruing from {effective_on}; missing an instalment by more than {grace_days} "
        "days breaks the plan and the ladder resumes"
    )
    return PlanPreview(
        instalments=tuple(instalments),
        total=total,
        owed_now=now.payoff,
        dpd_now=now.dpd,
        current_cost=current_cost,
        plan_cost=plan_cost,
        concession=concession,
        effect=effect,
    )


def propose_plan(
    loan: Loan,
    *,
    user: Any,
    effective_on: date | None = None,
    instalments: list[tuple[date, int]],
    grace_days: int = 3,
    tolerance_minor: int = 0,
    waive_rest: bool = False,
    note: str = "",
) -> RepaymentPlan:
    """Record a proposed plan with its previewed concession; approval puts it in force."""
    day = effective_on or business_date()
    preview = preview_plan(
        loan,
        effective_on=day,
        instalments=instalments,
        grace_days=grace_days,
        tolerance_minor=tolerance_minor,
        waive_rest=waive_rest,
    )
    with transaction.atomic():
        Loan.objects.select_for_update().filter(pk=loan.pk).first()  # one numbering at a time
        number = RepaymentPlan.objects.filter(loan=loan).count() + 1
        plan = RepaymentPlan.objects.create(
            ref=f"{loan.ref}-P{number}",
            loan=loan,
            effective_on=day,
            grace_days=grace_days,
            tolerance_minor=tolerance_minor,
            waive_rest=waive_rest,
            concession_minor=preview.concession,
            proposed_by=user,
            note=note,
        )
        PlanInstalment.objects.bulk_create(
            PlanInstalment(plan=plan, seq=n, due_date=d, amount_minor=a)
            for n, (d, a) in enumerate(instalments, start=1)
        )
        _event(
            loan,
            CaseEvent.Kind.PLAN,
            Approval.REQUESTED,
            f"plan {plan.ref}: {len(instalments)} instalments, total "
            f"{money_text(preview.total, loan.currency)}, concession "
            f"{money_text(preview.concession, loan.currency)}",
            user,
            day,
        )
    return plan


def approve_plan(plan: RepaymentPlan, approver: Any) -> RepaymentPlan:
    """Approve within the plan-concession limits; once complete the plan is in force."""
    _approve(plan, approver)
    return plan


def reject(item: Waiver | RepaymentPlan, *, user: Any, reason: str) -> None:
    """Turn down a requested waiver or plan; it never reaches the ledger."""
    _supervisor(user, "reject a request")
    if item.status != Approval.REQUESTED:
        raise CollectionsError(f"{item.ref} is {item.status}, not requested")
    item.status = Approval.REJECTED
    item.save(update_fields=["status"])
    kind = CaseEvent.Kind.WAIVER if isinstance(item, Waiver) else CaseEvent.Kind.PLAN
    _event(
        item.loan, kind, Approval.REJECTED, f"{item.ref} rejected: {reason}", user, business_date()
    )
