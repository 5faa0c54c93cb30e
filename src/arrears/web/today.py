""" "Today" (issue 13): what falls on the business date for the cases a user may open.

Four lists, each linked to its case: callbacks the borrower (or another party) asked for —
the consent window a contact recorded, starting today; pending promises due today; instalments
of approved repayment plans due today; holds whose last day is today (collection resumes
tomorrow). The date is :func:`~arrears.collections.workflow.business_date`, the day the
workflow stands on, not the wall clock, so the page agrees with the queue.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from arrears.collections.workflow import business_date
from arrears.ledger.masking import mask_phone, mask_text
from arrears.web import selectors
from arrears.web.workbench import label


@login_required
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """``/today/``: the user's callbacks, promises, plan instalments and holds ending today."""
    user: Any = request.user
    if selectors.collector_of(user) is None and not user.is_superuser:
        raise PermissionDenied(_("You have no collector profile."))
    day = business_date()
    lists = selectors.today_lists(user, day)
    instalments = list(lists["instalments"])
    holds = list(lists["holds"])
    case_of = selectors.case_of_borrowers(
        user,
        {i.plan.loan.borrower_id for i in instalments} | {h.borrower_id for h in holds},
    )
    context = {
        "day": day,
        "callbacks": [
            {
                "case": c.case_id,
                "borrower": c.case.borrower.name,
                "starts": timezone.localtime(c.consent_starts) if c.consent_starts else None,
                "ends": timezone.localtime(c.consent_ends) if c.consent_ends else None,
                "party": label("party", c.consent_by or c.party),
                "phone": mask_phone(c.phone.number) if c.phone else "",
                "note": mask_text(c.note),
                "by": c.collector.get_username() if c.collector else "",
            }
            for c in lists["callbacks"]
        ],
        "promises": [
            {
                "case": p.case_id,
                "borrower": p.case.borrower.name,
                "amount_minor": p.amount_minor,
                "paid_minor": p.paid_minor,
                "currency": p.case.currency,
            }
            for p in lists["promises"]
        ],
        "instalments": [
            {
                "case": case_of.get(i.plan.loan.borrower_id),
                "borrower": i.plan.loan.borrower.name,
                "plan": i.plan.ref,
                "loan": i.plan.loan.ref,
                "seq": i.seq,
                "amount_minor": i.amount_minor,
                "currency": i.plan.loan.currency,
            }
            for i in instalments
        ],
        "holds": [
            {
                "case": case_of.get(h.borrower_id),
                "borrower": h.borrower.name,
                "reason": label("hold_reason", h.reason),
                "loan": h.loan.ref if h.loan else "",
                "starts_on": h.starts_on,
            }
            for h in holds
        ],
    }
    return render(request, "web/today.html", context)
