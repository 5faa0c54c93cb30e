"""The Django side of the compliance gate: build the request and history, decide, record.

The gate itself (``arrears.policy``) is pure; this module gathers what it needs from the
database — the borrower's stored time zone, holds in force, consents from callback requests,
past contacts of every channel and every collector — and stores a ``Decision`` as a
``GateDecision`` row when a contact is attempted: a message the dispatcher is about to send
(:func:`check`) or a contact a collector logs (:func:`decide_contact` then :func:`record`).
Asking what the gate *would* say — the case page's "Calling now" — records nothing
(:func:`check_call`), so the compliance record holds only decisions about real contacts.
The pack is ``settings.ARREARS_POLICY_PACK`` (default ``cn``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from arrears.collections.frames import REACHED, active_holds
from arrears.collections.models import ContactAttempt
from arrears.collections.models import Hold as HoldRow
from arrears.contact.models import ContactPreference, GateDecision, OutboxMessage
from arrears.ledger.models import Borrower, Phone
from arrears.policy import (
    ContactRecord,
    ContactRequest,
    Decision,
    Hold,
    Pack,
    decide,
    load_pack,
)
from arrears.policy.gate import consented_at
from arrears.policy.model import Consent, Effect, FiredRule, HoursParams

#: How far back the gate looks (the longest rolling window of any shipped pack is 7 days).
HISTORY_DAYS = 30
#: Outbox channel → the gate's action on that channel (the outbox's voice messages are
#: robocalls; a collector's calls are logged contacts, action ``call``).
ACTIONS = {
    "sms": "sms",
    "voice": "robocall",
    "email": "email",
    "letter": "letter",
    "in_app": "in_app",
}
#: A logged contact's channel → the gate's (channel, action).
LOGGED = {
    "call": ("voice", "call"),
    "sms": ("sms", "sms"),
    "email": ("email", "email"),
    "letter": ("letter", "letter"),
    "visit": ("visit", "visit"),
    "in_app": ("in_app", "in_app"),
}
#: A logged contact's party → the gate's party and the purpose of contacting them: a
#: co-borrower owes the debt like a guarantor; anyone else is contacted only to find the borrower.
PARTIES = {
    "borrower": ("borrower", "collect"),
    "co_borrower": ("guarantor", "collect"),
    "emergency_contact": ("emergency_contact", "locate"),
    "third_party": ("third_party", "locate"),
}
#: A hold's channels (the strategy's) → the gate's channels; placements stop nobody's phone.
HOLD_CHANNELS = {
    "sms": "sms",
    "voice": "voice",
    "call_task": "voice",
    "email": "email",
    "letter": "letter",
    "in_app": "in_app",
    "visit_request": "visit",
}
#: The borrower picked up: every outcome that needs them on the line, whatever was said.
ANSWERED = REACHED | {ContactAttempt.Outcome.HUNG_UP}
#: The number never connected, or connected to someone else.
_NOT_ANSWERED = {ContactAttempt.Outcome.NO_ANSWER, ContactAttempt.Outcome.WRONG_NUMBER}
_DONE = (OutboxMessage.Status.SENT, OutboxMessage.Status.DELIVERED, OutboxMessage.Status.UNCERTAIN)


def pack(name: str | None = None) -> Pack:
    """The policy pack in force: ``name``, else ``settings.ARREARS_POLICY_PACK`` as it is now
    (read on every call, so a changed setting takes effect; each pack is loaded once)."""
    return _load(name or getattr(settings, "ARREARS_POLICY_PACK", "cn"))


@lru_cache(maxsize=8)
def _load(name: str) -> Pack:
    return load_pack(name)


def person_of(borrower: Borrower, party: str, phone: Phone | None) -> str:
    """The gate's id of the person a logged contact reached: the borrower (or co-borrower)
    by reference; anyone else by the number used, so each third party has their own count."""
    if party in ("borrower", "co_borrower"):
        return borrower.ref
    return f"{borrower.ref}/{party}/{f'phone{phone.pk}' if phone else 'unknown'}"


def _logged_record(
    c: ContactAttempt, borrower: Borrower, consents: Iterable[Consent]
) -> ContactRecord | None:
    """A logged contact as the gate's history sees it (``None`` for a channel it ignores)."""
    if c.channel not in LOGGED:
        return None
    channel, action = LOGGED[c.channel]
    person = person_of(borrower, c.party, c.phone)
    if c.party in ("borrower", "co_borrower"):
        answered = c.outcome in ANSWERED
    else:  # a third party answering is the person of this record
        answered = c.outcome not in _NOT_ANSWERED
    debt = f"case{c.case_id}"
    record = ContactRecord(
        at=c.at,
        channel=channel,
        action=action,
        person_id=person,
        debt_id=debt,
        address=c.phone.number if c.phone else None,
        reached=c.outcome != ContactAttempt.Outcome.NO_ANSWER,
        answered=answered,
        conversation=answered and channel == "voice",
    )
    consented = any(
        k.by == person
        and k.debt_id in (None, debt)
        and channel in k.channels
        and max(k.starts, k.given_at) <= c.at < k.ends
        for k in consents
    )
    return replace(record, consented=True) if consented else record


