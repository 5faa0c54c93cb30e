"""Collector actions on a case: log a contact, take a promise, place or release a hold.

Each is one transaction that records an event with its cause and then re-evaluates the
borrower, so the case's status and pending work reflect the change at once. Bad input is
refused with ``CollectionsError`` carrying an error code, its parameters and the field it
concerns (``arrears.errorcodes``); nothing is half-applied.

An outbound contact is checked against the compliance gate at its time (holds, hours,
frequency, parties, visitors): one the gate would not have allowed is refused, or logged only
with an override reason, which is kept on the contact and on its ``GateDecision`` and flagged
for compliance (``ContactAttempt.overridden``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arrears import errorcodes
from arrears.collections import events
from arrears.collections.models import (
    Case,
    CaseEvent,
    Collector,
    ContactAttempt,
    Hold,
    Promise,
    WorkItem,
)
from arrears.collections.outcomes import OUTCOME_HANDLERS
from arrears.collections.workflow import business_date, money_text, reevaluate
from arrears.kernel import limits
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money
from arrears.ledger.models import Loan, Phone

#: How far back a hold may be dated (a complaint received by post on Friday, keyed on Monday).
HOLD_BACKDATE_DAYS = 7
#: The longest hold without renewal; every hold must end (auto-expiry).
HOLD_MAX_DAYS = 180
#: A dispute or hardship raised on a call holds collection while it is looked into — unless
#: an app took the outcome over (``collections.outcomes``: ``complaints`` files a dispute as a
#: complaint, whose own hold lasts until it is resolved).
OUTCOME_HOLDS = {
    ContactAttempt.Outcome.DISPUTE: (Hold.Reason.DISPUTE, 30),
}


class CollectionsError(ArrearsError):
    """A collector action was refused; the message names the field and the reason."""

    code = "collections-invalid"


errorcodes.define(
    {
        "contact-unknown-value": "%(value)s is not one of %(allowed)s",
        "contact-not-borrowers-phone": "this number is not the borrower's",
        "contact-callback-date": "a callback needs a date from today on",
        "contact-callback-window": "the callback window must end after it starts",
        "contact-callback-passed": "the callback window ending %(ends)s has already passed",
        "contact-gate-denied": (
            "the compliance gate does not allow this contact (%(rules)s); to log it anyway, "
            "give the reason for the override"
        ),
        "contact-gate-deferred": (
            "the compliance gate does not allow this contact before %(next)s (%(rules)s); "
            "to log it anyway, give the reason for the override"
        ),
        "promise-case-closed": "case %(case)s is closed and takes no promises",
        "promise-amount": "must be positive",
        "promise-tolerance": "must be at least 0 and below the amount",
        "promise-due-before-made": "%(due)s is before the promise date %(today)s",
        "promise-too-long": "a promise may run at most %(days)s days; propose a plan",
        "promise-above-owed": "%(amount)s is more than the borrower owes on %(day)s (%(owed)s)",
        "promise-too-large": "%(amount)s is above the ledger's limit of %(limit)s",
        "promise-owed-unknown": (
            "what the borrower owes on %(day)s cannot be computed (loan %(loan)s); correct the "
            "loan's data first"
        ),
        "contact-callback-too-far": (
            "a callback may be at most %(days)s days ahead (on or before %(last)s)"
        ),
        "hold-unknown-reason": "%(value)s is not one of %(allowed)s",
        "hold-backdated": "%(starts)s is more than %(days)s days before %(today)s",
        "hold-ends-before-start": "%(ends)s is before starts_on %(starts)s",
        "hold-too-long": "a hold may last at most %(days)s days",
        "reassign-not-supervisor": "only a team lead or a manager may reassign cases",
        "reassign-unavailable": "%(collector)s is not available",
        "reassign-other-owner": "%(collector)s works %(works)s, not this case's %(owner)s",
        "case-closed": "case %(case)s is closed",
        "write-off-not-manager": "only a collections manager may write a case off",
        "write-off-reason": "a write-off needs a reason",
    }
)

#: A callback asked for on a day without times consents to these local hours (inside every
#: pack's contact hours, so a bare date never lifts the hours rule).
CALLBACK_DEFAULT_HOURS = (time(9, 0), time(18, 0))
#: The longest a promise may run; beyond it, propose a repayment plan.
PROMISE_MAX_DAYS = 31
#: How far ahead a callback may be asked for: a quarter. Consent to be called is for a
#: conversation the borrower expects soon; a date further out (a callback in 9999) is a typo.
CALLBACK_MAX_DAYS = 90


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
    callback_from: time | None = None,
    callback_until: time | None = None,
    visitors: list[str] | tuple[str, ...] = (),
    override_reason: str = "",
    agency: Any = None,
    reevaluate_now: bool = True,
) -> ContactAttempt:
    """Record a contact attempt (催记) and let its outcome drive the case.

    An *outbound* contact is first put to the compliance gate at its time ``at``, against
    every contact before it: if the gate would not have allowed it (a hold, the hours, a
    frequency cap, the party, too few visitors) it is refused — unless ``override_reason``
    says why it was made anyway, in which case it is logged as ``overridden`` with the reason,
    and its ``GateDecision`` and case event say so. Every outbound contact's gate decision is
    recorded; an inbound one (the borrower called us) is not gated.

    A callback request is the person's prior consent to be called on ``callback_on``, between
    ``callback_from`` and ``callback_until`` in the borrower's time zone (default
    ``CALLBACK_DEFAULT_HOURS``); the gate honours it for that person only. A visit records its
    ``visitors`` (the collector logging it is one of them). A wrong number marks that number
    invalid for every borrower who has it; a dispute places a dispute hold; a callback request
    puts a call task in the case's queue on ``callback_on``; the work item is marked done.
    ``agency`` (an ``agencies.Agency``) marks a contact an agency's user logged or reported.

    The borrower's case is then re-evaluated on the workflow's date. ``reevaluate_now=False``
    leaves that to the caller: a back-filled history of many contacts (the demo's) is evaluated
    once, by the run of the day that follows it, instead of once a contact.
    """
    from arrears.contact import gate  # the contact app builds on collections, not the reverse

    for name, value, choices in (
        ("channel", channel, ContactAttempt.Channel),
        ("direction", direction, ContactAttempt.Direction),
        ("party", party, ContactAttempt.Party),
        ("outcome", outcome, ContactAttempt.Outcome),
    ):
        if value not in choices.values:
            raise errorcodes.refuse(
                CollectionsError,
                "contact-unknown-value",
                field=name,
                value=repr(value),
                allowed=", ".join(choices.values),
            )
    if phone is not None and phone.borrower_id != case.borrower_id and party == "borrower":
        raise errorcodes.refuse(CollectionsError, "contact-not-borrowers-phone", field="phone")
    when = at or timezone.now()
    day = timezone.localdate(when)
    consent = _callback_window(case, outcome, when, callback_on, callback_from, callback_until)
    people = _visitors(channel, visitors, collector)
    reason = override_reason.strip()
    check = None
    if direction == ContactAttempt.Direction.OUTBOUND:
        check = gate.decide_contact(
            case.borrower,
            case.pk,
            when,
            channel=channel,
            party=party,
            phone=phone,
            visitors=tuple(people),
        )
        if not check.decision.allowed and not reason:
            raise _gate_refusal(check.decision)
    against_gate = check is not None and not check.decision.allowed
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
            gate_outcome=check.decision.outcome if check else "",
            gate_rules=list(check.decision.rule_ids()) if check else [],
            overridden=against_gate,
            override_reason=reason if against_gate else "",
            consent_by=party if consent else "",
            consent_starts=consent[0] if consent else None,
            consent_ends=consent[1] if consent else None,
            visitors=people,
            agency=agency,
        )
        cause = f"{direction} {channel} to {party}: {outcome}"
        if check is not None and against_gate:
            rules = ", ".join(check.decision.rule_ids())
            cause += f" — gate {check.decision.outcome} ({rules}) overridden: {reason}"
        events.record(
            case,
            CaseEvent.Kind.CONTACT,
            f"gate {check.decision.outcome}" if against_gate and check else "",
            outcome,
            cause,
            collector,
            day,
        )
        if check is not None:
            gate.record(
                check.decision,
                check.request,
                contact=attempt.pk,
                logged_by=collector.get_username() if collector is not None else "",
                overridden=against_gate,
                override_reason=reason if against_gate else "",
            )
        if outcome == ContactAttempt.Outcome.WRONG_NUMBER and phone is not None:
            Phone.objects.filter(number=phone.number).update(is_valid=False)
        if outcome in OUTCOME_HANDLERS:
            OUTCOME_HANDLERS[outcome](attempt)
        elif outcome in OUTCOME_HOLDS:
            hold_reason, days = OUTCOME_HOLDS[outcome]
            place_hold(
                case.borrower_id,
                reason=hold_reason,
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
    if reevaluate_now:
        reevaluate(case.borrower_id, business_date())  # the workflow's date, not the wall clock
    return attempt


def _callback_window(
    case: Case,
    outcome: str,
    when: datetime,
    on: date | None,
    start: time | None,
    end: time | None,
) -> tuple[datetime, datetime] | None:
    """The consent window a callback request gives, in the borrower's zone; ``None`` for any
    other outcome. Refused: no date, a date before today, an empty or already past window."""
    if outcome != ContactAttempt.Outcome.CALLBACK:
        return None
    if on is None or on < timezone.localdate(when):
        raise errorcodes.refuse(CollectionsError, "contact-callback-date", field="callback_on")
    last = timezone.localdate(when) + timedelta(days=CALLBACK_MAX_DAYS)
    if on > last:
        raise errorcodes.refuse(
            CollectionsError,
            "contact-callback-too-far",
            field="callback_on",
            days=CALLBACK_MAX_DAYS,
            last=last,
        )
    zone = ZoneInfo(case.borrower.time_zone or settings.TIME_ZONE)
    first, last = CALLBACK_DEFAULT_HOURS
    starts = datetime.combine(on, start or first, tzinfo=zone)
    ends = datetime.combine(on, end or last, tzinfo=zone) if end != time(0, 0) else None
    if ends is None:  # 00:00 as an end: midnight at the end of the day
        ends = datetime.combine(on + timedelta(days=1), time(0, 0), tzinfo=zone)
    if ends <= starts:
        raise errorcodes.refuse(CollectionsError, "contact-callback-window", field="callback_until")
    if ends <= when:
        raise errorcodes.refuse(
            CollectionsError, "contact-callback-passed", field="callback_until", ends=ends
        )
    return starts, ends


def _visitors(channel: str, named: list[str] | tuple[str, ...], collector: Any) -> list[str]:
    """Who went on a visit: the names given and the collector logging it, each once."""
    if channel != ContactAttempt.Channel.VISIT:
        return []
    people = {name.strip(): None for name in named if name.strip()}
    if collector is not None:
        people.setdefault(collector.get_username(), None)
    return sorted(people, key=str.casefold)


def _gate_refusal(decision: Any) -> CollectionsError:
    """The gate's no as a refusal on the override field (the form asks for a reason there)."""
    rules = ", ".join(decision.rule_ids())
    if decision.outcome == "defer" and decision.next_allowed is not None:
        return errorcodes.refuse(
            CollectionsError,
            "contact-gate-deferred",
            field="override_reason",
            next=timezone.localtime(decision.next_allowed),
            rules=rules,
        )
    return errorcodes.refuse(
        CollectionsError, "contact-gate-denied", field="override_reason", rules=rules
    )


def owed_on(case: Case, day: date) -> int:
    """What the case's borrower owes on ``day`` in the case's currency, in minor units: the
    sum of the ledger's payoff (everything that closes the loan) over their loans, replayed by
    :func:`arrears.ledger.selectors.loan_state` — the one owed computation, not a copy. A
    promise above it cannot be kept as made."""
    from arrears.ledger import selectors as ledger  # the ledger's replay, read at call time

    total = 0
    for loan in Loan.objects.filter(borrower_id=case.borrower_id, currency=case.currency):
        try:
            total += ledger.loan_state(loan, day)[1].payoff
        except ArrearsError:  # a loan the ledger cannot compute: the debt is unknown
            raise errorcodes.refuse(
                CollectionsError, "promise-owed-unknown", field="amount", loan=loan.ref, day=day
            ) from None
    return total


def make_promise(
    case: Case,
    *,
    amount_minor: int,
    due_date: date,
    tolerance_minor: int = 0,
    made_on: date | None = None,
    user: Any = None,
    contact: ContactAttempt | None = None,
    agency: Any = None,
) -> Promise:
    """Record a promise to pay (承诺还款). One pending promise per case: a new one replaces
    the old (which is cancelled, not broken — the borrower re-negotiated before the date).
    ``agency`` (an ``agencies.Agency``) marks a promise an agency's user took."""
    today = made_on or business_date()
    if not case.is_open:
        raise errorcodes.refuse(CollectionsError, "promise-case-closed", case=case.pk)
    if amount_minor <= 0:
        raise errorcodes.refuse(CollectionsError, "promise-amount", field="amount")
    if amount_minor > limits.MAX_AMOUNT_MINOR:
        raise errorcodes.refuse(
            CollectionsError,
            "promise-too-large",
            field="amount",
            amount=Money(amount_minor, case.currency),
            limit=Money(limits.MAX_AMOUNT_MINOR, case.currency),
        )
    if tolerance_minor < 0 or tolerance_minor >= amount_minor:
        raise errorcodes.refuse(CollectionsError, "promise-tolerance", field="tolerance")
    if due_date < today:
        raise errorcodes.refuse(
            CollectionsError, "promise-due-before-made", field="due_date", due=due_date, today=today
        )
    if due_date > today + timedelta(days=PROMISE_MAX_DAYS):
        raise errorcodes.refuse(
            CollectionsError, "promise-too-long", field="due_date", days=PROMISE_MAX_DAYS
        )
    owed = owed_on(case, today)
    if amount_minor > owed:
        raise errorcodes.refuse(
            CollectionsError,
            "promise-above-owed",
            field="amount",
            amount=Money(amount_minor, case.currency),
            owed=Money(owed, case.currency),
            day=today,
        )
    with transaction.atomic():
        for old in Promise.objects.filter(case=case, status=Promise.Status.PENDING):
            old.status, old.resolved_on = Promise.Status.CANCELLED, today
            old.save(update_fields=["status", "resolved_on"])
            events.record(
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
            agency=agency,
        )
        events.record(
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
        raise errorcodes.refuse(
            CollectionsError,
            "hold-unknown-reason",
            field="reason",
            value=repr(reason),
            allowed=", ".join(Hold.Reason.values),
        )
    if starts_on < day - timedelta(days=HOLD_BACKDATE_DAYS):
        raise errorcodes.refuse(
            CollectionsError,
            "hold-backdated",
            field="starts_on",
            starts=starts_on,
            days=HOLD_BACKDATE_DAYS,
            today=day,
        )
    if ends_on < starts_on:
        raise errorcodes.refuse(
            CollectionsError,
            "hold-ends-before-start",
            field="ends_on",
            ends=ends_on,
            starts=starts_on,
        )
    if (ends_on - starts_on).days > HOLD_MAX_DAYS:
        raise errorcodes.refuse(
            CollectionsError, "hold-too-long", field="ends_on", days=HOLD_MAX_DAYS
        )
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
            events.record(
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
        end_hold(
            locked, by=user, day=day, cause=f"hold #{hold.pk} released by {user.get_username()}"
        )
    hold.released_on, hold.released_by = locked.released_on, user
    reevaluate(hold.borrower_id, day)
    return hold


def end_hold(locked: Hold, *, by: Any, day: date, cause: str) -> None:
    """Record a hold's release on ``day`` (never before it started) by ``by``, with a case
    event on each of the borrower's open cases. The caller holds the row lock and has decided
    that ``by`` may release it (``release_hold`` checks a person's authority; a system release,
    such as a portal request being decided, needs none)."""
    locked.released_on = max(day, locked.starts_on)
    locked.released_by = by
    locked.save(update_fields=["released_on", "released_by"])
    for case in Case.objects.filter(borrower_id=locked.borrower_id, closed_on__isnull=True):
        events.record(case, CaseEvent.Kind.HOLD, locked.reason, "released", cause, by, day)


def reassign(
    case: Case, collector: Collector | None, *, by: Any, today: date | None = None
) -> Case:
    """A supervisor moves a case to another collector (or back to the pool with ``None``).

    Only a team lead or manager may do it; the new collector must be available. The case is
    then sticky with them from today, like any fresh assignment.
    """
    day = today or business_date()
    if not Collector.supervises(by):
        raise errorcodes.refuse(CollectionsError, "reassign-not-supervisor")
    if collector is not None and not collector.available:
        raise errorcodes.refuse(
            CollectionsError, "reassign-unavailable", field="collector", collector=str(collector)
        )
    if collector is not None and case.owner and collector.team.owner != case.owner:
        raise errorcodes.refuse(
            CollectionsError,
            "reassign-other-owner",
            field="collector",
            collector=str(collector),
            works=collector.team.owner,
            owner=case.owner,
        )
    if not case.is_open:
        raise errorcodes.refuse(CollectionsError, "case-closed", case=case.pk)
    with transaction.atomic():
        before = case.collector.user.get_username() if case.collector else ""
        after = collector.user.get_username() if collector else ""
        case.collector = collector
        case.assigned_on = day if collector else None
        case.save(update_fields=["collector", "assigned_on"])
        WorkItem.objects.filter(case=case, status=WorkItem.Status.PENDING).update(
            collector=collector
        )
        events.record(
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
        raise errorcodes.refuse(CollectionsError, "write-off-not-manager")
    if not reason.strip():
        raise errorcodes.refuse(CollectionsError, "write-off-reason", field="reason")
    if not case.is_open:
        raise errorcodes.refuse(CollectionsError, "case-closed", case=case.pk)
    with transaction.atomic():
        events.record(
            case, CaseEvent.Kind.CLOSED, case.status, Case.Status.WRITTEN_OFF, reason, by, day
        )
        WorkItem.objects.filter(case=case, status=WorkItem.Status.PENDING).update(
            status=WorkItem.Status.CANCELLED, status_reason=f"case written off on {day}"
        )
        case.status, case.closed_on = Case.Status.WRITTEN_OFF, day
        case.save(update_fields=["status", "closed_on"])
    return case
