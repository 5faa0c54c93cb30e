"""Collector actions on a case: log a contact, take a promise, place or release a hold.

Each is one transaction that records an event with its cause and then re-evaluates the
borrower, so the case's status and pending work reflect the change at once. Bad input is
refused with ``CollectionsError`` naming the field; nothing is half-applied.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from arrears.collections.models import (
    Case,
    CaseEvent,
    Collector,
    ContactAttempt,
    Hold,
    Promise,
    WorkItem,
)
from arrears.collections.workflow import business_date, money_text, reevaluate
from arrears.kernel.errors import ArrearsError
from arrears.ledger.models import Phone

#: How far back a hold may be dated (a complaint received by post on Friday, keyed on Monday).
HOLD_BACKDATE_DAYS = 7
#: The longest hold without renewal; every hold must end (auto-expiry).
HOLD_MAX_DAYS = 180
#: A dispute or hardship raised on a call holds collection while it is looked into.
OUTCOME_HOLDS = {
    ContactAttempt.Outcome.DISPUTE: (Hold.Reason.DISPUTE, 30),
}


class CollectionsError(ArrearsError):
    """A collector action was refused; the message names the field and the reason."""

    code = "collections-invalid"


def _event(case: Case, kind: str, frm: str, to: str, cause: str, actor: Any, on: date) -> None:
    CaseEvent.objects.create(
        case=case, on=on, kind=kind, from_value=frm, to_value=to, cause=cause, actor=actor
    )


def log_contact(
    case: Case,
    *,
    channel: str,
    direction: str,
    party: str,
    outcome: str,
    collector: Any = None,
    phone: Phone | None = None,
    note: str = "",
    recording_ref: str = "",
    at: datetime | None = None,
    work_item: WorkItem | None = None,
    callback_on: date | None = None,
) -> ContactAttempt:
    """Record a contact attempt (催记) and let its outcome drive the case.

    A wrong number marks that number invalid for every borrower who has it (the whole system
    stops dialling it); a dispute places a dispute hold; a callback request puts a call task in
    the case's queue on ``callback_on``; the work item is marked done.
    """
    for name, value, choices in (
        ("channel", channel, ContactAttempt.Channel),
        ("direction", direction, ContactAttempt.Direction),
        ("party", party, ContactAttempt.Party),
        ("outcome", outcome, ContactAttempt.Outcome),
    ):
        if value not in choices.values:
            raise CollectionsError(f"{name}: {value!r} is not one of {', '.join(choices.values)}")
    if phone is not None and phone.borrower_id != case.borrower_id and party == "borrower":
        raise CollectionsError("phone: this number is not the borrower's")
    when = at or timezone.now()
    day = timezone.localdate(when)
    if outcome == ContactAttempt.Outcome.CALLBACK and (callback_on is None or callback_on < day):
        raise CollectionsError("callback_on: a callback needs a date from today on")
    with transaction.atomic():
        attempt = ContactAttempt.objects.create(
            case=case,
            collector=collector,
            work_item=work_item,
            at=when,
            channel=channel,
            direction=direction,
            party=party,
            phone=phone,
            outcome=outcome,
            note=note,
            recording_ref=recording_ref,
        )
        _event(
            case,
            CaseEvent.Kind.CONTACT,
            "",
            outcome,
            f"{direction} {channel} to {party}: {outcome}",
            collector,
            day,
        )
        if outcome == ContactAttempt.Outcome.WRONG_NUMBER and phone is not None:
            Phone.objects.filter(number=phone.number).update(is_valid=False)
        if outcome in OUTCOME_HOLDS:
            reason, days = OUTCOME_HOLDS[outcome]
            place_hold(
                case.borrower_id,
                reason=reason,
                starts_on=day,
                ends_on=day + timedelta(days=days),
                note=f"raised on contact #{attempt.pk}: {note}",
                user=collector,
                today=day,
                reevaluate_now=False,
            )
        if outcome == ContactAttempt.Outcome.CALLBACK and callback_on is not None:
            WorkItem.objects.get_or_create(
                key=f"case{case.pk}:callback:{attempt.pk}:{callback_on.isoformat()}",
                defaults={
                    "case": case,
                    "borrower_id": case.borrower_id,
                    "due_on": callback_on,
                    "stage": case.stage,
                    "treatment": 0,
                    "channel": "call_task",
                    "template": "callback",
                    "owner": case.owner,
                    "collector": case.collector,
                    "reason": f"the borrower asked to be called back (contact #{attempt.pk})",
                    "strategy": "",
                    "variant": case.variant,
                    "priority": case.priority,
                },
            )
        if work_item is not None:
            WorkItem.objects.filter(pk=work_item.pk).update(
                status=WorkItem.Status.DONE, completed_at=when
            )
    reevaluate(case.borrower_id, business_date())  # the workflow's date, not the wall clock
    return attempt


def make_promise(
    case: Case,
    *,
    amount_minor: int,
    due_date: date,
    tolerance_minor: int = 0,
    made_on: date | None = None,
    user: Any = None,
    contact: ContactAttempt | None = None,
) -> Promise:
    """Record a promise to pay (承诺还款). One pending promise per case: a new one replaces
    the old (which is cancelled, not broken — the borrower re-negotiated before the date)."""
    today = made_on or business_date()
    if not case.is_open:
        raise CollectionsError(f"case {case.pk}: closed cases take no promises")
    if amount_minor <= 0:
        raise CollectionsError("amount: must be positive")
    if tolerance_minor < 0 or tolerance_minor >= amount_minor:
        raise CollectionsError("tolerance: must be at least 0 and below the amount")
    if due_date < today:
        raise CollectionsError(f"due_date: {due_date} is before the promise date {today}")
    if due_date > today + timedelta(days=31):
        raise CollectionsError("due_date: a promise may run at most 31 days; propose a plan")
    with transaction.atomic():
        for old in Promise.objects.filter(case=case, status=Promise.Status.PENDING):
            old.status, old.resolved_on = Promise.Status.CANCELLED, today
            old.save(update_fields=["status", "resolved_on"])
            _event(
                case,
                CaseEvent.Kind.PROMISE,
                Promise.Status.PENDING,
                Promise.Status.CANCELLED,
                f"promise #{old.pk} replaced by a new promise",
                user,
                today,
            )
        promise = Promise.objects.create(
            case=case,
            amount_minor=amount_minor,
            made_on=today,
            due_date=due_date,
            tolerance_minor=tolerance_minor,
            made_by=user,
            contact=contact,
        )
        _event(
            case,
            CaseEvent.Kind.PROMISE,
            "",
            Promise.Status.PENDING,
            f"promise #{promise.pk}: {money_text(amount_minor, case.currency)} by {due_date}",
            user,
            today,
        )
    reevaluate(case.borrower_id, today)
    return promise


def place_hold(
    borrower_id: int,
    *,
    reason: str,
    starts_on: date,
    ends_on: date,
    loan_id: int | None = None,
    channels: list[str] | None = None,
    note: str = "",
    user: Any = None,
    today: date | None = None,
    reevaluate_now: bool = True,
) -> Hold:
    """Stop collection for a borrower (or one loan) from ``starts_on`` to ``ends_on``.

    Back-dating is allowed up to ``HOLD_BACKDATE_DAYS``; the end is mandatory and at most
    ``HOLD_MAX_DAYS`` away. Pending work the hold covers is suppressed at once.
    """
    day = today or business_date()
    if reason not in Hold.Reason.values:
        raise CollectionsError(f"reason: {reason!r} is not one of {', '.join(Hold.Reason.values)}")
    if starts_on < day - timedelta(days=HOLD_BACKDATE_DAYS):
        raise CollectionsError(
            f"starts_on: {starts_on} is more than {HOLD_BACKDATE_DAYS} days before {day}"
        )
    if ends_on < starts_on:
        raise CollectionsError(f"ends_on: {ends_on} is before starts_on {starts_on}")
    if (ends_on - starts_on).days > HOLD_MAX_DAYS:
        raise CollectionsError(f"ends_on: a hold may last at most {HOLD_MAX_DAYS} days")
    with transaction.atomic():
        hold = Hold.objects.create(
            borrower_id=borrower_id,
            loan_id=loan_id,
            reason=reason,
            channels=sorted(channels or []),
            starts_on=starts_on,
            ends_on=ends_on,
            note=note,
            created_by=user,
        )
        scope = f"loan {loan_id}" if loan_id else "borrower"
        what = ", ".join(hold.channels) or "all treatments"
        pending = WorkItem.objects.filter(
            borrower_id=borrower_id, status=WorkItem.Status.PENDING, due_on__gte=starts_on
        )
        if hold.channels:
            pending = pending.filter(channel__in=hold.channels)
        if loan_id is None:
            pending.update(
                status=WorkItem.Status.SUPPRESSED,
                status_reason=f"hold #{hold.pk} ({reason}) until {ends_on}",
            )
        for case in Case.objects.filter(borrower_id=borrower_id, closed_on__isnull=True):
            _event(
                case,
                CaseEvent.Kind.HOLD,
                "",
                reason,
                f"hold #{hold.pk} on {scope} ({what}) {starts_on}–{ends_on}: {note}",
                user,
                day,
            )
    if reevaluate_now:
        reevaluate(borrower_id, day)
    return hold


def release_hold(hold: Hold, *, user: Any, today: date | None = None) -> Hold:
    """End a hold early (the complaint was handled); collection resumes from the next day.

    Who may release depends on the hold's reason (``arrears.collections.holds``): a collector
    may end a hardship pause, a complaint or dispute needs a supervisor, a deceased or legal
    hold a manager (compliance and superusers any). The hold is locked and read again, so two
    releases cannot both apply; the release records who made it.
    """
    from arrears.collections import holds  # it imports this module's CollectionsError

    day = today or business_date()
    holds.check_release(hold, user)
    with transaction.atomic():
        locked = Hold.objects.select_for_update().get(pk=hold.pk)
        holds.check_release(locked, user)
        locked.released_on = max(day, locked.starts_on)
        locked.released_by = user
        locked.save(update_fields=["released_on", "released_by"])
        for case in Case.objects.filter(borrower_id=hold.borrower_id, closed_on__isnull=True):
            _event(
                case,
                CaseEvent.Kind.HOLD,
                hold.reason,
                "released",
                f"hold #{hold.pk} released by {user.get_username()}",
                user,
                day,
            )
    hold.released_on, hold.released_by = locked.released_on, user
    reevaluate(hold.borrower_id, day)
    return hold


def reassign(
    case: Case, collector: Collector | None, *, by: Any, today: date | None = None
) -> Case:
    """A supervisor moves a case to another collector (or back to the pool with ``None``).

    Only a team lead or manager may do it; the new collector must be available. The case is
    then sticky with them from today, like any fresh assignment.
    """
    day = today or business_date()
    if not Collector.supervises(by):
        raise CollectionsError("only a team lead or a manager may reassign cases")
    if collector is not None and not collector.available:
        raise CollectionsError(f"collector: {collector} is not available")
    if collector is not None and case.owner and collector.team.owner != case.owner:
        raise CollectionsError(
            f"collector: {collector} works {collector.team.owner}, not this case's {case.owner}"
        )
    if not case.is_open:
        raise CollectionsError(f"case {case.pk} is closed")
    with transaction.atomic():
        before = case.collector.user.get_username() if case.collector else ""
        after = collector.user.get_username() if collector else ""
        case.collector = collector
        case.assigned_on = day if collector else None
        case.save(update_fields=["collector", "assigned_on"])
        WorkItem.objects.filter(case=case, status=WorkItem.Status.PENDING).update(
            collector=collector
        )
        _event(
            case,
            CaseEvent.Kind.ASSIGNED,
            before,
            after,
            f"reassigned by {by.get_username()}",
            by,
            day,
        )
    return case


def write_off(case: Case, *, by: Any, reason: str, today: date | None = None) -> Case:
    """Close a case as written off (核销) — a manager's decision, with a reason.

    The debt itself stays in the ledger (it is still owed and still explained); the case simply
    stops producing work. Pending work is cancelled. A later delinquency opens a new case.
    """
    day = today or business_date()
    if Collector.role_of(by) != Collector.Role.MANAGER and not by.is_superuser:
        raise CollectionsError("only a collections manager may write a case off")
    if not reason.strip():
        raise CollectionsError("reason: a write-off needs a reason")
    if not case.is_open:
        raise CollectionsError(f"case {case.pk} is closed")
    with transaction.atomic():
        _event(case, CaseEvent.Kind.CLOSED, case.status, Case.Status.WRITTEN_OFF, reason, by, day)
        WorkItem.objects.filter(case=case, status=WorkItem.Status.PENDING).update(
            status=WorkItem.Status.CANCELLED, status_reason=f"case written off on {day}"
        )
        case.status, case.closed_on = Case.Status.WRITTEN_OFF, day
        case.save(update_fields=["status", "closed_on"])
    return case
