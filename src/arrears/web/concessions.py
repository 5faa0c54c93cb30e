"""Concessions in the workbench: waiver and plan forms, the approvals page (审批).

The rules live in :mod:`arrears.collections.concessions` and
:mod:`arrears.collections.approvals`: whether an amount is owed, whether an approver is within
their role's limits on the borrower's running total, and that the maker never approves their
own request. This module only turns text into typed values (amounts into exact minor units, a
plan's lines into dated instalments) and shows the service's verdict — an accepted change
redirects with a message, a refusal re-renders the page with status 400, the refusal in the
reader's language (``errorcodes.describe``) on the field it names (``error.field``) and the
typed input, exactly like the case page's other forms. Each waiting request says who may
approve it (the service's :func:`~arrears.collections.concessions.who_may_approve`), or, when
nobody can, which role it needs or that a limit must be raised; only those who may approve see
its *Approve* button.

Who sees which concession is :mod:`arrears.web.selectors`'s decision: a waiver or plan is
visible when its borrower's case is, so an approver never reaches an item outside their team.
The approvals page itself is for team leads, managers and superusers; the service still checks
every approval against the approver's limits, so the page is a convenience, not the control.
Rejecting and reversing carry no limit in the service, so the page is what keeps them with
supervisors.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from arrears import errorcodes, formfields
from arrears.collections import concessions as service
from arrears.collections.approvals import ApprovalRefused, Approvers
from arrears.collections.approvals import window_days as approval_window_days
from arrears.collections.services import CollectionsError
from arrears.collections.workflow import business_date
from arrears.daily.models import LoanState
from arrears.formatting import format_money
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money
from arrears.kernel.terms import Component
from arrears.ledger.masking import mask_text
from arrears.ledger.models import Approval, Loan, RepaymentPlan, Waiver
from arrears.web import approval_filters, selectors

#: The most instalments a plan typed on the workbench may have (a year of monthly payments);
#: longer arrangements are restructurings, not collection plans.
PLAN_MAX_INSTALMENTS = 12
#: The plan lines' text: twelve lines of a date and an amount fit many times over.
PLAN_TEXT_MAX_LENGTH = 2_000
#: Rows per list on the approvals page. Requests are listed oldest first (they have waited
#: longest), so a cap shows the ones to act on now; the page says how many more there are.
APPROVALS_LIMIT = 100

#: Every refusal a concession action can meet: bad input (``CollectionsError``) and the
#: approval rules (``ApprovalRefused``); both change nothing, both are shown to the user.
Refusal = (CollectionsError, ApprovalRefused)

LABELS: dict[str, dict[str, Any]] = {
    "component": {
        "penalty": gettext_lazy("Penalty interest"),
        "compound": gettext_lazy("Compound interest"),
        "interest": gettext_lazy("Interest"),
        "principal": gettext_lazy("Principal"),
        "all": gettext_lazy("Everything left"),
    },
    "waiver_reason": {
        "hardship": gettext_lazy("Hardship"),
        "complaint": gettext_lazy("Complaint"),
        "goodwill": gettext_lazy("Goodwill"),
        "settlement": gettext_lazy("Settlement"),
        "error": gettext_lazy("Correction of an error"),
        "deceased": gettext_lazy("Deceased"),
    },
    # a concession's approval status, and how the kernel says a plan in force went
    "concession_status": {
        "requested": gettext_lazy("Awaiting approval"),
        "approved": gettext_lazy("Approved"),
        "rejected": gettext_lazy("Rejected"),
        "reversed": gettext_lazy("Reversed"),
        "active": gettext_lazy("Active"),
        "broken": gettext_lazy("Broken"),
        "completed": gettext_lazy("Completed"),
        "superseded": gettext_lazy("Superseded"),
    },
    "role": {
        "collector": gettext_lazy("Collector"),
        "team_lead": gettext_lazy("Team lead"),
        "manager": gettext_lazy("Collections manager"),
    },
}


def label(kind: str, value: str) -> str:
    """The reader's-language label of a stored code; an unknown code is shown as it is."""
    return str(LABELS[kind].get(value, value)) if value else ""


def _choices(kind: str, values: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, LABELS[kind].get(value, value)) for value in values]


