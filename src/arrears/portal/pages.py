"""The portal's other pages: verify a caller, my contact preferences, history, complaints and
notices. Thin views over ``callers``, ``records`` and the services of other apps
(``contact.services.set_preferences``, ``complaints.services.file_complaint``); the JSON twin
(``api_pages``) parses with the same functions here and calls the same services.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from arrears import errorcodes, formfields
from arrears.collections.workflow import business_date
from arrears.complaints import services as complaints
from arrears.complaints.models import DESCRIPTION_MAX, Complaint
from arrears.contact import services as contact
from arrears.contact.gate import pack_hours
from arrears.contact.models import ContactPreference
from arrears.kernel.errors import ArrearsError
from arrears.ledger.models import Borrower
from arrears.portal import callers, records, selectors
from arrears.portal.session import borrower_required
from arrears.portal.views import PortalInputError

errorcodes.define(
    {
        "portal-time": "%(value)s is not a time (HH:MM)",
        "portal-keep-one-channel": "keep text messages or phone calls so we can reach you",
        "portal-too-many-checks": "too many checks in a short time; try again in a few minutes",
        "portal-contact": "choose one of the contacts in the list",
        "portal-category": "choose what the complaint is about",
    }
)

#: Channels a borrower may refuse in the portal. Letters and visits are formal steps the
#: lender decides (their remedy is a complaint); a refusal recorded by staff for any other
#: channel is kept as it is.
PORTAL_OPT_OUTS = ("sms", "voice", "email", "in_app")
#: Refusing both of these would leave no way to reach the borrower at all.
KEEP_ONE_OF = frozenset({"sms", "voice"})
#: Complaint categories that dispute the debt itself (异议) rather than how it is collected.
DISPUTE_CATEGORIES = frozenset({"not_my_debt", "wrong_amount"})
#: A second identical complaint within this time is the first one again (a double submit).
DUPLICATE_WINDOW = timedelta(minutes=10)
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def repayment_channels() -> str:
    return callers.in_language(dict(getattr(settings, "ARREARS_REPAYMENT_CHANNELS", {})), chinese())


def _borrower(request: HttpRequest) -> Borrower:
    return request.borrower  # type: ignore[attr-defined,no-any-return]


# --------------------------------------------------------------------------------- verify


def verify_answers(borrower: Borrower, number: str, code: str) -> dict[str, Any]:
    """The answers for a typed number and/or code (throttled per borrower: one lookup each)."""
    found: dict[str, Any] = {}
    for name, typed in (("number", number), ("code", code)):
        if not typed.strip():
            continue
        if callers.throttled(borrower):
            raise errorcodes.refuse(PortalInputError, "portal-too-many-checks", field=name)
        if name == "number":
            found[name] = callers.check_number(borrower, typed, selectors.today())
        else:
            found[name] = callers.check_code(borrower, typed, timezone.now())
    return found


@borrower_required
def verify(request: HttpRequest) -> HttpResponse:
    """Is this caller, visitor, letter or message really from us?"""
    borrower = _borrower(request)
    number = str(request.GET.get("number", ""))[:40]
    code = str(request.GET.get("code", ""))[:64]
    error, error_field, answers, status = "", "", {}, 200
    try:
        answers = verify_answers(borrower, number, code)
    except ArrearsError as refused:
        error, error_field, status = errorcodes.describe(refused), refused.field or "", 429
    zh = chinese()
    report = (
        reverse("portal:complaint-new")
        + "?"
        + urlencode(
            {
                "category": Complaint.Category.FAKE_COLLECTOR,
                **({"number": number} if number else {}),
            }
        )
    )
    context = {
        "number": number,
        "code": code,
        "caller": answers["number"].as_dict(zh) if "number" in answers else None,
        "document": answers.get("code"),
        "error": error,
        "error_field": error_field,
        "report_url": report,
        "pay_with": repayment_channels(),
        "official": [
            {"number": e.get("number", ""), "label": callers.in_language(e, zh)}
            for e in callers.official_numbers()
        ],
        "agencies": [
            {
                "name": callers.agency_name(p.agency, zh),
                "phone": p.agency.phone,
                "until": p.ends_on,
            }
            for p in callers.live_placements(borrower, selectors.today())
        ],
        "zh": zh,
    }
    return render(request, "portal/verify.html", context, status=status)


# ---------------------------------------------------------------------------- preferences


@dataclass(frozen=True)
class PreferenceForm:
    """What the preferences form (or the API) asks for, parsed."""

    preferred_channel: str
    preferred_from: time | None
    preferred_until: time | None
    opt_outs: tuple[str, ...]
    not_at_work: bool
    no_emergency_contacts: bool


def parse_time(text: str, field: str) -> time | None:
    cleaned = text.strip()[:8]
    if not cleaned:
        return None
    match = _TIME.match(cleaned)
    if match is None:
        raise errorcodes.refuse(PortalInputError, "portal-time", field=field, value=cleaned)
    return time(int(match.group(1)), int(match.group(2)))


def parse_preferences(data: Any) -> PreferenceForm:
    """The form's fields (a QueryDict or a plain mapping of lists), strictly."""
    chosen = tuple(c for c in PORTAL_OPT_OUTS if c in data.getlist("opt_outs"))
    if set(chosen) >= KEEP_ONE_OF:
        raise errorcodes.refuse(PortalInputError, "portal-keep-one-channel", field="opt_outs")
    return PreferenceForm(
        preferred_channel=str(data.get("preferred_channel", "")).strip()[:20],
        preferred_from=parse_time(str(data.get("preferred_from", "")), "preferred_from"),
        preferred_until=parse_time(str(data.get("preferred_until", "")), "preferred_until"),
        opt_outs=chosen,
        not_at_work=str(data.get("not_at_work", "")) in ("1", "on", "true"),
        no_emergency_contacts=str(data.get("no_emergency_contacts", "")) in ("1", "on", "true"),
    )


