"""Field-visit pages: the list, a visit with its actions, the request form, the letter.

Who sees what: collectors, leads and managers see visits on the cases they may open
(``collections.selectors.visible_cases``); a field agent sees only the visits assigned to them, with
the minimum of the case (name, masked phone, address, amount due); anyone else gets 404, so a
visit's existence is not revealed. Every action is a POST to the visit page that calls one
service; a refusal is shown in the reader's language (``errorcodes.describe``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from arrears import errorcodes, formfields
from arrears.collections.models import Collector
from arrears.collections.selectors import visible_cases
from arrears.fieldwork import eligibility, services
from arrears.fieldwork.models import FieldAgent, FieldVisit
from arrears.kernel.errors import ArrearsError
from arrears.ledger.masking import mask_phone

LIST_LIMIT = 200


def _visits_for(user: Any) -> QuerySet[FieldVisit]:
    """The visits ``user`` may open (see the module docstring)."""
    visits = FieldVisit.objects.select_related("case__borrower", "requested_by")
    if getattr(user, "is_superuser", False):
        return visits
    agent = FieldAgent.of(user)
    rule = Q(case__in=visible_cases(user))
    if agent is not None:
        rule |= Q(agents=agent)
    return visits.filter(rule).distinct()


def _agent_only(user: Any, visit: FieldVisit) -> bool:
    """True when the user sees the visit only as one of its agents (minimal case data)."""
    if getattr(user, "is_superuser", False):
        return False
    return not visible_cases(user).filter(pk=visit.case_id).exists()


class ReasonForm(forms.Form):
    reason = formfields.BoundedTextField(
        label=gettext_lazy("Reason for the visit"),
        max_length=services.REASON_MAX,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NoteForm(forms.Form):
    note = formfields.BoundedTextField(
        label=gettext_lazy("Note"), max_length=services.REASON_MAX, required=False
    )


class AssignForm(forms.Form):
    agents = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Field agents"),
        queryset=FieldAgent.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
    )


class AuthoriseForm(forms.Form):
    valid_to = formfields.BoundedDateTimeField(
        label=gettext_lazy("Valid until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class ScheduleForm(forms.Form):
    appointment_at = formfields.BoundedDateTimeField(
        label=gettext_lazy("Appointment"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    place = formfields.BoundedTextField(label=gettext_lazy("Place"), max_length=services.PLACE_MAX)


class LocationForm(forms.Form):
    lat = formfields.BoundedDecimalField(
        label=gettext_lazy("Latitude"),
        required=False,
        min_value=Decimal(-90),
        max_value=Decimal(90),
        decimal_places=6,
    )
    lon = formfields.BoundedDecimalField(
        label=gettext_lazy("Longitude"),
        required=False,
        min_value=Decimal(-180),
        max_value=Decimal(180),
        decimal_places=6,
    )


class ReportForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=FieldVisit.Outcome.choices)
    notes = formfields.BoundedTextField(
        label=gettext_lazy("Notes"),
        required=False,
        max_length=services.NOTES_MAX,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    evidence = formfields.BoundedTextField(
        label=gettext_lazy("Evidence (one file name or URI a line)"),
        required=False,
        max_length=services.EVIDENCE_MAX_COUNT * (services.EVIDENCE_MAX_LENGTH + 2),
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    promise_amount = formfields.AmountField(
        label=gettext_lazy("Promised amount (yuan)"), required=False, currency="CNY"
    )
    promise_due = formfields.BoundedDateField(
        label=gettext_lazy("Promised by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    override_reason = formfields.BoundedTextField(
        label=gettext_lazy("Override reason (only if the gate refuses)"),
        required=False,
        max_length=500,
    )


class CancelForm(forms.Form):
    reason = formfields.BoundedTextField(
        label=gettext_lazy("Reason"), max_length=services.REASON_MAX
    )


FORMS: dict[str, type[forms.Form]] = {
    "approve": NoteForm,
    "reject": NoteForm,
    "assign": AssignForm,
    "authorise": AuthoriseForm,
    "schedule": ScheduleForm,
    "check_in": LocationForm,
    "check_out": LocationForm,
    "report": ReportForm,
    "close": forms.Form,
    "cancel": CancelForm,
}


def _apply(action: str, data: dict[str, Any], visit: FieldVisit, user: Any) -> str:
    """Run one action; returns the confirmation shown after the redirect."""
    if action == "approve":
        services.approve(visit, by=user, note=data["note"])
        return gettext("Visit approved.")
    if action == "reject":
        services.reject(visit, by=user, note=data["note"])
        return gettext("Visit rejected.")
    if action == "assign":
        services.assign(visit, list(data["agents"]), by=user)
        return gettext("Field agents assigned.")
    if action == "authorise":
        services.authorise(visit, by=user, valid_to=data.get("valid_to"))
        return gettext("Authorisation letter issued.")
    if action == "schedule":
        services.schedule(visit, at=data["appointment_at"], place=data["place"], by=user)
        return gettext("Appointment set; the borrower is told through the outbox.")
    if action == "check_in":
        services.check_in(visit, by=user, lat=data.get("lat"), lon=data.get("lon"))
        return gettext("Checked in.")
    if action == "check_out":
        services.check_out(visit, by=user, lat=data.get("lat"), lon=data.get("lon"))
        return gettext("Checked out.")
    if action == "report":
        amount = data.get("promise_amount")
        services.report(
            visit,
            by=user,
            outcome=data["outcome"],
            notes=data.get("notes", ""),
            evidence=(data.get("evidence") or "").splitlines(),
            promise_amount_minor=amount.minor if amount is not None else None,
            promise_due=data.get("promise_due"),
            override_reason=data.get("override_reason", ""),
        )
        return gettext("Visit reported.")
    if action == "close":
        services.close(visit, by=user)
        return gettext("Visit closed.")
    services.cancel(visit, by=user, reason=data["reason"])
    return gettext("Visit cancelled.")


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (
        getattr(user, "is_superuser", False)
        or FieldAgent.of(user) is not None
        or Collector.role_of(user)
    ):
        raise Http404
    status = request.GET.get("status", "")
    visits = _visits_for(user)
    if status in FieldVisit.Status.values:
        visits = visits.filter(status=status)
    return render(
        request,
        "fieldwork/list.html",
        {
            "visits": list(visits[:LIST_LIMIT]),
            "statuses": FieldVisit.Status.choices,
            "status": status,
            "limit": LIST_LIMIT,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_detail(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = get_object_or_404(_visits_for(request.user), pk=visit_id)
    bound: dict[str, forms.Form] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in FORMS:
            raise Http404
        form = FORMS[action](request.POST)
        if form.is_valid():
            try:
                done = _apply(action, form.cleaned_data, visit, request.user)
            except ArrearsError as error:
                form.add_error(
                    error.field if error.field in form.fields else None,
                    errorcodes.describe(error),
                )
            else:
                messages.success(request, done)
                return redirect("fieldwork:detail", visit_id=visit.pk)
        bound[action] = form
        visit.refresh_from_db()
    return render(request, "fieldwork/detail.html", _context(request, visit, bound))


def _context(
    request: HttpRequest, visit: FieldVisit, bound: dict[str, forms.Form]
) -> dict[str, Any]:
    user = request.user
    minimal = _agent_only(user, visit)
    case = visit.case
    borrower = case.borrower
    phone = borrower.phones.filter(is_valid=True).order_by("id").first()
    agent = FieldAgent.of(user)
    is_agent = agent is not None and visit.agents.filter(pk=agent.pk).exists()
    supervisor = not minimal and Collector.supervises(user)
    forms_shown = {name: bound.get(name) or cls() for name, cls in FORMS.items()}
    return {
        "visit": visit,
        "case": case,
        "minimal": minimal,
        "borrower_name": borrower.name,
        "masked_phone": mask_phone(phone.number) if phone else "",
        "address": borrower.postal_address,
        "agents": list(visit.agents.all()),
        "authorisation": visit.authorisation(),
        "answer": None if minimal else eligibility.check(case, _today()),
        "eligibility_at_request": visit.eligibility.get("conditions", []),
        "events": [] if minimal else list(case.events.filter(kind="visit").order_by("id")),
        "forms": forms_shown,
        "can": {
            "decide": supervisor and visit.status == FieldVisit.Status.REQUESTED,
            "assign": supervisor
            and visit.status in (FieldVisit.Status.APPROVED, FieldVisit.Status.ASSIGNED),
            "authorise": supervisor and visit.status == FieldVisit.Status.ASSIGNED,
            "schedule": (supervisor or is_agent or visit.requested_by_id == user.pk)
            and visit.status in (FieldVisit.Status.AUTHORISED, FieldVisit.Status.SCHEDULED),
            "check_in": is_agent and visit.status == FieldVisit.Status.SCHEDULED,
            "check_out": is_agent
            and visit.status == FieldVisit.Status.IN_PROGRESS
            and visit.checked_out_at is None,
            "report": is_agent
            and visit.status == FieldVisit.Status.IN_PROGRESS
            and visit.checked_out_at is not None,
            "close": supervisor and visit.status == FieldVisit.Status.REPORTED,
            "cancel": (supervisor or visit.requested_by_id == user.pk) and visit.is_open,
            "letter": visit.authorisation() is not None and (supervisor or is_agent),
        },
    }


def _today() -> Any:
    from arrears.collections.workflow import business_date

    return business_date()


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest) -> HttpResponse:
    case_id = formfields.parse_id(request.GET.get("case", ""))
    if case_id is None:
        raise Http404
    case = get_object_or_404(visible_cases(request.user), pk=case_id)
    answer = eligibility.check(case, _today())
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.request_visit(
                case, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ArrearsError as error:
            form.add_error(
                error.field if error.field in form.fields else None, errorcodes.describe(error)
            )
        else:
            messages.success(request, gettext("Visit requested; a team lead decides."))
            return redirect("fieldwork:detail", visit_id=visit.pk)
    return render(request, "fieldwork/new.html", {"case": case, "answer": answer, "form": form})


@login_required
def visit_letter(request: HttpRequest, visit_id: int) -> FileResponse:
    """The latest authorisation PDF, for a supervisor over the case or an assigned agent."""
    visit = get_object_or_404(_visits_for(request.user), pk=visit_id)
    agent = FieldAgent.of(request.user)
    is_agent = agent is not None and visit.agents.filter(pk=agent.pk).exists()
    if not is_agent and (
        _agent_only(request.user, visit) or not Collector.supervises(request.user)
    ):
        raise Http404
    authorisation = visit.authorisation()
    if authorisation is None or not Path(authorisation.pdf_path).is_file():
        raise Http404
    return FileResponse(
        Path(authorisation.pdf_path).open("rb"),
        content_type="application/pdf",
        filename=f"visit{visit.pk}-authorisation.pdf",
    )
