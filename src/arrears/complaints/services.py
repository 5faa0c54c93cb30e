"""Filing, acknowledging and resolving complaints and disputes — each one transaction.

Filing starts an SLA clock on the lender's business calendar, puts an automatic hold on the
borrower's collection until the resolve-by date (a complaint is never collected through),
recalls a live placement with the agency complained about, queues an acknowledgement SMS through
the outbox and writes a case event. Resolving releases that hold (a supervisor or compliance
only, never a collector the complaint is about) and queues the resolution SMS.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from arrears import errorcodes
from arrears.calendars import by_name
from arrears.collections import events
from arrears.collections import services as collections
from arrears.collections.models import Case, CaseEvent, ContactAttempt, Hold
from arrears.collections.workflow import business_date
from arrears.complaints import messages
from arrears.complaints.models import DESCRIPTION_MAX, RESOLUTION_MAX, Complaint
from arrears.kernel.errors import ArrearsError
from arrears.kernel.limits import has_control

errorcodes.define(
    {
        "complaint-unknown-kind": "%(value)s is not a kind of complaint (allowed: %(allowed)s)",
        "complaint-unknown-category": (
            "%(value)s is not a complaint category (allowed: %(allowed)s)"
        ),
        "complaint-unknown-channel": (
            "%(value)s is not a complaint channel (allowed: %(allowed)s)"
        ),
        "complaint-description-required": "a complaint needs a description",
        "complaint-description-too-long": "the description may be at most %(most)s characters",
        "complaint-description-control": (
            "remove the control characters (NUL, escape…) from the description"
        ),
        "complaint-wrong-case": "case #%(case)s is not the borrower's",
        "complaint-already-resolved": "complaint %(ref)s was already resolved",
        "complaint-unknown-root-cause": (
            "%(value)s is not a root-cause code (allowed: %(allowed)s)"
        ),
        "complaint-resolution-required": "a resolution needs a text saying what was done",
        "complaint-resolution-too-long": "the resolution may be at most %(most)s characters",
        "complaint-not-allowed": "%(user)s may not handle complaint %(ref)s",
        "complaint-about-you": "%(user)s may not handle complaint %(ref)s: it is about them",
    }
)

#: The SLA when ``ARREARS_COMPLAINT_SLA`` does not say: acknowledge in 1 business day,
#: resolve in 15.
DEFAULT_SLA = {"acknowledge_days": 1, "resolve_days": 15}
#: Categories that stop every channel: the contact itself is the harm (or the debt is denied).
STOP_ALL = frozenset(
    {
        Complaint.Category.HARASSMENT,
        Complaint.Category.FAKE_COLLECTOR,
        Complaint.Category.CONTACT_TIME,
        Complaint.Category.THIRD_PARTY_CONTACT,
        Complaint.Category.NOT_MY_DEBT,
    }
)
#: Other complaints stop the people (calls and visits); statements and notices may continue.
PEOPLE_CHANNELS = ["call_task", "visit_request", "voice"]
#: Contacts this recent are linked to a complaint when the filer names none.
LINK_DAYS = 30
#: How often a filing retries when another took its reference number meanwhile.
REFERENCE_TRIES = 5


class ComplaintError(ArrearsError):
    """A complaint operation refused (bad input or not allowed)."""


def sla() -> dict[str, int]:
    found = dict(DEFAULT_SLA)
    found.update(getattr(settings, "ARREARS_COMPLAINT_SLA", {}) or {})
    return {k: int(v) for k, v in found.items()}


def clock(day: date) -> tuple[date, date]:
    """(acknowledge_by, resolve_by) for a complaint received on ``day``, in business days of
    the lender's calendar (``ARREARS_COMPLAINT_CALENDAR``, default ``cn``); ``day`` itself is
    not counted, so a complaint on a Friday is acknowledged by Monday."""
    rules = sla()
    calendar = by_name(
        getattr(settings, "ARREARS_COMPLAINT_CALENDAR", "cn"), range(day.year, day.year + 2)
    )
    return (
        calendar.add_business_days(day, rules["acknowledge_days"]),
        calendar.add_business_days(day, rules["resolve_days"]),
    )


def _choice(value: str, choices: Any, code: str, field: str) -> None:
    if value not in choices.values:
        raise errorcodes.refuse(
            ComplaintError,
            code,
            field=field,
            value=repr(value)[:60],
            allowed=", ".join(choices.values),
        )


def _next_reference(day: date) -> str:
    prefix = f"CP-{day:%Y%m%d}-"
    last = (
        Complaint.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def _create(day: date, **fields: Any) -> Complaint:
    """Insert with the day's next reference; two filings racing for the same number: the loser
    takes the next one (the unique constraint decides, in a savepoint)."""
    for _ in range(REFERENCE_TRIES - 1):
        try:
            with transaction.atomic():
                return Complaint.objects.create(reference=_next_reference(day), **fields)
        except IntegrityError:
            continue
    return Complaint.objects.create(reference=_next_reference(day), **fields)


def _event(case: Case | None, to: str, cause: str, actor: Any, day: date) -> None:
    """The complaint's step on its case: a person's action, so no key (the audit chain records
    keyless events one by one and counts keyed ones, the automation's, per day)."""
    if case is None:
        return
    events.record(case, CaseEvent.Kind.COMPLAINT, "complaint", to, cause[:2000], actor, day)


def file_complaint(
    *,
    borrower: Any,
    kind: str,
    category: str,
    description: str,
    channel: str,
    received_at: datetime | None = None,
    by: Any = None,
    case: Case | None = None,
    contacts: Iterable[ContactAttempt] = (),
    agency: Any = None,
    about_people: bool = True,
) -> Complaint:
    """Record a complaint or dispute and stop collection until it is resolved.

    Refuses unknown codes and descriptions that are empty or over ``DESCRIPTION_MAX``
    characters. ``case`` defaults to the borrower's open case. The contacts named (else the
    case's contacts of the last ``LINK_DAYS`` days) give the collectors and agencies involved —
    unless ``about_people`` is False: a dispute a collector took down on a call is about the
    debt, not about the collector who logged it, and must not count on their scorecard.
    """
    _choice(kind, Complaint.Kind, "complaint-unknown-kind", "kind")
    _choice(category, Complaint.Category, "complaint-unknown-category", "category")
    _choice(channel, Complaint.Channel, "complaint-unknown-channel", "channel")
    text = (description or "").strip()
    if not text:
        raise errorcodes.refuse(
            ComplaintError, "complaint-description-required", field="description"
        )
    if len(text) > DESCRIPTION_MAX:
        raise errorcodes.refuse(
            ComplaintError,
            "complaint-description-too-long",
            field="description",
            most=DESCRIPTION_MAX,
        )
    if has_control(text.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise errorcodes.refuse(
            ComplaintError, "complaint-description-control", field="description"
        )
    at = received_at or timezone.now()
    day = timezone.localdate(at)
    if case is None:
        case = Case.objects.filter(borrower=borrower, closed_on__isnull=True).first()
    elif case.borrower_id != borrower.pk:
        raise errorcodes.refuse(ComplaintError, "complaint-wrong-case", field="case", case=case.pk)
    acknowledge_by, resolve_by = clock(day)
    today = business_date()
    starts = max(day, today - timedelta(days=collections.HOLD_BACKDATE_DAYS))
    ends = min(max(resolve_by, starts), starts + timedelta(days=collections.HOLD_MAX_DAYS))
    chosen = list(contacts)
    if not chosen and case is not None:
        chosen = list(
            ContactAttempt.objects.filter(case=case, at__gte=at - timedelta(days=LINK_DAYS))
        )
    with transaction.atomic():
        complaint = _create(
            day,
            borrower=borrower,
            case=case,
            kind=kind,
            category=category,
            channel=channel,
            description=text,
            received_at=at,
            acknowledge_by=acknowledge_by,
            resolve_by=resolve_by,
            filed_by=by,
        )
        stop_all = kind == Complaint.Kind.DISPUTE or category in STOP_ALL
        complaint.hold = collections.place_hold(
            borrower.pk,
            reason=Hold.Reason.DISPUTE if kind == Complaint.Kind.DISPUTE else Hold.Reason.COMPLAINT,
            starts_on=starts,
            ends_on=ends,
            channels=None if stop_all else PEOPLE_CHANNELS,
            note=f"automatic: {complaint.reference} ({category})",
            user=by,
            today=today,
            reevaluate_now=False,
        )
        complaint.save(update_fields=["hold"])
        complaint.contacts.set(chosen)
        people = chosen if about_people else []
        complaint.collectors.set({c.collector_id for c in people if c.collector_id})
        agencies = {c.agency_id for c in people if c.agency_id}
        if agency is not None:
            agencies.add(agency.pk)
        complaint.agencies.set(agencies)
        if agency is not None:
            _recall(complaint, agency, today)
        messages.queue(complaint, "ack", today)
        _event(
            case,
            "received",
            f"{kind} {complaint.reference} ({category}) by {channel}; resolve by {resolve_by}",
            by,
            today,
        )
    collections.reevaluate(borrower.pk, today)
    return complaint


def _recall(complaint: Complaint, agency: Any, day: date) -> None:
    """Recall the borrower's live placements with ``agency`` (a system recall, no supervisor:
    the complaint itself is the reason; the day step would do the same on the next run)."""
    from arrears.agencies import placement as placements
    from arrears.agencies.models import Placement

    live = (
        Placement.objects.select_for_update()
        .filter(case__borrower=complaint.borrower, agency=agency, recalled_on__isnull=True)
        .select_related("case__borrower", "agency")
    )
    for found in live:
        placements.recall_now(
            found, day, Placement.RecallReason.COMPLAINT, f"complaint {complaint.reference}"
        )


def may_handle(user: Any) -> bool:
    """Compliance, team leads, managers and superusers handle complaints."""
    from arrears.collections.models import Collector

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return Collector.supervises(user) or user.has_perm("complaints.view_complaint")


def _check_handler(complaint: Complaint, user: Any) -> None:
    if not may_handle(user):
        raise errorcodes.refuse(
            ComplaintError,
            "complaint-not-allowed",
            user=getattr(user, "username", "nobody"),
            ref=complaint.reference,
        )
    if complaint.collectors.filter(pk=user.pk).exists():
        raise errorcodes.refuse(
            ComplaintError, "complaint-about-you", user=user.username, ref=complaint.reference
        )


def acknowledge(complaint: Complaint, by: Any) -> Complaint:
    """Mark the complaint acknowledged (idempotent: a second acknowledgement changes nothing)."""
    _check_handler(complaint, by)
    if complaint.status != Complaint.Status.RECEIVED:
        return complaint
    with transaction.atomic():
        complaint.status = Complaint.Status.ACKNOWLEDGED
        complaint.acknowledged_at, complaint.acknowledged_by = timezone.now(), by
        complaint.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        _event(
            complaint.case,
            "acknowledged",
            f"{complaint.reference} acknowledged",
            by,
            business_date(),
        )
    return complaint


def resolve(
    complaint: Complaint, *, by: Any, root_cause: str, resolution: str, upheld: bool
) -> Complaint:
    """Close the complaint with its root cause, release its hold, queue the resolution SMS."""
    _check_handler(complaint, by)
    _choice(root_cause, Complaint.RootCause, "complaint-unknown-root-cause", "root_cause")
    text = (resolution or "").strip()
    if not text:
        raise errorcodes.refuse(ComplaintError, "complaint-resolution-required", field="resolution")
    if len(text) > RESOLUTION_MAX:
        raise errorcodes.refuse(
            ComplaintError, "complaint-resolution-too-long", field="resolution", most=RESOLUTION_MAX
        )
    today = business_date()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.status == Complaint.Status.RESOLVED:
            raise errorcodes.refuse(
                ComplaintError, "complaint-already-resolved", ref=locked.reference
            )
        locked.status = Complaint.Status.RESOLVED
        locked.root_cause, locked.resolution, locked.upheld = root_cause, text, bool(upheld)
        locked.resolved_at, locked.resolved_by = timezone.now(), by
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by = locked.resolved_at, by
        locked.save()
        hold = locked.hold
        if hold is not None and hold.released_on is None and hold.ends_on >= today:
            collections.release_hold(hold, user=by, today=today)
        messages.queue(locked, "resolution", today)
        _event(
            locked.case,
            "resolved",
            f"{locked.reference} resolved ({root_cause}, {'upheld' if upheld else 'not upheld'})",
            by,
            today,
        )
    return locked


def overdue(as_of: date) -> QuerySet[Complaint]:
    """Open complaints past a clock on ``as_of``: not acknowledged by ``acknowledge_by`` or not
    resolved by ``resolve_by``."""
    return Complaint.objects.exclude(status=Complaint.Status.RESOLVED).filter(
        Q(status=Complaint.Status.RECEIVED, acknowledge_by__lt=as_of) | Q(resolve_by__lt=as_of)
    )