def save_preferences(borrower: Borrower, form: PreferenceForm) -> ContactPreference:
    """Through ``contact.services.set_preferences`` (history kept, source ``portal``); refusals
    of channels the portal does not offer (recorded by staff) are kept."""
    current = ContactPreference.objects.filter(borrower=borrower).first()
    kept = [c for c in (current.opt_outs if current else []) if c not in PORTAL_OPT_OUTS]
    return contact.set_preferences(
        borrower,
        opt_outs=sorted({*kept, *form.opt_outs}),
        not_at_work=form.not_at_work,
        preferred_channel=form.preferred_channel,
        preferred_hours=(form.preferred_from, form.preferred_until),
        no_emergency_contacts=form.no_emergency_contacts,
        source="portal",
    )


def preferences_dict(preference: ContactPreference | None) -> dict[str, Any]:
    def clock(t: time | None) -> str:
        return t.strftime("%H:%M") if t is not None else ""

    return {
        "preferred_channel": preference.preferred_channel if preference else "",
        "preferred_from": clock(preference.preferred_from if preference else None),
        "preferred_until": clock(preference.preferred_until if preference else None),
        "opt_outs": list(preference.opt_outs) if preference else [],
        "not_at_work": bool(preference and preference.not_at_work),
        "no_emergency_contacts": bool(preference and preference.no_emergency_contacts),
        "updated_at": preference.updated_at.isoformat() if preference else None,
    }


def preference_label(channel: str) -> str:
    """A channel as a preference names it: ``voice`` is every phone call (the gate's voice
    channel carries a collector's calls and robocalls alike)."""
    if channel == "voice":
        return pgettext("portal channel", "Phone calls (people and recorded)")
    return records.channel_label(channel)


@borrower_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """How and when we may contact me; whether my emergency contacts may be called."""
    borrower = _borrower(request)
    error, error_field = "", ""
    if request.method == "POST":
        try:
            save_preferences(borrower, parse_preferences(request.POST))
        except ArrearsError as refused:
            error, error_field = errorcodes.describe(refused), refused.field or ""
        else:
            return redirect(reverse("portal:preferences") + "?saved=1")
    preference = ContactPreference.objects.filter(borrower=borrower).first()
    values = preferences_dict(preference)
    if request.method == "POST":  # show what was typed, not what is stored
        values.update(
            preferred_channel=str(request.POST.get("preferred_channel", ""))[:20],
            preferred_from=str(request.POST.get("preferred_from", ""))[:8],
            preferred_until=str(request.POST.get("preferred_until", ""))[:8],
            opt_outs=request.POST.getlist("opt_outs"),
            not_at_work=bool(request.POST.get("not_at_work")),
            no_emergency_contacts=bool(request.POST.get("no_emergency_contacts")),
        )
    first, last = pack_hours()
    context = {
        "values": values,
        "channels": [(c, preference_label(c)) for c in contact.PREFERRED_CHANNELS],
        "opt_out_channels": [(c, preference_label(c)) for c in PORTAL_OPT_OUTS],
        "first": first.strftime("%H:%M"),
        "last": last.strftime("%H:%M") if last is not None else "24:00",
        "zone": borrower.time_zone or settings.TIME_ZONE,
        "saved": request.GET.get("saved") == "1" and not error,
        "error": error,
        "error_field": error_field,
        "cease": bool(preference and preference.cease),
    }
    return render(request, "portal/preferences.html", context, status=400 if error else 200)


# -------------------------------------------------------------------------------- history


@borrower_required
def history(request: HttpRequest) -> HttpResponse:
    """Every contact by the lender and its agencies, newest first."""
    page = records.history(
        _borrower(request), records.page_number(str(request.GET.get("page", ""))), chinese()
    )
    return render(request, "portal/history.html", {"page": page})


# ----------------------------------------------------------------------------- complaints


def complaint_kind(category: str) -> str:
    return "dispute" if category in DISPUTE_CATEGORIES else "complaint"


