"""Waivers (减免) and repayment plans (分期协商) / settlements: request, preview, approve, reverse.

Both are ledger history (``ledger.Waiver``, ``ledger.RepaymentPlan``): once approved the kernel
reads them, so ``explain``, the daily run and the portal all account for them. Their amounts
are checked against the ledger when requested and again when approved (what is left to waive,
what a plan concedes now), and their approval against the role limits on the borrower's
running total (``arrears.collections.approvals``). Every status change locks the request and
reads it again inside its transaction. Waived totals are always derived by replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from arrears import errorcodes
from arrears.collections import approvals, events
from arrears.collections.models import ApprovalLimit, Case, CaseEvent, Collector
from arrears.collections.services import CollectionsError
from arrears.collections.workflow import business_date, money_text, reevaluate
from arrears.kernel import limits
from arrears.kernel.money import Money
from arrears.kernel.state import LoanState
from arrears.kernel.terms import Component, Payment
from arrears.kernel.terms import PlanInstalment as KernelPlanInstalment
from arrears.kernel.terms import RepaymentPlan as KernelPlan
from arrears.kernel.terms import Waiver as KernelWaiver
from arrears.ledger import selectors
from arrears.ledger.models import (
    Approval,
    Borrower,
    Loan,
    PlanInstalment,
    RepaymentPlan,
    Waiver,
)

errorcodes.define(
    {
        "waiver-unknown-component": "%(value)s is not a component (one of %(choices)s)",
        "waiver-unknown-reason": "%(value)s is not a waiver reason (one of %(choices)s)",
        "concession-amount-not-positive": "the amount must be positive",
        "waiver-above-owed": (
            "%(amount)s is more than the %(component)s left to waive on %(day)s (%(left)s)"
        ),
        "waiver-owed-changed": (
            "%(ref)s waives %(amount)s of %(component)s, but only %(left)s is left to waive on "
            "%(day)s (another waiver or a payment came first); reject it and request a new one "
            "if something is still owed"
        ),
        "concession-not-requested": "%(ref)s is %(status)s, not awaiting approval",
        "concession-reject-supervisor-only": "only a team lead or a manager may reject a request",
        "concession-reason-required": "give a reason",
        "waiver-reverse-supervisor-only": "only a team lead or a manager may reverse a waiver",
        "waiver-not-approved": "%(ref)s is %(status)s, not approved",
        "waiver-reversal-before-effect": "%(on)s is before the waiver took effect (%(start)s)",
        "plan-no-instalments": "a plan needs at least one instalment",
        "plan-instalment-not-positive": "instalment %(n)s: the amount must be positive",
        "plan-instalment-before-start": (
            "instalment %(n)s: due %(due)s is before the plan starts (%(start)s)"
        ),
        "plan-dates-not-increasing": "the due dates must be strictly increasing",
        "plan-nothing-owed": "nothing is owed on loan %(loan)s on %(day)s",
        "plan-total-above-payoff": (
            "the instalments total %(total)s, more than the payoff %(payoff)s"
        ),
        "plan-tolerance-negative": "the tolerance cannot be negative",
        "plan-tolerance-too-large": "the tolerance %(tolerance)s is above the ledger's limit",
        "plan-grace-days": "grace days must be from 0 to %(max)s",
        "plan-start-out-of-range": "the plan's start %(start)s is outside %(first)s..%(last)s",
        "plan-instalment-too-far": (
            "instalment %(n)s: due %(due)s is more than %(days)s days after the plan starts "
            "(%(start)s)"
        ),
        "plan-instalment-too-large": (
            "instalment %(n)s: %(amount)s is above the ledger's limit of %(limit)s"
        ),
    }
)

#: A component as a refusal names it ("… more than the penalty left to waive").
COMPONENT_NAMES: dict[str, Promise] = {
    Component.PENALTY: gettext_lazy("penalty"),
    Component.COMPOUND: gettext_lazy("compound"),
    Component.INTEREST: gettext_lazy("interest"),
    Component.PRINCIPAL: gettext_lazy("principal"),
}
#: A concession's status as a refusal names it ("W1 is Rejected, not awaiting approval").
STATUS_NAMES: dict[str, Promise] = {
    Approval.REQUESTED: gettext_lazy("Awaiting approval"),
    Approval.APPROVED: gettext_lazy("Approved"),
    Approval.REJECTED: gettext_lazy("Rejected"),
    Approval.REVERSED: gettext_lazy("Reversed"),
}


def _refuse(code: str, *, field: str | None = None, **params: Any) -> CollectionsError:
    # The error's own text (logs, the command line) is English; a page shows ``describe``.
    with translation.override("en"):
        return errorcodes.refuse(CollectionsError, code, field=field, **params)


def _event(loan: Loan, kind: str, to: str, cause: str, actor: Any, on: date) -> None:
    """The concession's step on each open case of the loan's borrower (a person's action,
    new every time: no key)."""
    for case in Case.objects.filter(borrower_id=loan.borrower_id, closed_on__isnull=True):
        events.record(case, kind, "", to, cause, actor, on)


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


def waivable(loan: Loan, component: str, amount_minor: int, on: date, *, ref: str) -> int:
    """How much of a waiver of ``amount_minor`` on ``component`` from ``on`` would take effect,
    given everything in force now: the kernel's replay with it minus the replay without it.

    Less than the amount means part of it would find nothing to reduce ("unused"): the
    component is paid, or another waiver (or a settlement) already waived it. The replay runs
    to the business date when that is later, so a waiver approved since the request counts.
    """
    as_of = max(on, business_date())
    without = ledger_state(loan, as_of)
    hypothetical = KernelWaiver(ref, on, Component(component), amount_minor)
    with_it = ledger_state(loan, as_of, waivers=(hypothetical,))
    return max(0, with_it.waived_total - without.waived_total)


# --- running totals and who may approve ------------------------------------------------------


def _kind(item: Waiver | RepaymentPlan) -> tuple[str, type[Waiver] | type[RepaymentPlan], str]:
    if isinstance(item, Waiver):
        return ApprovalLimit.Kind.WAIVER, Waiver, "amount_minor"
    return ApprovalLimit.Kind.PLAN, RepaymentPlan, "concession_minor"


def _maker(item: Waiver | RepaymentPlan) -> Any:
    return item.requested_by if isinstance(item, Waiver) else item.proposed_by


def _amount(item: Waiver | RepaymentPlan) -> int:
    return item.amount_minor if isinstance(item, Waiver) else item.concession_minor


def exposure(item: Waiver | RepaymentPlan, amount: int | None = None) -> approvals.Exposure:
    """The running totals an approval of ``item`` (for ``amount``, default its own) weighs.

    The others counted: the same kind on the borrower's loans in the item's currency, requested
    or approved (rejected and reversed ones are not in force), requested within the last
    ``ARREARS_CONCESSION_WINDOW_DAYS`` days up to now.
    """
    kind, model, field = _kind(item)
    own = _amount(item) if amount is None else amount
    days = approvals.window_days()
    since = timezone.now() - timedelta(days=days)
    others = (
        model.objects.filter(
            loan__borrower_id=item.loan.borrower_id,
            loan__currency=item.loan.currency,
            status__in=(Approval.REQUESTED, Approval.APPROVED),
            created_at__gte=since,
        )
        .exclude(pk=item.pk)
        .values_list("loan_id", field)
    )
    rows = list(others)
    return approvals.Exposure(
        kind=kind,
        currency=item.loan.currency,
        amount=own,
        loan_total=own + sum(a for loan_id, a in rows if loan_id == item.loan_id),
        borrower_total=own + sum(a for _, a in rows),
        window_days=days,
    )


def _candidates(item: Waiver | RepaymentPlan) -> list[Collector]:
    """The collectors who can see ``item`` (the rule of
    ``collections.selectors.visible_cases``): the supervisors of the team working the
    borrower's case and the case's own collector; without a case, the maker's team's
    supervisors."""
    return _seeing(_case_of(item.loan.borrower_id), item)


def _case_of(borrower_id: int) -> Case | None:
    """The borrower's open case, else their latest one (``None`` without a case)."""
    return (
        Case.objects.filter(borrower_id=borrower_id, closed_on__isnull=True).first()
        or Case.objects.filter(borrower_id=borrower_id).order_by("-opened_on").first()
    )


