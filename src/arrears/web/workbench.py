"""The collector workbench (issue 4): "my queue" and the case page with its actions.

Views stay thin: who may see what is decided in :mod:`arrears.web.selectors` (once, so the queue
and the case page cannot disagree), and every change goes through
:mod:`arrears.collections.services`, which validates, records an event and re-evaluates the
borrower. The forms here only turn text into typed values (an amount into exact minor units, a
date into a date); the business rules — a promise at most 31 days out, a hold that must end —
stay in the services, and their refusal (``errorcodes.describe``, in the reader's language) is
shown next to the field its ``error.field`` names. Waivers and
repayment plans (request, preview, propose, approve) are in :mod:`arrears.web.concessions`,
which also has the approvals page; the case page hosts their forms.

Privacy: these pages never show a full phone number or national ID. Numbers go through
:func:`mask_phone`, and every free text a person typed (notes, event causes, reasons) goes
through :func:`mask_text`, because a note is exactly where a collector pastes a number.

The model choices in ``arrears.collections`` carry no translations (their values are codes the
strategy and the services use), so the labels shown to people live here, in both languages.

"Calling now" on the case page is the compliance gate's real answer for a call at this moment
(holds with their end, the hours, the frequency caps), asked without recording anything: a
page view is not a contact. Logging an outbound contact asks the gate again, in the service,
and records that decision; the contact form's override reason is how a collector logs a contact
the gate would have refused, and such contacts are marked in the contact list.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from arrears import errorcodes, formfields
from arrears.collections import concessions as service_concessions
from arrears.collections import holds, services
from arrears.collections.models import Case, Collector, ContactAttempt, Hold, WorkItem
from arrears.collections.services import CollectionsError
from arrears.collections.workflow import business_date, one_business_date
from arrears.contact.gate import check_call, holds_in_force, last_day
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money
from arrears.ledger.masking import mask_national_id, mask_phone, mask_text
from arrears.ledger.models import Loan, Phone, PlanInstalment, RepaymentPlan, Waiver
from arrears.strategy.model import CHANNELS
from arrears.web import concessions, panels, queueview, selectors

#: Cases per queue page; a team's queue can hold thousands of cases.
QUEUE_PAGE_SIZE = 50
#: Most recent rows shown per list on the case page: a daily call task for months is hundreds
#: of rows, and the newest are the ones a collector acts on.
CASE_LIST_LIMIT = 100

LABELS: dict[str, dict[str, Any]] = {
    "case_status": {
        "open": gettext_lazy("In collection"),
        "promised": gettext_lazy("Promised to pay"),
        "in_plan": gettext_lazy("In a repayment plan"),
        "on_hold": gettext_lazy("On hold"),
        "placed": gettext_lazy("Placed with an agency"),
        "field": gettext_lazy("Field visit"),
        "resolved": gettext_lazy("Resolved"),
        "written_off": gettext_lazy("Written off"),
    },
    "stage": {
        "pre_due": gettext_lazy("Pre-due reminder"),
        "reminder": gettext_lazy("Early reminder"),
        "internal": gettext_lazy("Internal collection"),
        "external": gettext_lazy("External agency"),
        "legal": gettext_lazy("Legal"),
        "field_visit": gettext_lazy("Field visit"),
    },
    "channel": {
        "call": gettext_lazy("Call"),
        "sms": gettext_lazy("SMS"),
        "voice": gettext_lazy("Robocall"),
        "email": gettext_lazy("Email"),
        "letter": gettext_lazy("Letter"),
        "visit": gettext_lazy("Visit"),
        "in_app": gettext_lazy("In-app message"),
        "call_task": gettext_lazy("Call task"),
        "placement": gettext_lazy("Agency placement"),
        "visit_request": gettext_lazy("Field visit request"),
    },
    "direction": {
        "outbound": gettext_lazy("Outbound"),
        "inbound": gettext_lazy("Inbound"),
    },
    "party": {
        "borrower": gettext_lazy("Borrower in person"),
        "co_borrower": gettext_lazy("Co-borrower"),
        "emergency_contact": gettext_lazy("Emergency contact"),
        "third_party": gettext_lazy("Third party"),
    },
    "outcome": {
        "rpc": gettext_lazy("Right-party contact"),
        "no_answer": gettext_lazy("No answer"),
        "wrong_number": gettext_lazy("Wrong number"),
        "third_party": gettext_lazy("Third party reached"),
        "refused": gettext_lazy("Refused to pay"),
        "dispute": gettext_lazy("Disputes the debt"),
        "hardship": gettext_lazy("Hardship"),
        "promise": gettext_lazy("Promise made"),
        "callback": gettext_lazy("Callback requested"),
        "hung_up": gettext_lazy("Answered and hung up"),
    },
    "gate_outcome": {
        "allow": gettext_lazy("allowed"),
        "defer": gettext_lazy("not at that time"),
        "deny": gettext_lazy("not allowed"),
    },
    "work_status": {
        "pending": gettext_lazy("Pending"),
        "done": gettext_lazy("Done"),
        "suppressed": gettext_lazy("Suppressed"),
        "cancelled": gettext_lazy("Cancelled"),
    },
    "promise_status": {
        "pending": gettext_lazy("Pending"),
        "kept": gettext_lazy("Kept"),
        "partially_kept": gettext_lazy("Partially kept"),
        "broken": gettext_lazy("Broken"),
        "cancelled": gettext_lazy("Cancelled"),
    },
    "hold_reason": {
        "complaint": gettext_lazy("Complaint"),
        "dispute": gettext_lazy("Dispute"),
        "hardship": gettext_lazy("Hardship"),
        "deceased": gettext_lazy("Deceased"),
        "legal": gettext_lazy("Legal proceedings"),
        "plan_request": gettext_lazy("Plan request waiting (portal)"),
        "released": gettext_lazy("Released"),
    },
    "event_kind": {
        "opened": gettext_lazy("Opened"),
        "status": gettext_lazy("Status"),
        "stage": gettext_lazy("Stage"),
        "assigned": gettext_lazy("Assignment"),
        "promise": gettext_lazy("Promise"),
        "plan": gettext_lazy("Repayment plan"),
        "waiver": gettext_lazy("Waiver"),
        "hold": gettext_lazy("Hold"),
        "contact": gettext_lazy("Contact"),
        "closed": gettext_lazy("Closed"),
        "placement": gettext_lazy("Agency placement"),
        "letter": gettext_lazy("Lawyer's letter"),
        "visit": gettext_lazy("Field visit"),
        "complaint": gettext_lazy("Complaint"),
    },
    # waiver and plan events record the concession's status as their to-value
    "concession_status": concessions.LABELS["concession_status"],
}

#: Which label set names an event's from/to values, per event kind (others are shown as stored).
_EVENT_VALUES = {
    "opened": "case_status",
    "status": "case_status",
    "closed": "case_status",
    "stage": "stage",
    "promise": "promise_status",
    "hold": "hold_reason",
    "contact": "outcome",
    "waiver": "concession_status",
    "plan": "concession_status",
}


def label(kind: str, value: str) -> str:
    """The reader's-language label of a stored code; an unknown code (a stage a newer strategy
    added) is shown as it is rather than hidden."""
    return str(LABELS[kind].get(value, value)) if value else ""


def _choices(kind: str, values: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, LABELS[kind].get(value, value)) for value in values]


def _date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


# --- forms ------------------------------------------------------------------------------------


class ContactForm(forms.Form):
    """Log a contact attempt (催记); the phone choice shows masked numbers only. Naming the
    task the call answers marks it done, so today's pending count goes down."""

    channel = forms.ChoiceField(label=gettext_lazy("Channel"))
    direction = forms.ChoiceField(label=gettext_lazy("Direction"))
    party = forms.ChoiceField(label=gettext_lazy("Party"))
    phone = forms.ChoiceField(label=gettext_lazy("Phone"), required=False)
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"))
    work_item = forms.ChoiceField(label=gettext_lazy("Completes task"), required=False)
    callback_on = formfields.BoundedDateField(
        label=gettext_lazy("Call back on"), required=False, widget=_date_input()
    )
    callback_from = forms.TimeField(
        label=gettext_lazy("Call back from"),
        required=False,
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
    )
    callback_until = forms.TimeField(
        label=gettext_lazy("Call back until"),
        required=False,
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
    )
    visitors = formfields.BoundedTextField(
        label=gettext_lazy("Other visitors"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("For a visit: the other collectors who went, comma-separated."),
    )
    note = formfields.note_field()
    override_reason = formfields.BoundedTextField(
        label=gettext_lazy("Override reason"),
        required=False,
        max_length=1000,
        multiline=True,
        help_text=gettext_lazy(
            "Only for a contact the compliance gate would not allow: why it was made anyway. "
            "It is recorded and reported to compliance."
        ),
    )

    def __init__(
        self, *args: Any, phones: list[Phone], tasks: list[WorkItem], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["channel"].choices = _choices("channel", ContactAttempt.Channel.values)
        fields["direction"].choices = _choices("direction", ContactAttempt.Direction.values)
        fields["party"].choices = _choices("party", ContactAttempt.Party.values)
        fields["outcome"].choices = _choices("outcome", ContactAttempt.Outcome.values)
        # the case page's shortcuts set this field (see case.html); screen readers announce them
        fields["outcome"].widget.attrs["aria-keyshortcuts"] = "R N W C P"
        self.phones = {str(phone.pk): phone for phone in phones}
        fields["phone"].choices = [("", "—")] + [
            (key, _phone_label(phone)) for key, phone in self.phones.items()
        ]

        self.tasks = {str(task.pk): task for task in tasks}
        fields["work_item"].choices = [("", "—")] + [
            (key, f"{task.due_on:%Y-%m-%d} {label('channel', task.channel)} · {task.template}")
            for key, task in self.tasks.items()
        ]

    def clean_phone(self) -> Phone | None:
        key = self.cleaned_data.get("phone") or ""
        return self.phones.get(key)

    def clean_work_item(self) -> WorkItem | None:
        key = self.cleaned_data.get("work_item") or ""
        return self.tasks.get(key)

    def clean_visitors(self) -> list[str]:
        text = self.cleaned_data.get("visitors") or ""
        return [name.strip() for name in text.replace("，", ",").split(",") if name.strip()]


def _phone_label(phone: Phone) -> str:
    text = mask_phone(phone.number)
    if phone.is_valid:
        return text
    return _("%(phone)s (wrong number)") % {"phone": text}


class PromiseForm(forms.Form):
    """Take a promise to pay: amounts are typed in major units ("1234.56") and parsed exactly
    in the case's currency by :mod:`arrears.formfields` (ASCII digits, the currency's decimal
    places, below the ledger's bound) — never through ``float``."""

    amount = formfields.AmountField(label=gettext_lazy("Amount"))
    due_date = formfields.BoundedDateField(label=gettext_lazy("Promised by"), widget=_date_input())
    tolerance = formfields.AmountField(
        label=gettext_lazy("Tolerance"), required=False, allow_zero=True
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        for name in ("amount", "tolerance"):
            field: Any = self.fields[name]
            field.currency = currency


class HoldForm(forms.Form):
    """Stop collection (暂停催收) for the case's borrower; no channel ticked means every one."""

    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        # a plan request's hold is the portal's own, placed and released with the request
        choices=_choices(
            "hold_reason", [r for r in Hold.Reason.values if r != Hold.Reason.PLAN_REQUEST]
        ),
    )
    starts_on = formfields.BoundedDateField(label=gettext_lazy("From"), widget=_date_input())
    ends_on = formfields.BoundedDateField(label=gettext_lazy("Until"), widget=_date_input())
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Only these channels"),
        required=False,
        choices=_choices("channel", sorted(CHANNELS)),
        widget=forms.CheckboxSelectMultiple,
    )
    note = formfields.note_field()


def _refused(form: forms.Form, error: ArrearsError) -> None:
    """Show a service's refusal on the field it names (``error.field``), or above the form, in
    the reader's language; the typed input stays in the bound form."""
    concessions.show_refusal(form, error)


# --- my queue --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def queue(request: HttpRequest) -> HttpResponse:
    """My queue: a collector's open cases in work order; a supervisor's whole team, with a
    filter by collector and a reassign form per case; a superuser's everything.

    Filters, sort and saved views are :mod:`arrears.web.queueview`'s: a bad filter value is
    dropped with a message and the page answers 400; pagination links keep the filters."""
    user: Any = request.user
    profile = selectors.collector_of(user)
    if profile is None and not user.is_superuser:
        raise PermissionDenied(_("You have no collector profile."))
    supervisor = bool(user.is_superuser or selectors.is_supervisor(profile))
    if request.method == "POST":
        if not supervisor:
            raise PermissionDenied
        _reassign(request)
        query = request.GET.urlencode()
        return redirect(reverse("web:queue") + (f"?{query}" if query else ""))
    day = business_date()
    parsed = queueview.parse(request.GET, supervisor=supervisor)
    if not parsed.problems and any(not value for value in request.GET.values()):
        # the filter form sends its empty fields too: answer with the tidy address, which is
        # what a bookmark or a saved view should hold
        query = queueview.normalised(parsed.values)
        if page_number := request.GET.get("page"):
            query = f"{query}&page={page_number}" if query else f"page={page_number}"
        return redirect(reverse("web:queue") + (f"?{query}" if query else ""))
    for problem in parsed.problems:
        messages.error(request, problem)
    chosen = parsed.values.get("collector", "")
    page = Paginator(
        selectors.queue(user, day, collector=chosen, filters=parsed.filters), QUEUE_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    for case in page.object_list:
        phones = list(case.borrower.phones.all())
        phone = next((p for p in phones if p.is_valid), phones[0] if phones else None)
        case.masked_phone = mask_phone(phone.number) if phone else ""
        case.status_label = label("case_status", case.status)
        case.stage_label = label("stage", case.stage)
    collectors = list(selectors.queue_collectors(user)) if supervisor else []
    query = queueview.normalised(parsed.values)
    return render(
        request,
        "web/queue.html",
        {
            "day": day,
            "page": page,
            "supervisor": supervisor,
            "collectors": collectors,
            "assignable": [c for c in collectors if c.available],
            "chosen": chosen,
            "query": query,
            "values": parsed.values,
            "buckets": queueview.bucket_names(),
            "stages": _choices("stage", list(LABELS["stage"])),
            "statuses": _choices("case_status", Case.Status.values),
            "promises": list(queueview.PROMISE_CHOICES.items()),
            "sorts": list(queueview.SORT_CHOICES.items()),
            "saved_views": queueview.saved_views(user),
            "filtered": any(k != "sort" for k in parsed.values),
        },
        status=400 if parsed.problems else 200,
    )


def _reassign(request: HttpRequest) -> None:
    """Hand one case to a collector of the supervisor's team, or back to the pool."""
    case_id = formfields.parse_id(request.POST.get("case", ""))
    if case_id is None:
        messages.error(request, _("Choose a case."))
        return
    case = get_object_or_404(
        selectors.visible_cases(request.user).filter(closed_on__isnull=True), pk=case_id
    )
    wanted = request.POST.get("collector", "")
    target: Collector | None = None
    if wanted:
        target = (
            selectors.queue_collectors(request.user).filter(pk=wanted_id).first()
            if (wanted_id := formfields.parse_id(wanted)) is not None
            else None
        )
        if target is None:
            messages.error(request, _("That collector is not in your team."))
            return
    try:
        services.reassign(case, target, by=request.user)
    except CollectionsError as error:
        messages.error(request, errorcodes.describe(error))
        return
    who = target.user.get_username() if target else _("the pool")
    messages.success(
        request, _("Case %(case)s reassigned to %(who)s.") % {"case": case.pk, "who": who}
    )


# --- the case ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """One case: header, loans, timeline, work, contacts, promises, holds, concessions, and the
    forms.

    A case the user may not open is a 404, exactly like one that does not exist. Every action
    posts back here: an accepted one redirects with a message; a refused one re-renders the page
    with status 400, the reason, and the typed input. A plan's *Preview* renders the figures
    with status 200 and saves nothing.

    The page, the services an action calls and every panel read one business date
    (:func:`one_business_date`): a request reads it once.
    """
    with one_business_date() as day:
        return _case_page(request, case_id, day)


def _case_page(request: HttpRequest, case_id: int, day: date) -> HttpResponse:
    case = get_object_or_404(
        selectors.visible_cases(request.user).select_related(
            "borrower", "collector__user", "strategy"
        ),
        pk=case_id,
    )
    phones = list(case.borrower.phones.order_by("id"))
    loans = selectors.with_latest_states(
        list(Loan.objects.filter(borrower_id=case.borrower_id).order_by("ref"))
    )
    work = _newest(case.work_items.order_by("-due_on", "-id"))
    tasks = _tasks(case, day, work)
    owing = concessions.most_owed(loans, _states_up_to(loans, day))
    loan_initial = {"loan": str(owing.pk)} if owing is not None else {}
    forms_by_action: dict[str, forms.Form] = {
        "contact": ContactForm(prefix="contact", phones=phones, tasks=tasks),
        "promise": PromiseForm(prefix="promise", currency=case.currency),
        "hold": HoldForm(prefix="hold", initial={"starts_on": day}),
        "waiver": concessions.WaiverForm(prefix="waiver", loans=loans, initial=dict(loan_initial)),
        "plan": concessions.PlanForm(prefix="plan", loans=loans, initial=dict(loan_initial)),
    }
    status = 200
    preview: dict[str, Any] | None = None
    # whether a service may have written: a refused form or an unknown action wrote nothing,
    # so the page lists what was read above instead of reading it all again
    acted = False
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in _BUTTONS:
            acted = True
            try:
                done = _press(action, request, case)
            except concessions.Refusal as error:
                messages.error(request, concessions.refusal(error))
            else:
                messages.success(request, done)
                return redirect("web:case", case_id=case.pk)
            status = 400
        elif action not in forms_by_action:
            messages.error(request, _("Unknown action."))
            status = 400
        else:
            bound = _bound(action, request, case, phones, tasks, loans)
            forms_by_action[action] = bound
            # A plan is only saved by its Propose button; anything else previews it.
            previewing = action == "plan" and request.POST.get("plan-submit") != "propose"
            if bound.is_valid():
                acted = True
                try:
                    if previewing:
                        assert isinstance(bound, concessions.PlanForm)
                        preview = concessions.preview_plan(bound, day)
                    else:
                        done = _apply(action, bound, case, request.user)
                except concessions.Refusal as error:
                    _refused(bound, error)
                else:
                    if not previewing:
                        messages.success(request, done)
                        if _partial(request, action):
                            return _activity(request, case, day, phones)
                        return redirect("web:case", case_id=case.pk)
            status = 200 if preview is not None else 400
            if status == 400 and _partial(request, action):
                return _refused_form(request, case, action, bound)
    if acted:
        # what the page lists is read again after an action, whatever it did
        context = _case_context(case, day, phones)
    else:
        context = _case_context(case, day, phones, loans=loans, work=work)
    if case.is_open:  # asked before anyone dials; a page view records nothing
        context["call"] = _calling_now(case, timezone.now(), phones)
    context.update(
        contact_form=forms_by_action["contact"],
        promise_form=forms_by_action["promise"],
        hold_form=forms_by_action["hold"],
        waiver_form=forms_by_action["waiver"],
        plan_form=forms_by_action["plan"],
        plan_preview=preview,
        plan_max=concessions.PLAN_MAX_INSTALMENTS,
        approver=selectors.is_approver(request.user),
        releasable_reasons=holds.releasable_reasons(request.user),
        panels=panels.render(case, request),
    )
    return render(request, "web/case.html", context, status=status)


def _newest(rows: QuerySet[Any]) -> tuple[list[Any], int]:
    """The first ``CASE_LIST_LIMIT`` of ``rows`` (newest first) and how many there are in all:
    counted only when the list is full — a shorter list is all of them."""
    shown = list(rows[:CASE_LIST_LIMIT])
    return shown, (rows.count() if len(shown) == CASE_LIST_LIMIT else len(shown))


def _tasks(case: Case, day: date, work: tuple[list[WorkItem], int]) -> list[WorkItem]:
    """The work a contact can complete: what is pending and due by ``day``, oldest first —
    picked from the case's work list when that holds all of it."""
    shown, count = work
    if len(shown) < count:
        return list(
            case.work_items.filter(status=WorkItem.Status.PENDING, due_on__lte=day).order_by(
                "due_on", "id"
            )
        )
    pending = [w for w in shown if w.status == WorkItem.Status.PENDING and w.due_on <= day]
    return sorted(pending, key=lambda w: (w.due_on, w.pk))


def _states_up_to(loans: list[Loan], day: date) -> dict[int, Any]:
    """Each loan's latest stored state up to ``day``: its ``latest`` when that is not after
    ``day`` (the usual case: the daily run does not run ahead of the workflow), else read."""
    if all(loan.latest is None or loan.latest.as_of <= day for loan in loans):
        return {loan.pk: loan.latest for loan in loans if loan.latest is not None}
    return selectors.latest_states(loans, up_to=day)


#: The actions an HTMX request may log without a reload: they only add rows to the timeline and
#: the contact and promise lists (and may change the case's status), which the fragment holds.
_PARTIAL_ACTIONS = ("contact", "promise")


def _partial(request: HttpRequest, action: str) -> bool:
    """Whether to answer with a fragment: an HTMX request for a contact or a promise. Any other
    request (no JavaScript, or another action) keeps the redirect or the full page."""
    return bool(getattr(request, "htmx", False)) and action in _PARTIAL_ACTIONS


def _activity(request: HttpRequest, case: Case, day: date, phones: list[Phone]) -> HttpResponse:
    """The fragment after an accepted contact or promise: the message, timeline, contacts and
    promises for ``#case-activity``, plus fresh contact and promise forms and the case's status
    swapped out of band (the forms' task list and the status may have changed)."""
    case.refresh_from_db()
    work = _newest(case.work_items.order_by("-due_on", "-id"))
    context = _case_context(case, day, phones, work=work)
    tasks = _tasks(case, day, work)
    context.update(
        fragment=True,
        contact_form=ContactForm(prefix="contact", phones=phones, tasks=tasks),
        promise_form=PromiseForm(prefix="promise", currency=case.currency),
    )
    return render(request, "web/_case_activity_swap.html", context)


def _refused_form(request: HttpRequest, case: Case, action: str, form: forms.Form) -> HttpResponse:
    """A refused contact or promise over HTMX: the form again, with its errors and the typed
    input, swapped in place of the form (status 400; the page's htmx config swaps a 400)."""
    context = {"case": case, f"{action}_form": form}
    response = render(request, f"web/_{action}_form.html", context, status=400)
    response["HX-Retarget"] = f"#{action}-form"
    response["HX-Reswap"] = "outerHTML"
    return response


def _calling_now(case: Case, now: datetime, phones: list[Phone]) -> dict[str, Any]:
    """The gate's answer for a call to the borrower now, in the reader's language: the outcome,
    when calling becomes allowed (a defer), the holds that stop it with their last day, and each
    rule that fired by its id and the pack's own summary in this language (the English page adds
    the gate's detailed message). ``phones`` are the borrower's (the page has read them)."""
    call = check_call(case.borrower, case.pk, now, phones=phones)
    chinese = (get_language() or "en").lower().startswith("zh")
    held = any(f.kind == "holds" for f in call.fired)
    return {
        "outcome": call.outcome,
        "next": timezone.localtime(call.next_allowed) if call.next_allowed else None,
        "holds": [
            {
                "reason": label("hold_reason", hold.reason),
                "until": last_day(hold),
            }
            for hold in (holds_in_force(case.borrower, now) if held else [])
        ],
        "rules": [
            {
                "id": f.rule_id,
                "summary": f.description_zh if chinese else f.description_en,
                "detail": "" if chinese else mask_text(f.message),
            }
            for f in call.fired
        ],
    }


#: Actions that are a button on a listed row (no form to fill in): release a hold, approve a
#: requested waiver or plan.
_BUTTONS = ("release", "approve")


def _press(action: str, request: HttpRequest, case: Case) -> str:
    """Do a row button's action on an item of this case's borrower; returns the message.

    An item of another borrower is a 404 whatever its id, like a case the user may not open.
    Approving here is open to anyone who works the case: the service decides whether the
    approver is within their limits (the maker never approves their own request); releasing a
    hold, whether the user's role may release a hold of that reason.
    """
    if action == "release":
        key = request.POST.get("hold", "")
        hold = get_object_or_404(
            Hold.objects.filter(borrower_id=case.borrower_id, released_on__isnull=True),
            pk=formfields.parse_id(key) or 0,
        )
        services.release_hold(hold, user=request.user)
        return _("Hold released; collection resumes.")
    item = concessions.find_item(
        request.POST.get("kind", ""),
        request.POST.get("item", ""),
        Waiver.objects.filter(loan__borrower_id=case.borrower_id).select_related("loan"),
        RepaymentPlan.objects.filter(loan__borrower_id=case.borrower_id).select_related("loan"),
    )
    return concessions.approve(item, request.user)


def _bound(
    action: str,
    request: HttpRequest,
    case: Case,
    phones: list[Phone],
    tasks: list[WorkItem],
    loans: list[Loan],
) -> forms.Form:
    if action == "contact":
        return ContactForm(request.POST, prefix=action, phones=phones, tasks=tasks)
    if action == "promise":
        return PromiseForm(request.POST, prefix=action, currency=case.currency)
    if action == "waiver":
        return concessions.WaiverForm(request.POST, prefix=action, loans=loans)
    if action == "plan":
        return concessions.PlanForm(request.POST, prefix=action, loans=loans)
    return HoldForm(request.POST, prefix=action)


def _apply(action: str, form: forms.Form, case: Case, user: Any) -> str:
    """Call the service for ``action``; returns the success message."""
    data = form.cleaned_data
    if action == "waiver":
        assert isinstance(form, concessions.WaiverForm)
        return concessions.request_waiver(form, user)
    if action == "plan":
        assert isinstance(form, concessions.PlanForm)
        return concessions.propose_plan(form, user)
    if action == "contact":
        # No ``at``: the contact happens now, and the service stamps it with the clock (and
        # asks the gate about it at that time).
        contact = services.log_contact(
            case,
            channel=data["channel"],
            direction=data["direction"],
            party=data["party"],
            outcome=data["outcome"],
            collector=user,
            phone=data["phone"],
            note=data["note"],
            work_item=data["work_item"],
            callback_on=data["callback_on"],
            callback_from=data["callback_from"],
            callback_until=data["callback_until"],
            visitors=data["visitors"],
            override_reason=data["override_reason"],
        )
        if contact.overridden:
            return _("Contact logged against the compliance gate; the override is reported.")
        return _("Contact logged.")
    if action == "promise":
        amount: Money | None = data["amount"]
        tolerance: Money | None = data["tolerance"]
        if amount is None:
            raise errorcodes.refuse(CollectionsError, "promise-amount", field="amount")
        services.make_promise(
            case,
            amount_minor=amount.minor,
            due_date=data["due_date"],
            tolerance_minor=tolerance.minor if tolerance else 0,
            user=user,
        )
        return _("Promise recorded.")
    services.place_hold(
        case.borrower_id,
        reason=data["reason"],
        starts_on=data["starts_on"],
        ends_on=data["ends_on"],
        channels=list(data["channels"]) or None,
        note=data["note"],
        user=user,
    )
    return _("Hold placed.")


def _username(user: Any) -> str:
    return str(user.get_username()) if user is not None else ""


def _case_context(
    case: Case,
    day: date,
    phones: list[Phone],
    *,
    loans: list[Loan] | None = None,
    work: tuple[list[WorkItem], int] | None = None,
) -> dict[str, Any]:
    """Everything the case page shows, as plain rows with labels already in the reader's
    language and free text already masked. ``loans`` (with their latest states) and ``work``
    (:func:`_newest` of the work items) when the caller has just read them."""
    borrower = case.borrower
    events, event_count = _newest(case.events.select_related("actor").order_by("-on", "-id"))
    work_items, work_count = work or _newest(case.work_items.order_by("-due_on", "-id"))
    contacts, contact_count = _newest(
        case.contacts.select_related("phone", "collector").order_by("-at", "-id")
    )
    holds = (
        Hold.objects.filter(borrower_id=case.borrower_id)
        .select_related("loan")
        .order_by("-starts_on", "-id")
    )

    def value(kind: str, text: str) -> str:
        return label(_EVENT_VALUES[kind], text) if kind in _EVENT_VALUES else text

    # who may approve each waiting request: the borrower's candidates and the limits once
    reads = service_concessions.ApproverReads()

    return {
        "case": case,
        "day": day,
        "borrower_name": borrower.name,
        "masked_id": mask_national_id(borrower.national_id),
        "masked_phones": [_phone_label(phone) for phone in phones],
        "status_label": label("case_status", case.status),
        "stage_label": label("stage", case.stage),
        "collector_name": _username(case.collector.user) if case.collector else "",
        "loans": loans if loans is not None else selectors.borrower_loans(case.borrower_id),
        "limit": CASE_LIST_LIMIT,
        "event_count": event_count,
        "events": [
            {
                "on": event.on,
                "kind": label("event_kind", event.kind),
                "from": value(event.kind, event.from_value),
                "to": value(event.kind, event.to_value),
                "cause": mask_text(event.cause),
                "strategy": event.strategy,
                "actor": _username(event.actor),
            }
            for event in events
        ],
        "work_count": work_count,
        "work": [
            {
                "due_on": item.due_on,
                "channel": label("channel", item.channel),
                "template": item.template,
                "status": label("work_status", item.status),
                "pending": item.status == WorkItem.Status.PENDING,
                "status_reason": mask_text(item.status_reason),
                "reason": mask_text(item.reason),
            }
            for item in work_items
        ],
        "contact_count": contact_count,
        "contacts": [
            {
                "at": contact.at,
                "channel": label("channel", contact.channel),
                "direction": label("direction", contact.direction),
                "party": label("party", contact.party),
                "phone": mask_phone(contact.phone.number) if contact.phone else "",
                "outcome": label("outcome", contact.outcome),
                "note": mask_text(contact.note),
                "collector": _username(contact.collector),
                "gate": label("gate_outcome", contact.gate_outcome),
                "overridden": contact.overridden,
                "override_reason": mask_text(contact.override_reason),
                "consent_starts": contact.consent_starts,
                "consent_ends": contact.consent_ends,
                "visitors": ", ".join(contact.visitors),
            }
            for contact in contacts
        ],
        "promises": [
            {
                "made_on": promise.made_on,
                "amount_minor": promise.amount_minor,
                "due_date": promise.due_date,
                "tolerance_minor": promise.tolerance_minor,
                "paid_minor": promise.paid_minor,
                "status": label("promise_status", promise.status),
                "resolved_on": promise.resolved_on,
            }
            for promise in case.promises.order_by("-made_on", "-id")[:CASE_LIST_LIMIT]
        ],
        "holds": [
            {
                "reason": label("hold_reason", hold.reason),
                "channels": ", ".join(label("channel", c) for c in hold.channels),
                "starts_on": hold.starts_on,
                "ends_on": hold.ends_on,
                "released_on": hold.released_on,
                "active": hold.active_on(day),
                # in force or still to come: releasing ends it (from its start, if later)
                "releasable": hold.released_on is None and hold.ends_on >= day,
                "reason_code": hold.reason,  # who may release it depends on it
                "pk": hold.pk,
                "loan": hold.loan.ref if hold.loan else "",
                "note": mask_text(hold.note),
            }
            for hold in holds[:CASE_LIST_LIMIT]
        ],
        # concessions of every loan of the borrower, newest first
        "waivers": [
            concessions.waiver_row(waiver, reads)
            for waiver in Waiver.objects.filter(loan__borrower_id=case.borrower_id)
            .select_related("loan", "requested_by")
            .order_by("-created_at", "-id")[:CASE_LIST_LIMIT]
        ],
        "plans": [
            concessions.plan_row(plan, reads)
            for plan in RepaymentPlan.objects.filter(loan__borrower_id=case.borrower_id)
            .select_related("loan", "proposed_by")
            .prefetch_related(
                Prefetch("instalments", queryset=PlanInstalment.objects.order_by("seq"))
            )
            .order_by("-created_at", "-id")[:CASE_LIST_LIMIT]
        ],
    }