def _username(user: Any) -> str:
    return str(user.get_username()) if user is not None else ""


# --- plan lines: "YYYY-MM-DD amount" -------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,;，；]+")


def parse_instalments(text: str, currency: str) -> list[tuple[date, int]]:
    """Read a plan's instalments, one ``YYYY-MM-DD amount`` per line, amounts in major units.

    Dates and amounts are read by :mod:`arrears.formfields` (inside the ledger's bounds; amounts
    exact, ASCII digits, never through ``float``); blank lines are skipped. Every bad line is
    reported with its number, so a collector fixes them all at once. Order and totals are not
    checked here: the service judges those against the ledger.
    """
    rows: list[tuple[date, int]] = []
    errors: list[str] = []
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        raise forms.ValidationError(_("Enter at least one instalment."))
    if len(lines) > PLAN_MAX_INSTALMENTS:
        raise forms.ValidationError(
            _("At most %(max)s instalments (%(n)s given).")
            % {"max": PLAN_MAX_INSTALMENTS, "n": len(lines)}
        )
    for n, line in lines:
        parts = _SEPARATORS.split(line)
        if len(parts) != 2:
            errors.append(
                _("Line %(n)s: expected “YYYY-MM-DD amount”, got “%(line)s”.")
                % {"n": n, "line": line}
            )
            continue
        try:
            where = pgettext("plan line", "date")
            due = formfields.parse_bounded_date(parts[0])
            where = pgettext("plan line", "amount")
            amount = formfields.parse_amount(parts[1], currency)
        except forms.ValidationError as error:
            detail = f"{where}: {' '.join(error.messages)}"
            errors.append(_("Line %(n)s: %(detail)s") % {"n": n, "detail": detail})
            continue
        rows.append((due, amount.minor))
    if errors:
        raise forms.ValidationError(errors)
    return rows


def format_instalments(
    rows: list[tuple[date, int]] | tuple[tuple[date, int], ...], currency: str
) -> str:
    """The text :func:`parse_instalments` reads back into ``rows`` (to refill the form)."""
    return "\n".join(f"{due.isoformat()} {Money(minor, currency).amount}" for due, minor in rows)


# --- forms ---------------------------------------------------------------------------------


def _date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _note() -> forms.CharField:
    return formfields.note_field()


class _LoanForm(forms.Form):
    """A form about one of the case borrower's loans; amounts are in that loan's currency."""

    loan = forms.ChoiceField(label=gettext_lazy("Loan"))

    def __init__(self, *args: Any, loans: list[Loan], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loans = {str(loan.pk): loan for loan in loans}
        fields: dict[str, Any] = self.fields
        fields["loan"].choices = [(key, loan.ref) for key, loan in self.loans.items()]
        if not self.is_bound and "loan" not in self.initial:
            owing = most_owed(loans)
            if owing is not None:
                self.initial["loan"] = str(owing.pk)

    def clean_loan(self) -> Loan:
        loan = self.loans.get(self.cleaned_data.get("loan") or "")
        if loan is None:
            raise forms.ValidationError(_("Choose one of the borrower's loans."))
        return loan

    def money(self, name: str) -> int | None:
        """Field ``name`` as exact minor units of the chosen loan's currency; ``None`` when it
        is empty or could not be read (the form then carries the error)."""
        loan: Loan | None = self.cleaned_data.get("loan")
        text = (self.cleaned_data.get(name) or "").strip()
        if loan is None or not text:
            return None
        field: Any = self.fields[name]
        try:
            return formfields.parse_amount(
                text, loan.currency, allow_zero=field.allow_zero, allow_negative=False
            ).minor
        except forms.ValidationError as error:
            self.add_error(name, error)
            return None


def most_owed(loans: list[Loan], states: dict[int, LoanState] | None = None) -> Loan | None:
    """The loan that owes the most now — what a waiver or plan form should offer first.

    Judged on each loan's latest stored daily state up to the business date (the daily run
    and every re-evaluation keep it current): total due, then payoff. A paid-off loan owes
    nothing on both, so it is never the default while another loan owes; ties keep the
    caller's order (by reference). ``states`` are those states (loan id → state, as
    ``selectors.latest_states(loans, up_to=business_date())`` reads them) when the caller
    has them already: the case page reads them once for its two loan forms.
    """
    if not loans:
        return None
    if states is None:
        states = selectors.latest_states(loans, up_to=business_date())

    def owed(loan: Loan) -> tuple[int, int]:
        found = states.get(loan.pk)
        return (int(found.total_due), int(found.payoff)) if found else (0, 0)

    return max(loans, key=owed)


class WaiverForm(_LoanForm):
    """Ask to waive (减免) part of one component of a loan; the approval comes after."""

    component = forms.ChoiceField(
        label=gettext_lazy("Component"), choices=_choices("component", [c.value for c in Component])
    )
    amount = formfields.AmountField(label=gettext_lazy("Amount"))
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"), choices=_choices("waiver_reason", Waiver.Reason.values)
    )
    note = _note()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["amount_minor"] = self.money("amount")
        return data


