"""The field-visit workflow: every transition, who may make it, and what it leaves behind.

requested → approved | rejected → assigned → authorised → scheduled → in_progress → reported
→ closed; ``cancel`` from any open state, with a reason (it revokes the authorisation).

Each transition locks the visit row, reads its status again inside the transaction, refuses a
move from the wrong state with a code (``arrears.errorcodes``), and writes one ``CaseEvent``
(kind ``visit``) keyed ``visit<id>:<state>`` — so a double submit records nothing twice.
Controls: the requester is a collector working the case and never approves; approval,
assignment and authorisation are a supervisor's (``Collector.supervises``); check-in,
check-out and the report are an assigned agent's own action on the server clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from arrears import errorcodes
from arrears.collections import events
from arrears.collections.models import Case, CaseEvent, Collector, ContactAttempt, WorkItem
from arrears.fieldwork import credentials, eligibility, letter
from arrears.fieldwork.models import FieldAgent, FieldVisit, VisitAuthorisation
from arrears.kernel.errors import ArrearsError


class FieldworkError(ArrearsError):
    """A field-visit action was refused; the code says why."""

    code = "fieldwork-invalid"


errorcodes.define(
    {
        "visit-not-working-case": "only a collector working case %(case)s may request a visit",
        "visit-case-closed": "case %(case)s is closed",
        "visit-reason-required": "give the reason for the visit (at most %(max)s characters)",
        "visit-ineligible": "case %(case)s is not eligible for a field visit: %(failing)s",
        "visit-already-open": "case %(case)s already has an open visit (#%(visit)s)",
        "visit-wrong-state": "visit #%(visit)s is %(status)s; this needs it %(needs)s",
        "visit-not-supervisor": "only a team lead or a manager over this case may do this",
        "visit-own-request": "the requester of a visit never approves or rejects it",
        "visit-note-required": "give the reason (at most %(max)s characters)",
        "visit-agents-count": "assign between 1 and %(max)s active field agents",
        "visit-agent-inactive": "%(agent)s is not an active field agent",
        "visit-validity": (
            "the authorisation must end after it starts and last at most %(days)s days"
        ),
        "visit-place-required": "give the place of the visit (at most %(max)s characters)",
        "visit-appointment-outside": (
            "the appointment %(at)s is outside the authorisation's validity (%(start)s to %(end)s)"
        ),
        "visit-appointment-past": "the appointment %(at)s is in the past",
        "visit-gate-refused": "the compliance gate refuses a visit at %(at)s: %(rules)s",
        "visit-not-assigned-agent": "only a field agent assigned to visit #%(visit)s may do this",
        "visit-no-authorisation": "visit #%(visit)s has no valid authorisation now",
        "visit-wrong-day": "the appointment is on %(day)s; check-in is only possible that day",
        "visit-location": "latitude must be within ±90 and longitude within ±180",
        "visit-outcome": "%(value)s is not one of %(allowed)s",
        "visit-notes-too-long": "notes may be at most %(max)s characters",
        "visit-evidence": (
            "at most %(count)s evidence references of at most %(length)s characters each"
        ),
        "visit-promise-incomplete": "a promise needs both an amount and a due date",
        "visit-not-checked-out": "check out before reporting the visit",
        "visit-report-required": "a visit is closed only after its report",
    }
)

REASON_MAX = 1000
NOTES_MAX = 4000
PLACE_MAX = 300
EVIDENCE_MAX_COUNT = 20
EVIDENCE_MAX_LENGTH = 300
MAX_AGENTS = 4
#: Default and longest validity of an authorisation letter.
AUTH_DAYS = 14
AUTH_MAX_DAYS = 30
#: A visit's report outcome → the contact log's outcome for the visit.
CONTACT_OUTCOMES = {
    FieldVisit.Outcome.MET: ContactAttempt.Outcome.RIGHT_PARTY,
    FieldVisit.Outcome.NOT_HOME: ContactAttempt.Outcome.NO_ANSWER,
    FieldVisit.Outcome.REFUSED: ContactAttempt.Outcome.REFUSED,
    FieldVisit.Outcome.PROMISE: ContactAttempt.Outcome.PROMISE,
    FieldVisit.Outcome.PLAN: ContactAttempt.Outcome.RIGHT_PARTY,
    FieldVisit.Outcome.ADDRESS_WRONG: ContactAttempt.Outcome.WRONG_NUMBER,
    FieldVisit.Outcome.THIRD_PARTY: ContactAttempt.Outcome.THIRD_PARTY,
}

S = FieldVisit.Status


def _refuse(code: str, *, field: str | None = None, **params: object) -> FieldworkError:
    return errorcodes.refuse(FieldworkError, code, field=field, **params)


def _today() -> date:
    return timezone.localdate()


def _event(visit: FieldVisit, frm: str, to: str, cause: str, actor: Any, key: str = "") -> None:
    """One event per transition; the key makes a repeated transition a no-op."""
    events.record(
        visit.case,
        CaseEvent.Kind.VISIT,
        frm,
        to,
        f"visit #{visit.pk}: {cause}"[:2000],
        actor,
        _today(),
        key=key or f"visit{visit.pk}:{to}",
    )


def _move(
    visit: FieldVisit,
    needs: Sequence[str],
    to: str,
    change: Callable[[FieldVisit], str],
    *,
    actor: Any,
    key: str = "",
) -> FieldVisit:
    """Lock the visit, check its status, apply ``change`` (which returns the event's cause),
    set the new status and record the event — all in one transaction."""
    with transaction.atomic():
        locked = FieldVisit.objects.select_for_update().get(pk=visit.pk)
        if locked.status not in needs:
            raise _refuse(
                "visit-wrong-state", visit=locked.pk, status=locked.status, needs=" or ".join(needs)
            )
        before = locked.status
        cause = change(locked)
        locked.status = to
        locked.save()
        _event(locked, before, to, cause, actor, key)
    return locked


def _supervisor_over(user: Any, case: Case) -> None:
    from arrears.collections.selectors import visible_cases

    if not Collector.supervises(user) or not visible_cases(user).filter(pk=case.pk).exists():
        raise _refuse("visit-not-supervisor")


def _text(value: str, maximum: int, code: str, field: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > maximum:
        raise _refuse(code, field=field, max=maximum)
    return text


# --- request, approve, reject -----------------------------------------------------------------


def request_visit(case: Case, *, by: Any, reason: str, as_of: date | None = None) -> FieldVisit:
    """A collector working ``case`` asks for a visit. Refused when the case is not eligible
    (the code names the failing conditions) or already has an open visit."""
    from arrears.collections.selectors import visible_cases

    if not visible_cases(by).filter(pk=case.pk).exists():
        raise _refuse("visit-not-working-case", case=case.pk)
    if not case.is_open:
        raise _refuse("visit-case-closed", case=case.pk)
    text = _text(reason, REASON_MAX, "visit-reason-required", "reason")
    answer = eligibility.check(case, as_of or _business_date())
    if not answer.eligible:
        raise _refuse("visit-ineligible", case=case.pk, failing=", ".join(answer.failing))
    existing = FieldVisit.objects.filter(case=case, status__in=FieldVisit.OPEN).first()
    if existing is not None:
        raise _refuse("visit-already-open", case=case.pk, visit=existing.pk)
    try:
        with transaction.atomic():
            visit = FieldVisit.objects.create(
                case=case,
                reason=text,
                eligibility=answer.as_dict(),
                requested_by=by,
                requested_at=timezone.now(),
            )
            _event(visit, "", S.REQUESTED, f"requested by {by.get_username()}: {text}", by)
    except IntegrityError:  # a concurrent request won the partial unique index
        existing = FieldVisit.objects.filter(case=case, status__in=FieldVisit.OPEN).first()
        raise _refuse(
            "visit-already-open", case=case.pk, visit=existing.pk if existing else "?"
        ) from None
    return visit


def _business_date() -> date:
    from arrears.collections.workflow import business_date

    return business_date()


def _decide(visit: FieldVisit, by: Any, note: str, to: str) -> FieldVisit:
    _supervisor_over(by, visit.case)
    if visit.requested_by_id == by.pk:
        raise _refuse("visit-own-request")
    text = (note or "").strip()[:REASON_MAX]
    if to == S.REJECTED and not text:
        raise _refuse("visit-note-required", field="note", max=REASON_MAX)

    def change(v: FieldVisit) -> str:
        v.decided_by, v.decided_at, v.decision_note = by, timezone.now(), text
        return f"{to} by {by.get_username()}" + (f": {text}" if text else "")

    return _move(visit, [S.REQUESTED], to, change, actor=by)


def approve(visit: FieldVisit, *, by: Any, note: str = "") -> FieldVisit:
    """A team lead or manager over the case approves; never the requester."""
    return _decide(visit, by, note, S.APPROVED)


def reject(visit: FieldVisit, *, by: Any, note: str) -> FieldVisit:
    """A team lead or manager over the case rejects, with a reason; never the requester."""
    return _decide(visit, by, note, S.REJECTED)


# --- assign, authorise ----------------------------------------------------------------------


def assign(visit: FieldVisit, agents: Sequence[FieldAgent], *, by: Any) -> FieldVisit:
    """Send ``agents`` (1..MAX_AGENTS active field agents; the pack's visitors rule checks at
    scheduling that enough of them go). Re-assigning before authorisation is allowed."""
    _supervisor_over(by, visit.case)
    unique = {a.pk: a for a in agents}
    if not 1 <= len(unique) <= MAX_AGENTS:
        raise _refuse("visit-agents-count", field="agents", max=MAX_AGENTS)
    for agent in unique.values():
        if not agent.active:
            raise _refuse("visit-agent-inactive", field="agents", agent=agent.full_name)

    def change(v: FieldVisit) -> str:
        v.agents.set(list(unique.values()))
        names = ", ".join(sorted(a.user.get_username() for a in unique.values()))
        return f"assigned to {names} by {by.get_username()}"

    names = "-".join(str(pk) for pk in sorted(unique))
    return _move(
        visit,
        [S.APPROVED, S.ASSIGNED],
        S.ASSIGNED,
        change,
        actor=by,
        key=f"visit{visit.pk}:assigned:{names}",
    )


def authorise(
    visit: FieldVisit,
    *,
    by: Any,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
) -> VisitAuthorisation:
    """Issue the authorisation letter: a verification credential and the PDF naming the
    assigned agents (ID numbers masked), stored under the data directory with its SHA-256."""
    from arrears.contact.render import lender_name

    _supervisor_over(by, visit.case)
    start = valid_from or timezone.now()
    end = valid_to or start + timedelta(days=AUTH_DAYS)
    if end <= start or end - start > timedelta(days=AUTH_MAX_DAYS):
        raise _refuse("visit-validity", field="valid_to", days=AUTH_MAX_DAYS)
    with transaction.atomic():
        locked = FieldVisit.objects.select_for_update().get(pk=visit.pk)
        if locked.status != S.ASSIGNED:
            raise _refuse(
                "visit-wrong-state", visit=locked.pk, status=locked.status, needs=S.ASSIGNED
            )
        case = locked.case
        agents = list(locked.agents.order_by("full_name", "pk"))
        holder = ", ".join(f"{a.full_name} {a.masked_id}" for a in agents)
        lender_zh, lender_en = lender_name("zh-CN"), lender_name("en")
        issued = credentials.issue(
            holder=holder[:200],
            issuer_kind="lender",
            issuer_name=lender_zh,
            authorises_en=f"a field visit on behalf of {lender_en} (case {case.pk})"[:400],
            authorises_zh=f"代表{lender_zh}上门沟通借款还款事宜（案件{case.pk}）"[:400],
            valid_from=start,
            valid_to=end,
            case=case,
            document_ref=f"visit{locked.pk}",
            issued_at=timezone.now(),
        )
        facts = letter.LetterFacts(
            lender_zh=lender_zh,
            lender_en=lender_en,
            borrower_name=case.borrower.name,
            case_number=str(case.pk),
            contract_numbers=tuple(
                case.borrower.loans.order_by("ref").values_list("ref", flat=True)
            ),
            visitors=tuple((a.full_name, a.masked_id) for a in agents),
            valid_from=start,
            valid_to=end,
            code=issued.code,
        )
        count = locked.authorisations.count() + 1
        path, digest = letter.store(letter.render(facts), f"visit{locked.pk}-{count}.pdf")
        authorisation = VisitAuthorisation.objects.create(
            visit=locked,
            credential_id=issued.credential_id,
            code_hint=issued.code.replace("-", "")[-4:],
            valid_from=start,
            valid_to=end,
            pdf_path=str(path),
            sha256=digest,
            issued_by=by,
            issued_at=timezone.now(),
        )
        before = locked.status
        locked.status = S.AUTHORISED
        locked.save(update_fields=["status"])
        _event(
            locked,
            before,
            S.AUTHORISED,
            f"authorisation #{authorisation.pk} valid {start:%Y-%m-%d} to {end:%Y-%m-%d} "
            f"(code …{authorisation.code_hint}) by {by.get_username()}",
            by,
        )
    authorisation.plain_code = issued.code  # type: ignore[attr-defined]  # shown once
    return authorisation


# --- schedule -------------------------------------------------------------------------------


def _may_schedule(visit: FieldVisit, by: Any) -> None:
    agent = FieldAgent.of(by)
    if agent is not None and visit.agents.filter(pk=agent.pk).exists():
        return
    if visit.requested_by_id == by.pk:
        return
    _supervisor_over(by, visit.case)


def schedule(visit: FieldVisit, *, at: datetime, place: str, by: Any) -> FieldVisit:
    """Fix the appointment. The time must be in the future, inside the authorisation, and
    allowed by the compliance gate for a visit with the assigned agents (the pack's hours and
    visitors rules — a refusal cites the rule ids). The borrower is told through the outbox
    (template ``field_visit_request``), keyed on the visit and the appointment, so a repeated
    call queues nothing twice and a new time is a new message."""
    from arrears.contact import gate

    visit = FieldVisit.objects.get(pk=visit.pk)  # act on what is stored, not a stale copy
    _may_schedule(visit, by)
    where = _text(place, PLACE_MAX, "visit-place-required", "place")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at <= timezone.now():
        raise _refuse("visit-appointment-past", field="appointment_at", at=at)
    authorisation = visit.authorisation()
    if authorisation is None or authorisation.revoked_at is not None:
        raise _refuse("visit-no-authorisation", visit=visit.pk)
    if not authorisation.valid_from <= at < authorisation.valid_to:
        raise _refuse(
            "visit-appointment-outside",
            field="appointment_at",
            at=at,
            start=authorisation.valid_from,
            end=authorisation.valid_to,
        )
    visitors = tuple(sorted(a.user.get_username() for a in visit.agents.all()))
    decision = gate.decide_contact(
        visit.case.borrower, visit.case_id, at, channel="visit", visitors=visitors
    ).decision
    if not decision.allowed:
        raise _refuse(
            "visit-gate-refused",
            field="appointment_at",
            at=timezone.localtime(at),
            rules=", ".join(decision.rule_ids()),
        )

    def change(v: FieldVisit) -> str:
        v.appointment_at, v.place = at, where
        _queue_notice(v, at)
        return f"appointment {timezone.localtime(at):%Y-%m-%d %H:%M} at {where}"

    return _move(
        visit,
        [S.AUTHORISED, S.SCHEDULED],
        S.SCHEDULED,
        change,
        actor=by,
        key=f"visit{visit.pk}:scheduled:{at.isoformat()}",
    )


def notice_key(visit: FieldVisit, at: datetime) -> str:
    return f"visit{visit.pk}:appointment:{at.astimezone(UTC).isoformat()}"


def _queue_notice(visit: FieldVisit, at: datetime) -> None:
    """The appointment notice in the outbox (sent and gated by the dispatcher); valid until
    the appointment itself. Earlier notices of the same visit still queued are suppressed."""
    from arrears.contact.models import OutboxMessage
    from arrears.contact.outbox import LOCALES

    borrower = visit.case.borrower
    key = notice_key(visit, at)
    OutboxMessage.objects.filter(
        key__startswith=f"visit{visit.pk}:appointment:", status=OutboxMessage.Status.QUEUED
    ).exclude(key=key).update(
        status=OutboxMessage.Status.SUPPRESSED, status_reason="the appointment was changed"
    )
    OutboxMessage.objects.get_or_create(
        key=key,
        defaults={
            "borrower": borrower,
            "case_id": visit.case_id,
            "channel": "sms",
            "template": "field_visit_request",
            "locale": LOCALES.get(borrower.locale, "zh-CN"),
            "not_before": timezone.now(),
            "due_on": _today(),
            "expires_at": at,
        },
    )


# --- check-in, check-out, report ------------------------------------------------------------


def _own_agent(visit: FieldVisit, by: Any) -> FieldAgent:
    agent = FieldAgent.of(by)
    if agent is None or not visit.agents.filter(pk=agent.pk).exists():
        raise _refuse("visit-not-assigned-agent", visit=visit.pk)
    return agent


def _coordinates(lat: Any, lon: Any) -> tuple[Decimal | None, Decimal | None]:
    if lat in (None, "") and lon in (None, ""):
        return None, None
    try:
        la, lo = Decimal(str(lat)), Decimal(str(lon))
    except (InvalidOperation, ValueError):
        raise _refuse("visit-location", field="lat") from None
    if not (la.is_finite() and lo.is_finite() and abs(la) <= 90 and abs(lo) <= 180):
        raise _refuse("visit-location", field="lat")
    return la.quantize(Decimal("0.000001")), lo.quantize(Decimal("0.000001"))


def _valid_authorisation(visit: FieldVisit, now: datetime) -> bool:
    authorisation = visit.authorisation()
    if authorisation is None or not authorisation.valid_at(now):
        return False
    return authorisation.credential_id is None or credentials.valid(
        authorisation.credential_id, now
    )


def check_in(visit: FieldVisit, *, by: Any, lat: Any = None, lon: Any = None) -> FieldVisit:
    """An assigned agent arrives: recorded on the server clock, with an optional location.
    Refused without a valid (unexpired, unrevoked) authorisation or on another day than the
    appointment's."""
    visit = FieldVisit.objects.get(pk=visit.pk)  # act on what is stored, not a stale copy
    agent = _own_agent(visit, by)
    now = timezone.now()
    la, lo = _coordinates(lat, lon)
    if not _valid_authorisation(visit, now):
        raise _refuse("visit-no-authorisation", visit=visit.pk)
    if visit.appointment_at is None or timezone.localdate(
        visit.appointment_at
    ) != timezone.localdate(now):
        day = timezone.localdate(visit.appointment_at) if visit.appointment_at else "-"
        raise _refuse("visit-wrong-day", day=day)

    def change(v: FieldVisit) -> str:
        v.checked_in_at, v.checked_in_by, v.check_in_lat, v.check_in_lon = now, agent, la, lo
        where = f" at {la},{lo}" if la is not None else ""
        return f"checked in by {by.get_username()} {timezone.localtime(now):%H:%M}{where}"

    return _move(visit, [S.SCHEDULED], S.IN_PROGRESS, change, actor=by)


def check_out(visit: FieldVisit, *, by: Any, lat: Any = None, lon: Any = None) -> FieldVisit:
    """An assigned agent leaves (server clock, optional location); once."""
    _own_agent(visit, by)
    now = timezone.now()
    la, lo = _coordinates(lat, lon)
    with transaction.atomic():
        locked = FieldVisit.objects.select_for_update().get(pk=visit.pk)
        if locked.status != S.IN_PROGRESS or locked.checked_out_at is not None:
            raise _refuse(
                "visit-wrong-state", visit=locked.pk, status=locked.status, needs=S.IN_PROGRESS
            )
        locked.checked_out_at, locked.check_out_lat, locked.check_out_lon = now, la, lo
        locked.save(update_fields=["checked_out_at", "check_out_lat", "check_out_lon"])
        _event(
            locked,
            S.IN_PROGRESS,
            "checked_out",
            f"checked out by {by.get_username()} {timezone.localtime(now):%H:%M}",
            by,
            key=f"visit{locked.pk}:checked_out",
        )
    return locked


def report(
    visit: FieldVisit,
    *,
    by: Any,
    outcome: str,
    notes: str = "",
    evidence: Sequence[str] = (),
    promise_amount_minor: int | None = None,
    promise_due: date | None = None,
    override_reason: str = "",
) -> FieldVisit:
    """The visit report: outcome, notes, evidence references, an optional promise (made with
    ``collections.services.make_promise``, so it is the case's ordinary promise), and the visit
    logged in the contact log (channel visit, the agents as visitors) through ``log_contact``
    and so through the gate."""
    from arrears.collections import services as collections

    visit = FieldVisit.objects.get(pk=visit.pk)  # act on what is stored, not a stale copy
    _own_agent(visit, by)
    if outcome not in FieldVisit.Outcome.values:
        raise _refuse(
            "visit-outcome",
            field="outcome",
            value=repr(outcome)[:40],
            allowed=", ".join(FieldVisit.Outcome.values),
        )
    text = (notes or "").strip()
    if len(text) > NOTES_MAX:
        raise _refuse("visit-notes-too-long", field="notes", max=NOTES_MAX)
    refs = [r.strip() for r in evidence if r and r.strip()]
    if len(refs) > EVIDENCE_MAX_COUNT or any(len(r) > EVIDENCE_MAX_LENGTH for r in refs):
        raise _refuse(
            "visit-evidence", field="evidence", count=EVIDENCE_MAX_COUNT, length=EVIDENCE_MAX_LENGTH
        )
    if (promise_amount_minor is None) != (promise_due is None):
        raise _refuse("visit-promise-incomplete", field="promise_amount")
    with transaction.atomic():
        locked = FieldVisit.objects.select_for_update().get(pk=visit.pk)
        if locked.status != S.IN_PROGRESS:
            raise _refuse(
                "visit-wrong-state", visit=locked.pk, status=locked.status, needs=S.IN_PROGRESS
            )
        if locked.checked_out_at is None:
            raise _refuse("visit-not-checked-out")
        visitors = sorted(a.user.get_username() for a in locked.agents.all())
        asked = (  # the strategy's visit request this visit answers (marked done by the log)
            WorkItem.objects.filter(
                case=locked.case, channel="visit_request", status=WorkItem.Status.PENDING
            )
            .order_by("due_on", "id")
            .first()
        )
        contact = collections.log_contact(
            locked.case,
            channel=ContactAttempt.Channel.VISIT,
            direction=ContactAttempt.Direction.OUTBOUND,
            party=ContactAttempt.Party.BORROWER,
            outcome=CONTACT_OUTCOMES[FieldVisit.Outcome(outcome)],
            collector=by,
            note=f"field visit #{locked.pk}: {text}"[: NOTES_MAX + 40],
            recording_ref=(refs[0] if refs else "")[:200],
            at=locked.checked_in_at,
            visitors=visitors,
            override_reason=override_reason,
            work_item=asked,
        )
        promise = None
        if promise_amount_minor is not None and promise_due is not None:
            promise = collections.make_promise(
                locked.case,
                amount_minor=promise_amount_minor,
                due_date=promise_due,
                user=by,
                contact=contact,
                made_on=timezone.localdate(locked.checked_in_at or timezone.now()),
            )
        locked.outcome, locked.notes, locked.evidence = outcome, text, refs
        locked.reported_by, locked.reported_at = by, timezone.now()
        locked.contact, locked.promise = contact, promise
        locked.status = S.REPORTED
        locked.save()
        _event(locked, S.IN_PROGRESS, S.REPORTED, f"reported by {by.get_username()}: {outcome}", by)
    return locked


# --- close, cancel --------------------------------------------------------------------------


def _revoke(visit: FieldVisit, by: Any, reason: str) -> None:
    now = timezone.now()
    for authorisation in visit.authorisations.filter(revoked_at__isnull=True):
        authorisation.revoked_at, authorisation.revoked_reason = now, reason[:400]
        authorisation.save(update_fields=["revoked_at", "revoked_reason"])
        if authorisation.credential_id is not None:
            credentials.revoke(authorisation.credential_id, by=by, reason=reason[:400], at=now)


def close(visit: FieldVisit, *, by: Any) -> FieldVisit:
    """A supervisor closes a reported visit; the authorisation is revoked (its work is done)."""
    visit = FieldVisit.objects.get(pk=visit.pk)  # act on what is stored, not a stale copy
    _supervisor_over(by, visit.case)
    if visit.status != S.REPORTED and visit.is_open:
        raise _refuse("visit-report-required")

    def change(v: FieldVisit) -> str:
        v.closed_at = timezone.now()
        _revoke(v, by, f"visit #{v.pk} closed")
        return f"closed by {by.get_username()}"

    return _move(visit, [S.REPORTED], S.CLOSED, change, actor=by)


def cancel(visit: FieldVisit, *, by: Any, reason: str) -> FieldVisit:
    """Stop an open visit, with a reason, by the requester or a supervisor over the case; the
    authorisation is revoked at once and a queued appointment notice is withdrawn."""
    from arrears.contact.models import OutboxMessage

    if visit.requested_by_id != by.pk:
        _supervisor_over(by, visit.case)
    text = _text(reason, REASON_MAX, "visit-note-required", "reason")

    def change(v: FieldVisit) -> str:
        v.cancel_reason, v.closed_at = text, timezone.now()
        _revoke(v, by, f"visit #{v.pk} cancelled: {text}")
        OutboxMessage.objects.filter(
            key__startswith=f"visit{v.pk}:appointment:", status=OutboxMessage.Status.QUEUED
        ).update(status=OutboxMessage.Status.SUPPRESSED, status_reason="the visit was cancelled")
        return f"cancelled by {by.get_username()}: {text}"

    return _move(visit, list(FieldVisit.OPEN), S.CANCELLED, change, actor=by)
