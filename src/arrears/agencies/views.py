"""The agency user's pages (mounted at ``/agency/``): their placed cases, one case, the files.

Who sees what is :mod:`arrears.agencies.access`'s decision: the list shows the agency's live
placements only, and a case page for anything else — another agency's case, a recalled
placement, a case never placed — is a 404, like a case that does not exist. A logged-in user
who is not an agency user gets a 403 on the list (they have their own pages).

The actions go through :mod:`arrears.agencies.actions` (the contact log and its compliance
gate, promises, plan proposals to the lender's approvers) and the result files through
:mod:`arrears.agencies.exchange`, the same code as the API. Refusals are shown in the reader's
language (``errorcodes.describe``) on the field they name, as on the workbench.

Privacy: the page shows the masked national ID and masked numbers; the full numbers the agency
may dial appear only in the contact form's number choice. Other people's notes are masked.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from arrears import errorcodes, formfields
from arrears.agencies import access, actions, exchange
from arrears.agencies.models import AgencyMember, Placement, ResultBatch
from arrears.collections.models import ContactAttempt, Promise
from arrears.collections.workflow import business_date
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money
from arrears.ledger.masking import mask_phone, mask_text
from arrears.ledger.models import Loan, Phone
from arrears.web import concessions, selectors
from arrears.web.workbench import label

#: Most recent contacts and promises shown on a case.
CASE_LIST_LIMIT = 100
#: Placed cases per page of the list (an agency may hold a thousand at once).
PAGE_SIZE = 50


def _member(request: HttpRequest) -> AgencyMember:
    member = access.member_of(request.user)
    if member is None:
        raise PermissionDenied(_("These pages are for agency users."))
    return member


# --- forms ------------------------------------------------------------------------------------


class AgencyContactForm(forms.Form):
    """Log an outbound contact the agency made; only its contract's channels and parties, and
    only the numbers it may use (shown in full: the agency user dials them)."""

    channel = forms.ChoiceField(label=gettext_lazy("Channel"))
    party = forms.ChoiceField(label=gettext_lazy("Party"))
    phone = forms.ChoiceField(label=gettext_lazy("Phone"), required=False)
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"))
    visitors = formfields.BoundedTextField(
        label=gettext_lazy("Other visitors"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("For a visit: the other collectors who went, comma-separated."),
    )
    note = formfields.note_field(max_length=exchange.MAX_NOTE)

    def __init__(self, *args: Any, placement: Placement, phones: list[Phone], **kwargs: Any):
        super().__init__(*args, **kwargs)
        agency = placement.agency
        fields: dict[str, Any] = self.fields
        fields["channel"].choices = [
            (c, label("channel", c)) for c in access.permitted_channels(agency)
        ]
        fields["party"].choices = [(p, label("party", p)) for p in access.permitted_parties(agency)]
        fields["outcome"].choices = [(o, label("outcome", o)) for o in actions.OUTCOMES]
        if not access.may_visit(agency):
            del fields["visitors"]  # only a visit has visitors
        self.phones = {str(p.pk): p for p in phones}
        fields["phone"].choices = [("", "—")] + [(k, p.number) for k, p in self.phones.items()]

    def clean_phone(self) -> Phone | None:
        return self.phones.get(self.cleaned_data.get("phone") or "")

    def clean_visitors(self) -> list[str]:
        text = self.cleaned_data.get("visitors") or ""
        return [name.strip() for name in text.replace("，", ",").split(",") if name.strip()]


class AgencyPromiseForm(forms.Form):
    """A promise to pay, amounts in major units parsed exactly (never through float) and
    bounded by :mod:`arrears.formfields`."""

    amount = formfields.AmountField(label=gettext_lazy("Amount"))
    due_date = formfields.BoundedDateField(
        label=gettext_lazy("Promised by"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        field: Any = self.fields["amount"]
        field.currency = currency

    def clean_amount(self) -> int:
        amount: Money = self.cleaned_data["amount"]
        return amount.minor


class UploadForm(forms.Form):
    """A results file; its reference defaults to the file name."""

    file = forms.FileField(label=gettext_lazy("Results file (CSV or Parquet)"))
    reference = formfields.BoundedTextField(
        label=gettext_lazy("Reference"),
        required=False,
        max_length=exchange.MAX_REFERENCE,
        help_text=gettext_lazy("Your batch reference; the file name when left empty."),
    )


# --- the list ---------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The agency's live placed cases, and the file exchange."""
    member = _member(request)
    return _home(request, member, UploadForm(), None, 200)


