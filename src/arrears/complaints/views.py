"""Complaint pages for staff: the register, one complaint (acknowledge, resolve) and logging a
complaint from the case page. Compliance (``complaints.view_complaint``), team leads, managers
and superusers see the register; anyone who may open a case may log a complaint on it (placing
a hold is open to anyone working the case). Everyone else gets the friendly 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from arrears import errorcodes
from arrears.collections.selectors import visible_cases
from arrears.collections.workflow import business_date
from arrears.complaints import letter, selectors, services
from arrears.complaints.forms import AcknowledgeForm, FileForm, ResolveForm
from arrears.complaints.models import Complaint
from arrears.kernel.errors import ArrearsError

#: Most rows the register shows at once.
LIST_LIMIT = 200


def _staff_only(user: Any) -> None:
    if not services.may_handle(user):
        raise Http404


@login_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    _staff_only(request.user)
    today = business_date()
    status = request.GET.get("status", "")
    category = request.GET.get("category", "")
    only_overdue = request.GET.get("overdue") == "1"
    mine = selectors.visible_complaints(request.user)
    rows = services.overdue(today).filter(pk__in=mine) if only_overdue else mine
    if status in Complaint.Status.values:
        rows = rows.filter(status=status)
    if category in Complaint.Category.values:
        rows = rows.filter(category=category)
    overdue_ids = set(services.overdue(today).filter(pk__in=mine).values_list("pk", flat=True))
    found = list(rows.select_related("borrower")[:LIST_LIMIT])
    return render(
        request,
        "complaints/list.html",
        {
            "complaints": found,
            "overdue_ids": overdue_ids,
            "statuses": Complaint.Status.choices,
            "categories": Complaint.Category.choices,
            "status": status,
            "category": category,
            "only_overdue": only_overdue,
            "limit": LIST_LIMIT,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def complaint_detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    _staff_only(request.user)
    complaint = get_object_or_404(
        selectors.visible_complaints(request.user).select_related("borrower"), pk=complaint_id
    )
    ack_form: AcknowledgeForm = AcknowledgeForm()
    resolve_form = ResolveForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "acknowledge":
                services.acknowledge(complaint, request.user)
                messages.success(request, gettext("Complaint acknowledged."))
                return redirect("complaints:detail", complaint_id=complaint.pk)
            if action != "resolve":
                raise Http404
            resolve_form = ResolveForm(request.POST)
            if resolve_form.is_valid():
                data = resolve_form.cleaned_data
                services.resolve(
                    complaint,
                    by=request.user,
                    root_cause=data["root_cause"],
                    resolution=data["resolution"],
                    upheld=data["upheld"],
                )
                messages.success(request, gettext("Complaint resolved; the hold is released."))
                return redirect("complaints:detail", complaint_id=complaint.pk)
        except ArrearsError as error:
            form = resolve_form if action == "resolve" else ack_form
            form.add_error(
                error.field if error.field in form.fields else None, errorcodes.describe(error)
            )
    return render(
        request,
        "complaints/detail.html",
        {
            "complaint": complaint,
            "overdue": services.overdue(business_date()).filter(pk=complaint.pk).exists(),
            "ack_form": ack_form,
            "resolve_form": resolve_form,
        },
    )


@login_required
@require_POST
def complaint_new(request: HttpRequest, case_id: int) -> HttpResponse:
    """Log a complaint received by phone (or letter, …) from the case page's panel."""
    case = get_object_or_404(visible_cases(request.user).select_related("borrower"), pk=case_id)
    form = FileForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            complaint = services.file_complaint(
                borrower=case.borrower,
                case=case,
                kind=data["kind"],
                category=data["category"],
                description=data["description"],
                channel=data["channel"],
                by=request.user,
            )
        except ArrearsError as error:
            form.add_error(
                error.field if error.field in form.fields else None, errorcodes.describe(error)
            )
        else:
            messages.success(
                request,
                gettext("Complaint %(ref)s logged; collection is on hold.")
                % {"ref": complaint.reference},
            )
            return redirect("web:case", case_id=case.pk)
    return render(request, "complaints/new.html", {"case": case, "form": form}, status=400)


@login_required
def resolution_letter(request: HttpRequest, complaint_id: int) -> HttpResponse:
    """The resolution letter PDF, in the borrower's language (resolved complaints only)."""
    _staff_only(request.user)
    complaint = get_object_or_404(
        selectors.visible_complaints(request.user).select_related("borrower"),
        pk=complaint_id,
        status=Complaint.Status.RESOLVED,
    )
    response = HttpResponse(letter.resolution_pdf(complaint), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{complaint.reference}.pdf"'
    return response