def history(
    borrower: Borrower, now: datetime, consents: list[Consent] | None = None
) -> list[ContactRecord]:
    """Every contact with the borrower (and the people around them) up to ``now`` in the
    look-back window: messages that left (not service messages, see ``service_templates``),
    and contacts collectors logged. A contact at the
    very instant ``now`` counts (a batch dispatched on one clock reading must see its own
    earlier sends; the contact being decided is not stored yet).

    A logged call is ``answered`` when its outcome needs the borrower on the line (a promise,
    a refusal, a dispute, a hang-up after answering…), whatever the collector wrote — that is
    what the CN cap on connected calls counts — and ``consented`` when it fell inside a window
    the person had asked to be called in. A robocall counts as answered only once the provider
    reported it delivered. ``consents`` are ``consents_of(borrower, now - HISTORY_DAYS)``
    when the caller has read them.
    """
    since = now - timedelta(days=HISTORY_DAYS)
    person = borrower.ref
    records = [
        ContactRecord(
            at=m.sent_at or m.handed_at or now,
            channel=m.channel,
            action=ACTIONS[m.channel],
            person_id=person,
            debt_id=_debt(m),
            answered=(m.status == OutboxMessage.Status.DELIVERED) if m.channel == "voice" else None,
        )
        for m in OutboxMessage.objects.filter(
            borrower=borrower, status__in=_DONE, sent_at__gte=since, sent_at__lte=now
        ).exclude(template__in=service_templates())
    ]
    if consents is None:
        consents = consents_of(borrower, since)
    for c in ContactAttempt.objects.filter(
        case__borrower=borrower, at__gte=since, at__lte=now
    ).select_related("phone"):
        record = _logged_record(c, borrower, consents)
        if record is not None:
            records.append(record)
    return records


def service_templates() -> list[str]:
    """Templates of *service* messages (a sign-in code the person asked for): not contacts, so
    they never count toward a contact cap (a borrower signing in at noon must not spend the
    day's one reminder)."""
    from arrears.notices.context import SPECS

    return [code for code, spec in SPECS.items() if spec.purpose == "service"]


def consents_of(borrower: Borrower, since: datetime) -> list[Consent]:
    """The prior consents people gave on this borrower's cases (callback requests with a
    window) whose window had not ended by ``since``."""
    rows = ContactAttempt.objects.filter(
        case__borrower=borrower, consent_ends__gt=since, consent_starts__isnull=False
    ).select_related("phone")
    return [
        Consent(
            by=person_of(borrower, c.consent_by or c.party, c.phone),
            given_at=c.at,
            starts=c.consent_starts,
            ends=c.consent_ends,
            channels=frozenset({"voice"}),
            debt_id=f"case{c.case_id}",
        )
        for c in rows
        if c.consent_starts is not None and c.consent_ends is not None
    ]


def _debt(message: OutboxMessage) -> str:
    return f"case{message.case_id}" if message.case_id else f"borrower{message.borrower_id}"


def _days(now: datetime) -> tuple[date, ...]:
    """The days whose holds stop a contact at ``now``: the local date of ``now`` and the
    business date the workflow stands on (the case page shows holds in force on that date; a
    hold it shows as in force must stop the call too, even when the two dates differ)."""
    from arrears.collections.workflow import business_date

    return tuple(sorted({timezone.localdate(now), business_date()}))