class PlanForm(_LoanForm):
    """Propose a repayment plan (分期协商) or, with *settlement*, a settlement that waives what
    is left once its instalments are paid. Previewing and proposing read the same form."""

    instalments = formfields.BoundedTextField(
        label=gettext_lazy("Instalments"),
        max_length=PLAN_TEXT_MAX_LENGTH,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2026-04-01 500.00"}),
    )
    grace_days = formfields.BoundedIntegerField(
        label=gettext_lazy("Grace days"),
        initial=3,
        min_value=0,
        max_value=service.PLAN_MAX_GRACE_DAYS,
    )
    tolerance = formfields.AmountField(
        label=gettext_lazy("Tolerance"), required=False, allow_zero=True
    )
    settlement = forms.BooleanField(
        label=gettext_lazy("Settlement: waive the rest once the plan is paid"), required=False
    )
    note = _note()

    def __init__(self, *args: Any, loans: list[Loan], **kwargs: Any) -> None:
        super().__init__(*args, loans=loans, **kwargs)
        self.fields["instalments"].help_text = _(
            "One per line: YYYY-MM-DD amount (at most %(max)s)."
        ) % {"max": PLAN_MAX_INSTALMENTS}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        loan: Loan | None = data.get("loan")
        text = data.get("instalments")
        if loan is not None and text:
            try:
                data["rows"] = parse_instalments(text, loan.currency)
            except forms.ValidationError as error:
                self.add_error("instalments", error)
        data["tolerance_minor"] = self.money("tolerance") or 0
        return data


class RejectForm(forms.Form):
    """Turn a request down; the reason goes on the case's timeline."""

    reason = formfields.BoundedTextField(label=gettext_lazy("Reason"), max_length=500)


class ReverseForm(forms.Form):
    """Undo an approved waiver from a date (keyed twice, granted by mistake)."""

    on = formfields.BoundedDateField(label=gettext_lazy("From"), widget=_date_input())
    reason = formfields.BoundedTextField(label=gettext_lazy("Reason"), max_length=200)


# --- the case page's part ------------------------------------------------------------------


def request_waiver(form: WaiverForm, user: Any) -> str:
    """Record the waiver request; returns the success message."""
    data = form.cleaned_data
    if data.get("amount_minor") is None:  # the form's own checks normally catch this first
        raise errorcodes.refuse(CollectionsError, "concession-amount-not-positive", field="amount")
    waiver = service.request_waiver(
        data["loan"],
        component=data["component"],
        amount_minor=data["amount_minor"],
        reason=data["reason"],
        note=data["note"],
        user=user,
    )
    return _("Waiver %(ref)s requested; it takes effect once approved.") % {"ref": waiver.ref}


def _plan_arguments(form: PlanForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "instalments": data["rows"],
        "grace_days": data["grace_days"],
        "tolerance_minor": data["tolerance_minor"],
        "waive_rest": data["settlement"],
    }