def _home(
    request: HttpRequest,
    member: AgencyMember,
    upload: UploadForm,
    errors: list[dict[str, Any]] | None,
    status: int,
) -> HttpResponse:
    day = business_date()
    batches = ResultBatch.objects.filter(agency=member.agency).order_by("-received_at", "-id")
    page = Paginator(exchange.live(member.agency, day), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "agency": member.agency,
        "day": day,
        "page": page,
        "rows": exchange.rows_of(member.agency, page.object_list),
        "upload_form": upload,
        "row_errors": errors or [],
        "batches": batches[:20],
        "max_rows": exchange.MAX_ROWS,
    }
    return render(request, "agencies/home.html", context, status=status)


@login_required
@require_GET
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Download the live placements as CSV or Parquet."""
    member = _member(request)
    if fmt not in exchange.FORMATS:
        raise PermissionDenied
    day = business_date()
    data = exchange.export_placements(member.agency, day, fmt)
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    response = HttpResponse(data, content_type=kind)
    name = f"placements-{member.agency.code}-{day.isoformat()}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """Import a results file: all rows applied, or none with every row's error listed."""
    member = _member(request)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _home(request, member, form, None, 400)
    upload_file = form.cleaned_data["file"]
    name = str(upload_file.name or "")
    fmt = "parquet" if name.lower().endswith(".parquet") else "csv"
    reference = form.cleaned_data["reference"] or name[: exchange.MAX_REFERENCE]
    try:
        exchange.check_size(upload_file.size or 0)  # before reading it
        outcome = exchange.import_results(
            member.agency, upload_file.read(), fmt, reference=reference, user=request.user
        )
    except exchange.ResultsRefused as refused:
        form.add_error(None, errorcodes.describe(refused))
        errors = [
            {
                "row": e.row,
                "field": e.field,
                "code": e.code,
                "message": errorcodes.describe(e.error),
            }
            for e in refused.errors
        ]
        return _home(request, member, form, errors, 400)
    except exchange.ResultsConflict as conflict:
        form.add_error("reference", errorcodes.describe(conflict))
        return _home(request, member, form, None, 409)
    if outcome.replayed:
        messages.info(
            request,
            _("Batch %(ref)s was already imported; nothing changed.")
            % {"ref": outcome.batch.reference},
        )
    else:
        messages.success(
            request,
            _("Batch %(ref)s imported: %(n)s rows.")
            % {"ref": outcome.batch.reference, "n": outcome.batch.rows},
        )
    return redirect("agencies:home")


# --- one case ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """One placed case: amounts, this agency's contacts and promises, and the action forms."""
    member = _member(request)
    day = business_date()
    placement = access.placement_of(member.agency, case_id, day)  # 404 for anything else
    case = placement.case
    phones = access.usable_phones(member.agency, case.borrower)
    loans = list(Loan.objects.filter(borrower_id=case.borrower_id).order_by("ref"))
    forms_by_action: dict[str, forms.Form] = {
        "contact": AgencyContactForm(prefix="contact", placement=placement, phones=phones),
        "promise": AgencyPromiseForm(prefix="promise", currency=case.currency),
        "plan": concessions.PlanForm(prefix="plan", loans=loans),
    }
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in forms_by_action:
            messages.error(request, _("Unknown action."))
            status = 400
        else:
            bound = _bound(action, request, placement, phones, loans)
            forms_by_action[action] = bound
            if bound.is_valid():
                try:
                    done = _apply(action, bound, placement, request.user)
                except ArrearsError as error:
                    concessions.show_refusal(bound, error)
                else:
                    messages.success(request, done)
                    return redirect("agencies:case", case_id=case.pk)
            status = 400
    context = _context(placement, day)
    context.update(
        contact_form=forms_by_action["contact"],
        promise_form=forms_by_action["promise"],
        plan_form=forms_by_action["plan"],
        plan_max=concessions.PLAN_MAX_INSTALMENTS,
    )
    return render(request, "agencies/case.html", context, status=status)