def holds_in_force(borrower: Borrower, now: datetime) -> list[HoldRow]:
    """The borrower's holds in force at ``now`` (see ``_days``), each once, by end date."""
    found: dict[int, HoldRow] = {}
    for day in _days(now):
        for hold in active_holds(day, [borrower.pk]):
            found.setdefault(hold.pk, hold)
    return sorted(found.values(), key=lambda h: (h.ends_on, h.pk))


def last_day(hold: HoldRow) -> date:
    """The hold's last day in force: its end, or the day before its release."""
    if hold.released_on is not None:
        return min(hold.ends_on, hold.released_on - timedelta(days=1))
    return hold.ends_on


def _holds(borrower: Borrower, debt: str, now: datetime) -> tuple[Hold, ...]:
    """Holds in force, as the gate sees them (a loan hold covers the case: conservative)."""
    return tuple(
        Hold(
            kind=h.reason,
            scope="loan" if h.loan_id else "borrower",
            debt_id=debt if h.loan_id else None,
            channels=frozenset(HOLD_CHANNELS[c] for c in h.channels if c in HOLD_CHANNELS),
            until=last_day(h),
        )
        for h in holds_in_force(borrower, now)
    )


def _preference(borrower: Borrower) -> ContactPreference | None:
    return ContactPreference.objects.filter(borrower=borrower).first()


def _preferences(preference: ContactPreference | None) -> dict[str, Any]:
    """The preference fields the pack's own rules read (opt-out, cease, not at work)."""
    return {
        "opt_outs": frozenset(preference.opt_outs) if preference else frozenset(),
        "cease": preference.cease if preference else False,
        "not_at_work": preference.not_at_work if preference else False,
    }


# ---------------------------------------------------------------- the borrower's own requests
#
# Preferred hours and the revoked emergency contacts are the borrower's requests, not a law's,
# so they are checked here, after the pack's gate and whatever the pack is: they only ever
# turn an ``allow`` into a ``defer`` or a ``deny`` (never the reverse), and they fire as rules
# of their own, recorded with the decision like any other.

#: Rule id when a contact falls outside the borrower's preferred hours.
PREFERRED_HOURS = "borrower.preferred-hours"
#: Rule id when a third party is contacted although the borrower revoked it.
NO_EMERGENCY_CONTACTS = "borrower.no-emergency-contacts"
#: Channels whose contacts have a time of day (the pack's hours cover the same; a letter
#: arrives whenever the post comes).
TIMED_CHANNELS = frozenset({"voice", "sms", "email", "in_app", "visit"})
#: Parties the borrower's revocation covers: anyone contacted about them who does not owe.
REVOCABLE_PARTIES = frozenset({"emergency_contact", "third_party"})