def preview_plan(form: PlanForm, day: date) -> dict[str, Any]:
    """What the plan would do, for the page; nothing is saved."""
    loan: Loan = form.cleaned_data["loan"]
    preview = service.preview_plan(loan, effective_on=day, **_plan_arguments(form))
    # The service's ``effect`` is an English sentence; the same facts are told here in the
    # reader's language from the figures the service was given and returned (its DPD now).
    effect = _(
        "The case moves to “In a repayment plan”; days past due follow the plan (now "
        "%(dpd)s); penalty stops accruing from %(date)s; missing an instalment by more than "
        "%(grace)s days breaks the plan and the ladder resumes."
    ) % {"dpd": preview.dpd_now, "date": day.isoformat(), "grace": form.cleaned_data["grace_days"]}
    if form.cleaned_data["settlement"]:
        effect += " " + _("Once the plan is paid, whatever is left is waived.")
    return {
        "loan": loan.ref,
        "currency": loan.currency,
        "instalments": [{"due_date": d, "amount_minor": a} for d, a in preview.instalments],
        "total": preview.total,
        "owed_now": preview.owed_now,
        "dpd_now": preview.dpd_now,
        "current_cost": preview.current_cost,
        "plan_cost": preview.plan_cost,
        "concession": preview.concession,
        "effect": effect,
    }


def propose_plan(form: PlanForm, user: Any) -> str:
    """Record the proposed plan with its previewed concession; returns the success message."""
    plan = service.propose_plan(
        form.cleaned_data["loan"],
        user=user,
        note=form.cleaned_data["note"],
        **_plan_arguments(form),
    )
    return _("Plan %(ref)s proposed; it takes effect once approved.") % {"ref": plan.ref}


def find_item(
    kind: str, pk: str, waivers: QuerySet[Waiver], plans: QuerySet[RepaymentPlan]
) -> Waiver | RepaymentPlan:
    """The waiver or plan named by a posted ``kind`` and id, among those the caller may act on;
    anything else is a 404, so an item's existence outside them is not revealed."""
    rows: QuerySet[Any] | None = {"waiver": waivers, "plan": plans}.get(kind)
    key = formfields.parse_id(pk)
    found = rows.filter(pk=key).first() if rows is not None and key is not None else None
    if found is None:
        raise Http404
    item: Waiver | RepaymentPlan = found
    return item


def approve(item: Waiver | RepaymentPlan, user: Any) -> str:
    """One approval through the service (which checks the limits); returns the message."""
    if isinstance(item, Waiver):
        service.approve_waiver(item, user)
    else:
        service.approve_plan(item, user)
    if item.status == Approval.APPROVED:
        return _("%(ref)s approved; it is now in force.") % {"ref": item.ref}
    return _("Your approval of %(ref)s is recorded; a second approver is needed.") % {
        "ref": item.ref
    }


def refusal(error: ArrearsError) -> str:
    """The message shown for a refused action: its code's message in the reader's language."""
    return errorcodes.describe(error)