def file_for(
    borrower: Borrower, category: str, description: str, contact_id: str = ""
) -> Complaint:
    """File a complaint from the portal (channel ``portal``). A named contact must be one of
    the borrower's (404 otherwise); a complaint about an agency's contact names the agency,
    which recalls its placement. The same text filed twice within ``DUPLICATE_WINDOW`` (a
    double submit) is the first complaint again."""
    if category not in Complaint.Category.values:
        raise errorcodes.refuse(PortalInputError, "portal-category", field="category")
    contact_row = None
    if contact_id:
        contact_key = formfields.parse_id(contact_id)
        if contact_key is None:
            raise errorcodes.refuse(PortalInputError, "portal-contact", field="contact")
        contact_row = records.contact_of(borrower, contact_key)
    now = timezone.now()
    text = description.strip()
    if formfields.has_control(text.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise errorcodes.refuse(
            PortalInputError, "complaint-description-control", field="description"
        )
    same = records.complaints_of(borrower).filter(
        category=category, description=text, received_at__gte=now - DUPLICATE_WINDOW
    )
    earlier: Complaint | None = same.order_by("-received_at").first() if text else None
    if earlier is not None:
        return earlier
    return complaints.file_complaint(
        borrower=borrower,
        kind=complaint_kind(category),
        category=category,
        description=description,
        channel="portal",
        received_at=now,
        contacts=[contact_row] if contact_row is not None else (),
        agency=contact_row.agency if contact_row is not None else None,
    )


def complaint_dict(complaint: Complaint) -> dict[str, Any]:
    hold = complaint.hold
    paused_until = None
    if complaint.is_open and hold is not None and hold.released_on is None:
        paused_until = hold.ends_on.isoformat()
    return {
        "reference": complaint.reference,
        "kind": complaint.kind,
        "category": complaint.category,
        "status": complaint.status,
        "description": complaint.description,
        "received_at": complaint.received_at.isoformat(),
        "acknowledge_by": complaint.acknowledge_by.isoformat(),
        "resolve_by": complaint.resolve_by.isoformat(),
        "collection_paused_until": paused_until,
        "resolution": complaint.resolution if not complaint.is_open else "",
        "upheld": complaint.upheld if not complaint.is_open else None,
    }


@borrower_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    found = records.complaints_of(_borrower(request))
    return render(request, "portal/complaints.html", {"complaints": found})


@borrower_required
def complaint_detail(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = records.complaint_of(_borrower(request), reference)
    context = {
        "complaint": complaint,
        "data": complaint_dict(complaint),
        "filed": request.GET.get("filed") == "1",
        "today": business_date(),
    }
    return render(request, "portal/complaint.html", context)


@borrower_required
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    """Complain or dispute: a category, what happened, optionally the contact it is about."""
    borrower = _borrower(request)
    source = request.POST if request.method == "POST" else request.GET
    category = str(source.get("category", ""))[:30]
    contact_id = str(source.get("contact", ""))[:12]
    description = str(source.get("description", ""))[: 2 * DESCRIPTION_MAX]
    if request.method == "GET" and (contact_key := formfields.parse_id(contact_id)) is not None:
        records.contact_of(borrower, contact_key)  # someone else's: 404 before any form
    number = str(request.GET.get("number", ""))[:40].strip()
    if request.method == "GET" and number and not description:
        description = _("A caller from %(number)s said they were collecting for you.") % {
            "number": number
        }
    error, error_field = "", ""
    if request.method == "POST":
        try:
            filed = file_for(borrower, category, description, contact_id)
        except ArrearsError as refused:
            error, error_field = errorcodes.describe(refused), refused.field or ""
        else:
            url = reverse("portal:complaint", args=[filed.reference])
            return redirect(url + "?filed=1")
    context = {
        "categories": Complaint.Category.choices,
        "category": category,
        "description": description,
        "contact": contact_id,
        "contacts": records.recent_contacts(borrower, chinese()),
        "error": error,
        "error_field": error_field,
        "general_error": error if error_field not in ("category", "description", "contact") else "",
        "most": DESCRIPTION_MAX,
    }
    return render(request, "portal/complaint_new.html", context, status=400 if error else 200)


# -------------------------------------------------------------------------------- notices


def notices_data(borrower: Borrower, zh: bool) -> dict[str, Any]:
    today = selectors.today()
    return {
        "placements": [
            {
                "agency": callers.agency_name(p.agency, zh),
                "phone": p.agency.phone,
                "since": p.placed_on,
                "until": p.recalled_on or p.ends_on,
                "live": p.recalled_on is None and p.placed_on <= today,
            }
            for p in records.placements_of(borrower)
        ],
        "credit_reporting": records.credit_reporting_notice(zh),
        "messages": [
            {"at": m.when, "subject": m.subject, "body": m.body}
            for m in records.in_app_messages(borrower)[:50]
        ],
    }


@borrower_required
def notices(request: HttpRequest) -> HttpResponse:
    """Placements with agencies, the credit-reporting statement, in-app messages."""
    return render(request, "portal/notices.html", notices_data(_borrower(request), chinese()))