def _bound(
    action: str,
    request: HttpRequest,
    placement: Placement,
    phones: list[Phone],
    loans: list[Loan],
) -> forms.Form:
    if action == "contact":
        return AgencyContactForm(request.POST, prefix=action, placement=placement, phones=phones)
    if action == "promise":
        return AgencyPromiseForm(request.POST, prefix=action, currency=placement.case.currency)
    return concessions.PlanForm(request.POST, prefix=action, loans=loans)


def _apply(action: str, form: forms.Form, placement: Placement, user: Any) -> str:
    data = form.cleaned_data
    if action == "contact":
        # No ``at``: the contact happens now; the gate is asked about this moment.
        actions.log_contact(
            placement,
            channel=data["channel"],
            party=data["party"],
            outcome=data["outcome"],
            phone=data["phone"],
            note=data["note"],
            user=user,
            visitors=data.get("visitors") or [],
        )
        return _("Contact logged.")
    if action == "promise":
        actions.make_promise(
            placement, amount_minor=data["amount"], due_date=data["due_date"], user=user
        )
        return _("Promise recorded.")
    plan = actions.propose_plan(
        placement,
        data["loan"],
        user=user,
        instalments=data["rows"],
        grace_days=data["grace_days"],
        tolerance_minor=data["tolerance_minor"],
        waive_rest=data["settlement"],
        note=data["note"],
    )
    return _("Plan %(ref)s proposed; the lender's approvers decide.") % {"ref": plan.ref}


def _context(placement: Placement, day: date) -> dict[str, Any]:
    """What the case page shows: minimised, labelled in the reader's language."""
    case = placement.case
    agency = placement.agency
    contacts = (
        ContactAttempt.objects.filter(case=case, agency=agency)
        .select_related("phone", "collector")
        .order_by("-at", "-id")
    )
    promises = Promise.objects.filter(case=case).order_by("-made_on", "-id")
    return {
        "placement": placement,
        "case": case,
        "day": day,
        "person": access.person(agency, case.borrower),
        "loans": selectors.borrower_loans(case.borrower_id),
        "contacts": [
            {
                "at": c.at,
                "channel": label("channel", c.channel),
                "party": label("party", c.party),
                "phone": mask_phone(c.phone.number) if c.phone else "",
                "outcome": label("outcome", c.outcome),
                "note": mask_text(c.note),
                "who": c.collector.get_username() if c.collector else "",
                "gate": label("gate_outcome", c.gate_outcome),
            }
            for c in contacts[:CASE_LIST_LIMIT]
        ],
        "promises": [
            {
                "made_on": p.made_on,
                "amount_minor": p.amount_minor,
                "due_date": p.due_date,
                "paid_minor": p.paid_minor,
                "status": label("promise_status", p.status),
                "ours": p.agency_id == agency.pk,
            }
            for p in promises[:CASE_LIST_LIMIT]
        ],
        # others' contacts (the lender's, earlier agencies'): when, how and what came of it —
        # no notes, numbers or names
        "other_contacts": [
            {
                "at": c.at,
                "channel": label("channel", c.channel),
                "outcome": label("outcome", c.outcome),
            }
            for c in ContactAttempt.objects.filter(case=case)
            .exclude(agency=agency)
            .order_by("-at", "-id")[:CASE_LIST_LIMIT]
        ],
    }