def pack_hours(name: str | None = None) -> tuple[time, time | None]:
    """The local hours every contact-hours rule of the pack allows on every day: the latest
    start and the earliest end (``None`` for midnight) of each rule's widest window. A
    preferred window must lie inside them."""
    start, end = 0, 86_400
    for rule in pack(name).rules:
        if isinstance(rule.params, HoursParams) and rule.params.windows:
            start = max(start, min(w.start for w in rule.params.windows))
            end = min(end, max(w.end for w in rule.params.windows))
    return (
        time(start // 3600, start % 3600 // 60),
        None if end >= 86_400 else time(end // 3600, end % 3600 // 60),
    )


def _zone(borrower: Borrower) -> ZoneInfo:
    """The borrower's stored zone, else the lender's: the zone the portal shows the hours in."""
    return ZoneInfo(borrower.time_zone or settings.TIME_ZONE)


def next_preferred(at: datetime, zone: ZoneInfo, start: time, end: time) -> datetime:
    """The earliest instant ``>= at`` whose local wall time in ``zone`` is in ``[start, end)``."""
    wall = at.astimezone(zone)
    clock = wall.time().replace(tzinfo=None)
    if start <= clock < end:
        return at
    day = wall.date() if clock < start else wall.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=zone)


def _preference_rule(rule_id: str, effect: Effect, message: str, en: str, zh: str) -> FiredRule:
    return FiredRule(
        rule_id=rule_id,
        kind="borrower_preference",
        effect=effect,
        message=message,
        citation="the borrower's own request (contact.ContactPreference)",
        confidence="H",
        description_en=en,
        description_zh=zh,
    )


def apply_preferences(
    decision: Decision,
    request: ContactRequest,
    preference: ContactPreference | None,
    zone: ZoneInfo,
    now: datetime,
) -> Decision:
    """The pack's ``decision`` narrowed by the borrower's own requests.

    * Emergency contacts revoked: a contact with an emergency contact or another third party
      is denied (the rule is added even when the pack denies too, so the record says why
      whatever the borrower's reachability).
    * Preferred hours: a contact with the borrower (not a service message they asked for, not
      a call inside a window they consented to) outside their preferred hours is deferred to
      the next preferred time — from ``now`` when the pack allowed it, from the pack's own next
      allowed time when it deferred. The dispatcher asks again then, so the pack still has the
      last word at that instant.
    """
    if preference is None:
        return decision
    if preference.no_emergency_contacts and request.party in REVOCABLE_PARTIES:
        fired = _preference_rule(
            NO_EMERGENCY_CONTACTS,
            "deny",
            "the borrower revoked contact with their emergency contacts and other third parties",
            "The borrower asked us not to contact their emergency contacts or anyone else.",
            "借款人已要求不再联系其紧急联系人及其他第三方。",
        )
        return replace(decision, outcome="deny", next_allowed=None, fired=(*decision.fired, fired))
    start, end = preference.preferred_from, preference.preferred_until
    if (
        decision.outcome == "deny"
        or start is None
        or end is None
        or request.party != "borrower"
        or request.purpose == "service"
        or request.channel not in TIMED_CHANNELS
        or consented_at(request, now)
    ):
        return decision
    base = decision.next_allowed if decision.outcome == "defer" else now
    if base is None:
        return decision
    later = next_preferred(base, zone, start, end)
    if later == base:
        return decision
    window = f"{start:%H:%M}–{end:%H:%M}"
    fired = _preference_rule(
        PREFERRED_HOURS,
        "defer",
        f"{base.astimezone(zone):%a %H:%M} local time is outside the borrower's preferred "
        f"hours {window} ({zone.key})",
        f"The borrower asked to be contacted only between {window}.",
        f"借款人要求仅在 {window} 之间联系。",
    )
    shown = decision.next_allowed.tzinfo if decision.next_allowed is not None else zone
    return replace(
        decision,
        outcome="defer",
        next_allowed=later.astimezone(shown),
        fired=(*decision.fired, fired),
    )


def request_for(
    message: OutboxMessage, now: datetime, text: str, facts: Mapping[str, str]
) -> ContactRequest:
    """The gate's view of one outgoing message.

    Its purpose is the template's (``notices.context.purpose_of``): a complaint's
    acknowledgement is a *notice*, which the packs let through the complaint's own hold.
    """
    from arrears.notices.context import purpose_of

    borrower = message.borrower
    return ContactRequest(
        debt_id=_debt(message),
        person_id=borrower.ref,
        party="borrower",
        channel=message.channel,
        action=ACTIONS[message.channel],
        purpose=purpose_of(message.template),
        case_id=str(message.case_id or ""),
        request_id=message.key,
        address=message.to_address or None,
        timezone=borrower.time_zone or None,
        country="CN" if borrower.id_type == Borrower.IdType.CN_RIC else None,
        holds=_holds(borrower, _debt(message), now),
        text=text,
        facts=dict(facts),
        **_preferences(_preference(borrower)),
    )


def record(
    decision: Decision,
    request: ContactRequest,
    message: OutboxMessage | None = None,
    **extra: Any,
) -> Decision:
    """Keep the decision with the request it answered, for a contact that was attempted.

    ``extra`` goes into the stored request: for a logged contact its id, who logged it and —
    when the gate had said no — the override reason (``overridden: true``), so compliance can
    list every contact made against the gate (``request__overridden=True``).
    """
    GateDecision.objects.create(
        message=message,
        at=decision.decided_at,
        outcome=decision.outcome,
        pack=f"{decision.pack_name} v{decision.pack_version}",
        rules=[
            {"id": f.rule_id, "citation": f.citation, "message": f.message} for f in decision.fired
        ],
        next_allowed=decision.next_allowed,
        request={
            "debt": request.debt_id,
            "person": request.person_id,
            "party": request.party,
            "channel": request.channel,
            "action": request.action,
            "timezone": request.timezone,
            "holds": [h.kind for h in request.holds],
            "consented": consented_at(request, decision.decided_at),
            **extra,
        },
    )
    return decision


def check(message: OutboxMessage, now: datetime, text: str, facts: Mapping[str, str]) -> Decision:
    """Decide and record. A denial is an ordinary answer, never an exception."""
    request = request_for(message, now, text, facts)
    decision = decide(request, history(message.borrower, now), now, pack=pack())
    borrower = message.borrower
    decision = apply_preferences(decision, request, _preference(borrower), _zone(borrower), now)
    return record(decision, request, message)


def _unreachable(records: Iterable[ContactRecord], person: str) -> bool:
    """失联: the borrower was called (or visited) and every attempt since the last one they
    answered failed. Messages that went out say nothing about whether anyone is there."""
    mine = sorted(
        (r for r in records if r.person_id == person and r.action in ("call", "visit")),
        key=lambda r: r.at,
    )
    return bool(mine) and not mine[-1].connected


@dataclass(frozen=True, slots=True)
class ContactCheck:
    """The gate's answer for one contact, with the request it answered (to record both)."""

    request: ContactRequest
    decision: Decision


def decide_contact(
    borrower: Borrower,
    case_id: int | None,
    at: datetime,
    *,
    channel: str = "call",
    party: str = "borrower",
    phone: Phone | None = None,
    visitors: tuple[str, ...] = (),
    phones: list[Phone] | None = None,
) -> ContactCheck:
    """What the gate says about a collector's contact at ``at`` (a logged channel and party,
    see ``LOGGED`` and ``PARTIES``), given every contact before it. Records nothing.
    ``phones``: all the borrower's phones by id, when the caller has read them."""
    gate_channel, action = LOGGED[channel]
    gate_party, purpose = PARTIES[party]
    debt = f"case{case_id}" if case_id else f"borrower{borrower.pk}"
    if phone is None and channel == "call" and party == "borrower":
        phone = _mobile(borrower, phones)
    # consents whose window is still open at ``at`` are among those open at the start of the
    # look-back window: read once, for the history and for the request
    consents = consents_of(borrower, at - timedelta(days=HISTORY_DAYS))
    past = history(borrower, at, consents)
    person = person_of(borrower, party, phone)
    preference = _preference(borrower)
    request = ContactRequest(
        debt_id=debt,
        person_id=person,
        party=gate_party,
        channel=gate_channel,
        action=action,
        purpose=purpose,
        case_id=str(case_id or ""),
        address=phone.number if phone else None,
        timezone=borrower.time_zone or None,
        country="CN" if borrower.id_type == Borrower.IdType.CN_RIC else None,
        holds=_holds(borrower, debt, at),
        unreachable=gate_party != "borrower"
        and (
            not borrower.phones.filter(is_valid=True).exists() or _unreachable(past, borrower.ref)
        ),
        consents=tuple(c for c in consents if c.ends > at and c.by == person),
        visitors=visitors,
        to_workplace=phone is not None and phone.kind == Phone.Kind.WORK,
        **_preferences(preference),
    )
    decision = decide(request, past, at, pack=pack())
    return ContactCheck(
        request, apply_preferences(decision, request, preference, _zone(borrower), at)
    )


def check_call(
    borrower: Borrower, case_id: int | None, now: datetime, *, phones: list[Phone] | None = None
) -> Decision:
    """May a collector call the borrower now? What the case page shows before anyone dials.

    Nothing is recorded: a page view is not a contact. The decision is recorded when the call
    is logged (``collections.services.log_contact``). ``phones``: all the borrower's phones by
    id, when the caller has read them (the case page has)."""
    return decide_contact(borrower, case_id, now, phones=phones).decision


def _mobile(borrower: Borrower, phones: list[Phone] | None) -> Phone | None:
    """The number a call to the borrower goes to: their first valid mobile (by id), picked
    from ``phones`` (all theirs, by id) when given."""
    if phones is None:
        return borrower.phones.filter(is_valid=True, kind="mobile").order_by("id").first()
    return next((p for p in phones if p.is_valid and p.kind == Phone.Kind.MOBILE), None)


def overridden(since: datetime | None = None) -> Any:
    """Gate decisions of contacts logged against the gate's answer (for compliance lists)."""
    rows = GateDecision.objects.filter(request__overridden=True)
    return rows.filter(at__gte=since) if since is not None else rows
