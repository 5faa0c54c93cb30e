"""The "Make a plan" page (``/my/loans/<ref>/plan/``): a thin view over ``portal.plans``.

The loan is looked up among the signed-in borrower's own (404 otherwise); amounts and dates
are read with the portal's strict parsers; a refusal is shown next to the field it names.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from arrears import errorcodes
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money
from arrears.ledger.models import Borrower, Loan
from arrears.portal import plans, selectors, session
from arrears.portal.session import borrower_required
from arrears.portal.views import parse_amount, parse_day

#: What the page's inputs are called, per form (``parse_day``/``parse_amount`` and the services
#: name their own fields; the page shows each error next to its input).
FIELDS = {
    "plan": {
        "on": "first_on",
        "amount": "first_amount",
        "first_on": "first_on",
        "first_amount": "first_amount",
        "instalments": "instalments",
    },
    "promise": {"on": "on", "due_date": "on", "amount": "amount"},
}


#: A request's status in plain words.
STATUS = {
    "requested": gettext_lazy("Waiting for a decision"),
    "approved": gettext_lazy("Approved"),
    "rejected": gettext_lazy("Not approved"),
    "reversed": gettext_lazy("Cancelled"),
    "pending": gettext_lazy("Waiting for your payment"),
    "kept": gettext_lazy("Kept"),
    "partially_kept": gettext_lazy("Partly kept"),
    "broken": gettext_lazy("Not kept"),
    "cancelled": gettext_lazy("Replaced"),
}


def parse_count(text: str, high: int) -> int:
    """The number of instalments, 1…``high``."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or not 1 <= int(cleaned) <= high:
        raise errorcodes.refuse(
            plans.PlanRequestRefused,
            "portal-plan-instalments",
            field="instalments",
            low=1,
            high=high,
        )
    return int(cleaned)


def submit(borrower: Borrower, loan: Loan, action: str, data: dict[str, str]) -> str:
    """Make the request the form describes; the ref the page then reports on."""
    today = selectors.today()
    lim = plans.limits()
    if action == "promise":
        amount = parse_amount(data.get("amount", ""), loan.currency)
        due = parse_day(data.get("on", ""), today, today + timedelta(days=lim.promise_max_days))
        made = plans.promise(borrower, loan, today=today, amount_minor=amount, due_date=due)
        return f"promise-{made.pk}"
    count = parse_count(data.get("instalments", ""), lim.max_instalments)
    last_first = today + timedelta(days=lim.max_days_to_first)
    first_on = parse_day(data.get("first_on", ""), today, last_first)
    typed = data.get("first_amount", "").strip()
    first_amount = parse_amount(typed, loan.currency) if typed else None
    proposed = plans.propose(
        borrower, loan, today=today, count=count, first_on=first_on, first_amount=first_amount
    )
    return proposed.plan.ref


@borrower_required
def start(request: HttpRequest) -> HttpResponse:
    """The nav's "Make a plan": the plan page of the loan signed in with (else the first)."""
    borrower = request.borrower  # type: ignore[attr-defined]
    loans = selectors.loans_of(borrower)
    if not loans:
        return redirect("portal:home")
    signed_in = request.session.get(session.LOAN)
    chosen = next((loan for loan in loans if loan.pk == signed_in), loans[0])
    return redirect("portal:plan", ref=chosen.ref)


@borrower_required
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest, ref: str) -> HttpResponse:
    """The options with their cost against paying today, the two forms, and the requests."""
    borrower = request.borrower  # type: ignore[attr-defined]
    found = selectors.loan_of(borrower, ref)
    errors: dict[str, str] = {}
    form, typed = "", {}
    if request.method == "POST":
        form = "promise" if request.POST.get("action") == "promise" else "plan"
        names = ("instalments", "first_on", "first_amount", "amount", "on")
        typed = {name: str(request.POST.get(name, ""))[:40] for name in names}
        try:
            made = submit(borrower, found, form, typed)
        except ArrearsError as refused:
            field = FIELDS[form].get(refused.field or "", "")
            errors[f"{form}_{field}" if field else form] = errorcodes.describe(refused)
        else:
            url = reverse("portal:plan", args=[found.ref])
            return redirect(f"{url}?made={made}")
    context = page_context(borrower, found)
    context.update(errors=errors, form=form, typed=typed)
    made_ref = str(request.GET.get("made", ""))[:80]
    context["made"] = next((r for r in context["requests"] if r["ref"] == made_ref), None)
    return render(request, "portal/plan.html", context, status=400 if errors else 200)


def option_row(option: plans.Option, currency: str) -> dict[str, Any]:
    """One plan option as the page and the API show it (amounts as ``Money``)."""
    preview = option.preview
    return {
        "instalments": option.count,
        "schedule": [(day, Money(minor, currency)) for day, minor in option.instalments],
        "first": Money(option.instalments[0][1], currency),
        "last_on": option.instalments[-1][0],
        "total_cost": Money(preview.plan_cost, currency),
        "pay_now": Money(option.payoff_now, currency),
        "difference": Money(option.extra_cost, currency),
        "penalty_stopped": Money(preview.concession, currency),
        "approved_at_once": option.automatic,
    }


def request_row(item: plans.Request, currency: str) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "ref": item.ref,
        "made_on": item.made_on,
        "payments": [(day, Money(minor, currency)) for day, minor in item.summary],
        "status": item.status,
        "status_label": STATUS.get(item.status, item.status),
        "from_portal": item.from_portal,
    }


def page_context(borrower: Borrower, loan: Loan) -> dict[str, Any]:
    # read after any request the page made: the options, the open request and the statement
    # replay the loan some twenty times from the same rows
    plans.with_history(loan)
    today = selectors.today()
    lim = plans.limits()
    refused = plans.open_request(borrower, loan, today)
    found = plans.options(loan, today) if refused is None else []
    return {
        "loan": loan,
        "on": today,
        "limits": lim,
        "data": selectors.statement(loan, today),
        "options": [option_row(o, loan.currency) for o in found],
        "open_request": errorcodes.describe(refused) if refused is not None else "",
        "requests": [request_row(r, loan.currency) for r in plans.requests_of(borrower, loan)],
        "first_default": today
        + timedelta(days=min(lim.auto_max_days_to_first, lim.max_days_to_first)),
        "last_first": today + timedelta(days=lim.max_days_to_first),
        "last_promise": today + timedelta(days=lim.promise_max_days),
        "instalment_choices": range(1, lim.max_instalments + 1),
    }