def show_refusal(form: forms.Form, error: ArrearsError) -> None:
    """Put a service's refusal on the field it concerns (``error.field``) when the form has
    it, else above the form; the typed input stays in the bound form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, refusal(error))


def _approvals(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for entry in entries:
        try:
            at: datetime | None = datetime.fromisoformat(str(entry.get("at", "")))
        except ValueError:
            at = None
        rows.append(
            {
                "username": entry.get("username", ""),
                "role": label("role", str(entry.get("role", ""))),
                "at": at,
            }
        )
    return rows


def _money(minor: int, currency: str) -> str:
    return format_money(Money(minor, currency), get_language() or "zh-hans")


def approval_note(need: Approvers) -> str:
    """Who may approve a waiting request, in the reader's language: the people (and that two
    approvals are needed when none is recorded yet and the dual rule applies), else the role it
    needs, else the limit to raise. The running total is named when other concessions weigh on
    it."""
    exposure = need.exposure
    total = _money(exposure.total, exposure.currency)
    if need.users:
        names = ", ".join(f"{user} ({label('role', role)})" for user, role in need.users)
        text = _("May approve: %(names)s.") % {"names": names}
        if need.still_needed > 1:
            text += " " + _("Two approvals are needed.")
    elif need.roles:
        role, limit = need.roles[0]
        text = _(
            "Nobody here can approve it yet: it needs a %(role)s (limit %(limit)s) other than "
            "the maker."
        ) % {"role": label("role", role), "limit": _money(limit, exposure.currency)}
    else:
        text = _("No role's limit covers %(total)s; raise a limit in Admin → Approval limits.") % {
            "total": total
        }
        if need.highest is not None:
            role, limit = need.highest
            text += " " + _("The highest is %(role)s, %(limit)s.") % {
                "role": label("role", role),
                "limit": _money(limit, exposure.currency),
            }
    if exposure.total != exposure.amount:
        text += " " + _(
            "Running total on this borrower over %(days)s days: %(total)s (this request "
            "%(amount)s)."
        ) % {
            "days": exposure.window_days,
            "total": total,
            "amount": _money(exposure.amount, exposure.currency),
        }
    return text


def _who_may_approve(
    item: Waiver | RepaymentPlan, reads: service.ApproverReads | None
) -> dict[str, Any]:
    """The row's approval fields: who may approve it now (names for the *Approve* button) and
    the sentence saying so; nothing for a request no longer waiting."""
    if item.status != Approval.REQUESTED:
        return {"approver_names": [], "approval_note": ""}
    need = service.who_may_approve(item, reads=reads)
    return {
        "approver_names": [user for user, _role in need.users],
        "approval_note": approval_note(need),
    }


def waiver_row(waiver: Waiver, reads: service.ApproverReads | None = None) -> dict[str, Any]:
    """A waiver as the pages show it: labels in the reader's language, free text masked.
    ``reads``: what a page listing several rows reads once for all of them."""
    return {
        "kind": "waiver",
        "pk": waiver.pk,
        "ref": waiver.ref,
        "loan": waiver.loan.ref,
        "borrower_id": waiver.loan.borrower_id,
        "currency": waiver.loan.currency,
        "component": label("component", waiver.component),
        "amount_minor": waiver.amount_minor,
        "effective_on": waiver.effective_on,
        "reason": label("waiver_reason", waiver.reason),
        "status": waiver.status,
        "status_label": label("concession_status", waiver.status),
        "requested": waiver.status == Approval.REQUESTED,
        "maker": _username(waiver.requested_by),
        "approvals": _approvals(waiver.approvals),
        **_who_may_approve(waiver, reads),
        "reversed_on": waiver.reversed_on,
        "reversal_reason": mask_text(waiver.reversal_reason),
        "note": mask_text(waiver.note),
    }


def plan_row(plan: RepaymentPlan, reads: service.ApproverReads | None = None) -> dict[str, Any]:
    """A repayment plan as the pages show it (its instalments prefetched by the caller);
    ``reads`` as for :func:`waiver_row`."""
    instalments = [
        {"due_date": i.due_date, "amount_minor": i.amount_minor} for i in plan.instalments.all()
    ]
    return {
        "kind": "plan",
        "pk": plan.pk,
        "ref": plan.ref,
        "loan": plan.loan.ref,
        "borrower_id": plan.loan.borrower_id,
        "currency": plan.loan.currency,
        "effective_on": plan.effective_on,
        "instalments": instalments,
        "total_minor": sum(i["amount_minor"] for i in instalments),
        "grace_days": plan.grace_days,
        "tolerance_minor": plan.tolerance_minor,
        "settlement": plan.waive_rest,
        "concession_minor": plan.concession_minor,
        "status": plan.status,
        "status_label": label("concession_status", plan.status),
        "requested": plan.status == Approval.REQUESTED,
        "maker": _username(plan.proposed_by),
        "approvals": _approvals(plan.approvals),
        **_who_may_approve(plan, reads),
        "note": mask_text(plan.note),
    }


# --- the approvals page --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def approvals(request: HttpRequest) -> HttpResponse:
    """Requested waivers and plans of the approver's team (all for a superuser) with approve
    and reject, and the approved waivers with reverse.

    The page is for team leads, managers and superusers (403 for anyone else); each approval is
    still checked by the service against the approver's own limits and shown when refused.
    """
    user: Any = request.user
    if not selectors.is_approver(user):
        raise PermissionDenied(_("Only team leads and managers approve concessions."))
    waivers = selectors.visible_waivers(user)
    plans = selectors.visible_plans(user)
    bound: dict[str, forms.Form] = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        kind = request.POST.get("kind", "")
        if action == "reverse":
            waivers_only = waivers.filter(status=Approval.APPROVED)
            item = find_item(kind, request.POST.get("item", ""), waivers_only, plans.none())
        else:
            item = find_item(
                kind,
                request.POST.get("item", ""),
                waivers.filter(status=Approval.REQUESTED),
                plans.filter(status=Approval.REQUESTED),
            )
        done = _act(request, action, item, bound)
        if done is not None:
            messages.success(request, done)
            return redirect("web:approvals")
        status = 400
    shown_waivers, shown_plans, filters = approval_filters.apply(request.GET, waivers, plans)
    context = _approvals_context(user, shown_waivers, shown_plans, bound)
    context["filters"] = filters
    return render(request, "web/approvals.html", context, status=status)


def _prefix(action: str, kind: str, pk: int) -> str:
    return f"{action}-{kind}-{pk}"


def _act(
    request: HttpRequest, action: str, item: Waiver | RepaymentPlan, bound: dict[str, forms.Form]
) -> str | None:
    """Do ``action`` on ``item``: the success message, or ``None`` after recording the refusal
    (as a message, or on the bound form kept in ``bound`` so the typed input is shown again)."""
    kind = "waiver" if isinstance(item, Waiver) else "plan"
    user: Any = request.user
    if action == "approve":
        try:
            return approve(item, user)
        except Refusal as error:
            messages.error(request, refusal(error))
            return None
    form: forms.Form
    if action == "reject":
        form = RejectForm(request.POST, prefix=_prefix(action, kind, item.pk))
    elif action == "reverse" and isinstance(item, Waiver):
        form = ReverseForm(request.POST, prefix=_prefix(action, kind, item.pk))
    else:
        messages.error(request, _("Unknown action."))
        return None
    bound[form.prefix or ""] = form
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        if isinstance(form, RejectForm):
            service.reject(item, user=user, reason=data["reason"])
            return _("%(ref)s rejected.") % {"ref": item.ref}
        assert isinstance(item, Waiver)
        service.reverse_waiver(item, user=user, on=data["on"], reason=data["reason"])
        return _("%(ref)s reversed from %(date)s.") % {
            "ref": item.ref,
            "date": data["on"].isoformat(),
        }
    except Refusal as error:
        show_refusal(form, error)
        return None


def _approvals_context(
    user: Any,
    waivers: QuerySet[Waiver],
    plans: QuerySet[RepaymentPlan],
    bound: dict[str, forms.Form],
) -> dict[str, Any]:
    """The three lists, oldest request first (it has waited longest), each row with its forms."""
    day = business_date()
    requested_waivers = waivers.filter(status=Approval.REQUESTED).order_by("created_at", "id")
    requested_plans = plans.filter(status=Approval.REQUESTED).order_by("created_at", "id")
    approved = waivers.filter(status=Approval.APPROVED).order_by("-effective_on", "-id")
    reads = service.ApproverReads()
    lists = {
        "waivers": [waiver_row(w, reads) for w in requested_waivers[:APPROVALS_LIMIT]],
        "plans": [plan_row(p, reads) for p in requested_plans[:APPROVALS_LIMIT]],
        "approved": [waiver_row(w, reads) for w in approved[:APPROVALS_LIMIT]],
    }
    borrowers = {row["borrower_id"] for rows in lists.values() for row in rows}
    cases = selectors.case_of_borrowers(user, borrowers)
    for name, rows in lists.items():
        for row in rows:
            row["case"] = cases.get(row["borrower_id"])
            if name == "approved":
                prefix = _prefix("reverse", "waiver", row["pk"])
                row["reverse_form"] = bound.get(prefix) or ReverseForm(
                    prefix=prefix, initial={"on": day}
                )
            else:
                prefix = _prefix("reject", row["kind"], row["pk"])
                row["reject_form"] = bound.get(prefix) or RejectForm(prefix=prefix)
    return {
        "day": day,
        "window_days": approval_window_days(),
        "limit": APPROVALS_LIMIT,
        "waiver_count": requested_waivers.count(),
        "plan_count": requested_plans.count(),
        "approved_count": approved.count(),
        **lists,
    }