def _seeing(case: Case | None, item: Waiver | RepaymentPlan) -> list[Collector]:
    """:func:`_candidates` given the borrower's case (``item``'s maker only counts without
    one)."""
    supervisors = Q(role__in=(Collector.Role.TEAM_LEAD, Collector.Role.MANAGER))
    if case is not None and case.collector_id is not None:
        assert case.collector is not None
        who = (supervisors & Q(team_id=case.collector.team_id)) | Q(pk=case.collector_id)
    elif case is not None:
        who = supervisors & Q(team__owner=case.owner)
    else:
        maker = Collector.objects.filter(user_id=_maker(item).pk).first()
        who = supervisors & Q(team_id=maker.team_id) if maker else Q(pk__in=[])
    return list(Collector.objects.filter(who).select_related("user").order_by("user__username"))


class ApproverReads:
    """What :func:`who_may_approve` reads that many rows of one page share, read once for the
    page: each kind's limits, each borrower's case and the candidates who see it (without a
    case, the maker's team's). A page listing a borrower's requests read them for every row
    (five queries a row). Only for one page's reads: nothing is written in between."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, int]] = {}
        self._cases: dict[int, Case | None] = {}
        self._candidates: dict[tuple[str, int], list[Collector]] = {}

    def table(self, kind: str) -> dict[str, int]:
        if kind not in self._tables:
            self._tables[kind] = approvals.limits(kind)
        return self._tables[kind]

    def candidates(self, item: Waiver | RepaymentPlan) -> list[Collector]:
        borrower = item.loan.borrower_id
        if borrower not in self._cases:
            self._cases[borrower] = _case_of(borrower)
        case = self._cases[borrower]
        key = ("borrower", borrower) if case is not None else ("maker", _maker(item).pk)
        if key not in self._candidates:
            self._candidates[key] = _seeing(case, item)
        return self._candidates[key]


def who_may_approve(
    item: Waiver | RepaymentPlan,
    table: dict[str, int] | None = None,
    reads: ApproverReads | None = None,
) -> approvals.Approvers:
    """Who may approve ``item`` now (the maker never), with the running total it weighs; when
    nobody can, the role (and limit) it needs or, above every limit, the highest one.
    ``reads``: the page's shared reads (:class:`ApproverReads`), when it lists several."""
    kind, _model, _field = _kind(item)
    if table is None:
        table = approvals.limits(kind) if reads is None else reads.table(kind)
    return approvals.approvers(
        exposure(item),
        _maker(item),
        item.approvals,
        _candidates(item) if reads is None else reads.candidates(item),
        table,
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
    """Ask to waive ``amount_minor`` of one component; refused when more than is left to waive."""
    day = effective_on or business_date()
    if component not in Component.__members__.values():
        raise _refuse(
            "waiver-unknown-component", field="component", value=component, choices=list(Component)
        )
    if reason not in Waiver.Reason.values:
        raise _refuse(
            "waiver-unknown-reason", field="reason", value=reason, choices=Waiver.Reason.values
        )
    if amount_minor <= 0:
        raise _refuse("concession-amount-not-positive", field="amount")
    left = waivable(loan, component, amount_minor, day, ref=f"{loan.ref}-W?")
    if amount_minor > left:
        raise _refuse(
            "waiver-above-owed",
            field="amount",
            amount=Money(amount_minor, loan.currency),
            component=COMPONENT_NAMES[component],
            day=day,
            left=Money(left, loan.currency),
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


def _waiver_amount_now(waiver: Waiver) -> int:
    """The waiver's amount, once the replay confirms all of it is still owed (another waiver or
    a payment since the request may have taken it: three waivers of a 28.08 penalty)."""
    left = waivable(
        waiver.loan, waiver.component, waiver.amount_minor, waiver.effective_on, ref=waiver.ref
    )
    if left < waiver.amount_minor:
        currency = waiver.loan.currency
        raise _refuse(
            "waiver-owed-changed",
            ref=waiver.ref,
            amount=Money(waiver.amount_minor, currency),
            component=COMPONENT_NAMES[waiver.component],
            left=Money(left, currency),
            day=max(waiver.effective_on, business_date()),
        )
    return waiver.amount_minor


def _plan_concession_now(plan: RepaymentPlan) -> int:
    """The plan's concession re-measured against the ledger now (payments or other concessions
    since the proposal change it); refused when the loan owes nothing any more."""
    loan = plan.loan
    preview = preview_plan(
        loan,
        effective_on=plan.effective_on,
        instalments=[(i.due_date, i.amount_minor) for i in plan.instalments.order_by("seq")],
        grace_days=plan.grace_days,
        tolerance_minor=plan.tolerance_minor,
        waive_rest=plan.waive_rest,
    )
    today = max(plan.effective_on, business_date())
    if ledger_state(loan, today).payoff == 0:
        raise _refuse("plan-nothing-owed", loan=loan.ref, day=today)
    return preview.concession


def _approve(item: Waiver | RepaymentPlan, approver: Any) -> None:
    """One approval of a waiver or plan, within limits; the last one needed puts it in force.

    Inside one transaction the borrower row is locked (so two approvals on the same borrower
    compute their running totals one after the other) and the request is locked and read
    again: an approval racing a rejection or another approval sees what the other wrote, and a
    request no longer awaiting approval is refused. The amount is re-checked against the ledger
    at approval time. ``item`` is updated in place with what was saved.
    """
    kind, model, _field = _kind(item)
    with transaction.atomic():
        Borrower.objects.select_for_update().get(pk=item.loan.borrower_id)
        locked = model.objects.select_for_update().get(pk=item.pk)
        if locked.status != Approval.REQUESTED:
            raise _refuse(
                "concession-not-requested", ref=locked.ref, status=STATUS_NAMES[locked.status]
            )
        maker = _maker(locked)
        approvals.screen(maker, approver, locked.approvals)  # before the replays below
        if isinstance(locked, Waiver):
            amount = _waiver_amount_now(locked)
        else:
            amount = _plan_concession_now(locked)
        verdict = approvals.approve(exposure(locked, amount), maker, approver, locked.approvals)
        fields = ["approvals", "status"]
        remeasured = ""
        if isinstance(locked, RepaymentPlan) and amount != locked.concession_minor:
            remeasured = f"; concession re-measured {locked.concession_minor} → {amount}"
            locked.concession_minor = amount
            fields.append("concession_minor")
        locked.approvals = verdict.approvals
        if verdict.complete:
            locked.status = Approval.APPROVED
        locked.save(update_fields=fields)
        _event(
            locked.loan,
            CaseEvent.Kind.WAIVER if isinstance(locked, Waiver) else CaseEvent.Kind.PLAN,
            locked.status,
            f"{kind} {locked.ref} approved by {approver.get_username()}"
            + ("" if verdict.complete else " (second approval needed)")
            + remeasured,
            approver,
            business_date(),
        )
    for name in fields:
        setattr(item, name, getattr(locked, name))
    if verdict.complete:
        reevaluate(item.loan.borrower_id)


def approve_waiver(waiver: Waiver, approver: Any) -> Waiver:
    """Approve within role limits; the second approval (when needed) puts it in force."""
    _approve(waiver, approver)
    return waiver


def reverse_waiver(waiver: Waiver, *, user: Any, on: date, reason: str) -> Waiver:
    """Undo an approved waiver from ``on``: the replay then treats it as never made.

    A team lead's or manager's call (or a superuser's); the waiver is locked and read again,
    so two reversals (or a reversal racing anything else) cannot both apply.
    """
    if not Collector.supervises(user):
        raise _refuse("waiver-reverse-supervisor-only")
    if not reason.strip():
        raise _refuse("concession-reason-required", field="reason")
    with transaction.atomic():
        locked = Waiver.objects.select_for_update().get(pk=waiver.pk)
        if locked.status != Approval.APPROVED:
            raise _refuse("waiver-not-approved", ref=locked.ref, status=STATUS_NAMES[locked.status])
        if on < locked.effective_on:
            raise _refuse(
                "waiver-reversal-before-effect", field="on", on=on, start=locked.effective_on
            )
        locked.status, locked.reversed_on, locked.reversal_reason = Approval.REVERSED, on, reason
        locked.reversed_at = timezone.now()
        locked.save(update_fields=["status", "reversed_on", "reversal_reason", "reversed_at"])
        _event(
            locked.loan,
            CaseEvent.Kind.WAIVER,
            Approval.REVERSED,
            f"waiver {locked.ref} reversed from {on}: {reason}",
            user,
            on,
        )
    waiver.status, waiver.reversed_on, waiver.reversal_reason = Approval.REVERSED, on, reason
    waiver.reversed_at = locked.reversed_at
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


#: The longest grace a plan may give on an instalment (the workbench form offers the same).
PLAN_MAX_GRACE_DAYS = 365
#: The last instalment of a plan falls at most this many days after the plan starts (three
#: years): longer arrangements are restructurings, and a typo such as 9999-12-31 is refused
#: before the kernel replays a plan nobody meant.
PLAN_MAX_DAYS = 3 * 366


def _check_plan_bounds(
    loan: Loan,
    effective_on: date,
    instalments: list[tuple[date, int]],
    grace_days: int,
    tolerance_minor: int,
) -> None:
    """The bounds every caller of the plan services meets (the workbench, the portal, the API):
    a start inside the ledger's dates, instalments within :data:`PLAN_MAX_DAYS` of it and
    below the ledger's amount limit, a grace of 0..365 days, a tolerance not negative."""
    if not limits.MIN_DATE <= effective_on <= limits.MAX_DATE:
        raise _refuse(
            "plan-start-out-of-range",
            field="effective_on",
            start=effective_on,
            first=limits.MIN_DATE,
            last=limits.MAX_DATE,
        )
    if not 0 <= grace_days <= PLAN_MAX_GRACE_DAYS:
        raise _refuse("plan-grace-days", field="grace_days", max=PLAN_MAX_GRACE_DAYS)
    if tolerance_minor < 0:
        raise _refuse("plan-tolerance-negative", field="tolerance")
    if tolerance_minor > limits.MAX_AMOUNT_MINOR:
        raise _refuse(
            "plan-tolerance-too-large",
            field="tolerance",
            tolerance=Money(tolerance_minor, loan.currency),
        )
    last_day = effective_on + timedelta(days=PLAN_MAX_DAYS)
    for n, (due, amount) in enumerate(instalments, start=1):
        if due > last_day:
            raise _refuse(
                "plan-instalment-too-far",
                field="instalments",
                n=n,
                due=due,
                days=PLAN_MAX_DAYS,
                start=effective_on,
            )
        if amount > limits.MAX_AMOUNT_MINOR:
            raise _refuse(
                "plan-instalment-too-large",
                field="instalments",
                n=n,
                amount=Money(amount, loan.currency),
                limit=Money(limits.MAX_AMOUNT_MINOR, loan.currency),
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
        raise _refuse("plan-no-instalments", field="instalments")
    _check_plan_bounds(loan, effective_on, instalments, grace_days, tolerance_minor)
    for n, (due, amount) in enumerate(instalments, start=1):
        if amount <= 0:
            raise _refuse("plan-instalment-not-positive", field="instalments", n=n)
        if due < effective_on:
            raise _refuse(
                "plan-instalment-before-start",
                field="instalments",
                n=n,
                due=due,
                start=effective_on,
            )
    dates = [d for d, _ in instalments]
    if dates != sorted(set(dates)):
        raise _refuse("plan-dates-not-increasing", field="instalments")
    now = ledger_state(loan, effective_on)
    if now.payoff == 0:
        raise _refuse("plan-nothing-owed", field="loan", loan=loan.ref, day=effective_on)
    total = sum(a for _, a in instalments)
    if total > now.payoff and not waive_rest:
        raise _refuse(
            "plan-total-above-payoff",
            field="instalments",
            total=Money(total, loan.currency),
            payoff=Money(now.payoff, loan.currency),
        )
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


def approve_plan_by_system(plan: RepaymentPlan, approver: Any, *, up_to: int) -> bool:
    """Approve ``plan`` in the name of ``approver``, a named system account (not a collector),
    when its concession is within ``up_to``; True if it is now in force, False if it is left
    awaiting a person's approval.

    The role limits of :func:`approve_plan` bind people; this is the one other way in, for a
    request the lender's own rules (the portal's auto-approval bounds) accept. The same
    safeguards hold: the approver is never the maker; the borrower and the plan are locked and
    the status read again; the concession is re-measured against the ledger now and weighed as
    the borrower's *running total* (``exposure``), so splitting a request does not get past
    ``up_to``; and anything that would need two approvers (above
    ``ARREARS_DUAL_APPROVAL_ABOVE['plan']``) is left to people. The approval entry names the
    account with role ``system``.
    """
    with transaction.atomic():
        Borrower.objects.select_for_update().get(pk=plan.loan.borrower_id)
        locked = RepaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != Approval.REQUESTED:
            raise _refuse(
                "concession-not-requested", ref=locked.ref, status=STATUS_NAMES[locked.status]
            )
        if approver.pk == locked.proposed_by_id:
            with translation.override("en"):
                raise errorcodes.refuse(
                    approvals.ApprovalRefused,
                    "approval-own-request",
                    user=approver.get_username(),
                )
        amount = _plan_concession_now(locked)
        weighed = exposure(locked, amount)
        needed = approvals.approvals_needed(ApprovalLimit.Kind.PLAN, weighed.total)
        if weighed.total > up_to or needed > 1:
            return False
        locked.approvals = [
            *locked.approvals,
            {
                "user": approver.pk,
                "username": approver.get_username(),
                "role": "system",
                "at": timezone.now().isoformat(),
                "amount": amount,
                "total": weighed.total,
            },
        ]
        locked.status, locked.concession_minor = Approval.APPROVED, amount
        locked.save(update_fields=["approvals", "status", "concession_minor"])
        _event(
            locked.loan,
            CaseEvent.Kind.PLAN,
            Approval.APPROVED,
            f"plan {locked.ref} approved by {approver.get_username()} (system: running total "
            f"{money_text(weighed.total, locked.loan.currency)} within "
            f"{money_text(up_to, locked.loan.currency)})",
            approver,
            business_date(),
        )
    plan.approvals, plan.status = locked.approvals, locked.status
    plan.concession_minor = locked.concession_minor
    reevaluate(plan.loan.borrower_id)
    return True


def reject(item: Waiver | RepaymentPlan, *, user: Any, reason: str) -> None:
    """Turn down a requested waiver or plan; it never reaches the ledger.

    A team lead's or manager's call. The request is locked and its status read again inside
    the transaction, so a rejection racing an approval cannot undo an approval that won, and an
    approval that comes second finds the request rejected and is refused.
    """
    if not Collector.supervises(user):
        raise _refuse("concession-reject-supervisor-only")
    if not reason.strip():
        raise _refuse("concession-reason-required", field="reason")
    _kind_name, model, _field = _kind(item)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=item.pk)
        if locked.status != Approval.REQUESTED:
            raise _refuse(
                "concession-not-requested", ref=locked.ref, status=STATUS_NAMES[locked.status]
            )
        locked.status = Approval.REJECTED
        locked.save(update_fields=["status"])
        kind = CaseEvent.Kind.WAIVER if isinstance(item, Waiver) else CaseEvent.Kind.PLAN
        _event(
            locked.loan,
            kind,
            Approval.REJECTED,
            f"{locked.ref} rejected: {reason}",
            user,
            business_date(),
        )
    item.status = Approval.REJECTED
