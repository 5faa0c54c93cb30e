"""The Django side of the compliance gate: build the request and history, decide, record.

The gate itself (``arrears.policy``) is pure; this module gathers what it needs from the
database — the borrower's stored time zone, holds in force, past contacts of every channel and
every collector — and stores each ``Decision`` as a ``GateDecision`` row, so every decision is
recorded and explainable. The pack is ``settings.ARREARS_POLICY_PACK`` (default ``cn``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings

from arrears.collections.frames import REACHED, active_holds
from arrears.collections.models import ContactAttempt
from arrears.contact.models import ContactPreference, GateDecision, OutboxMessage
from arrears.ledger.models import Borrower
from arrears.policy import ContactRecord, ContactRequest, Decision, Hold, Pack, decide, load_pack

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
_DONE = (OutboxMessage.Status.SENT, OutboxMessage.Status.DELIVERED, OutboxMessage.Status.UNCERTAIN)
#: A conversation took place: the borrower was reached, or someone answered for them.
_CONNECTED = REACHED | {ContactAttempt.Outcome.THIRD_PARTY}


@lru_cache(maxsize=8)
def pack(name: str | None = None) -> Pack:
    """The policy pack in force (loaded once per process)."""
    return load_pack(name or getattr(settings, "ARREARS_POLICY_PACK", "cn"))


def history(borrower: Borrower, now: datetime) -> list[ContactRecord]:
    """Every contact with the borrower in the look-back window: messages that left, and calls
    and visits collectors logged (a conversation is a connected call)."""
    since = now - timedelta(days=HISTORY_DAYS)
    person = borrower.ref
    records = [
        ContactRecord(
            at=m.sent_at or m.handed_at or now,
            channel=m.channel,
            action=ACTIONS[m.channel],
            person_id=person,
            debt_id=_debt(m),
        )
        for m in OutboxMessage.objects.filter(
            borrower=borrower, status__in=_DONE, sent_at__gte=since
        )
    ]
    for c in ContactAttempt.objects.filter(case__borrower=borrower, at__gte=since):
        channel = {"call": "voice", "visit": "visit"}.get(c.channel, c.channel)
        action = {"voice": "call"}.get(channel, channel)
        if channel not in ACTIONS and channel != "visit":
            continue
        records.append(
            ContactRecord(
                at=c.at,
                channel=channel,
                action=action,
                person_id=person,
                debt_id=f"case{c.case_id}",
                reached=c.outcome != ContactAttempt.Outcome.NO_ANSWER,
                conversation=c.outcome in _CONNECTED,
            )
        )
    return records


def _debt(message: OutboxMessage) -> str:
    return f"case{message.case_id}" if message.case_id else f"borrower{message.borrower_id}"


def _holds(borrower: Borrower, debt: str, now: datetime) -> tuple[Hold, ...]:
    """Holds in force, as the gate sees them (a loan hold covers the case: conservative)."""
    return tuple(
        Hold(
            kind=h.reason,
            scope="loan" if h.loan_id else "borrower",
            debt_id=debt if h.loan_id else None,
            channels=frozenset(c for c in h.channels if c in ACTIONS),
        )
        for h in active_holds(now.date(), [borrower.pk])
    )


def request_for(
    message: OutboxMessage, now: datetime, text: str, facts: Mapping[str, str]
) -> ContactRequest:
    """The gate's view of one outgoing message."""
    borrower = message.borrower
    holds = _holds(borrower, _debt(message), now)
    preference = ContactPreference.objects.filter(borrower=borrower).first()
    return ContactRequest(
        debt_id=_debt(message),
        person_id=borrower.ref,
        party="borrower",
        channel=message.channel,
        action=ACTIONS[message.channel],
        purpose="collect",
        case_id=str(message.case_id or ""),
        request_id=message.key,
        address=message.to_address or None,
        timezone=borrower.time_zone or None,
        country="CN" if borrower.id_type == Borrower.IdType.CN_RIC else None,
        holds=holds,
        opt_outs=frozenset(preference.opt_outs) if preference else frozenset(),
        cease=preference.cease if preference else False,
        not_at_work=preference.not_at_work if preference else False,
        text=text,
        facts=dict(facts),
    )


def _record(
    decision: Decision, request: ContactRequest, message: OutboxMessage | None = None
) -> Decision:
    """Keep the decision with the request it answered (every decision is recorded)."""
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
            "channel": request.channel,
            "action": request.action,
            "timezone": request.timezone,
            "holds": [h.kind for h in request.holds],
        },
    )
    return decision


def check(message: OutboxMessage, now: datetime, text: str, facts: Mapping[str, str]) -> Decision:
    """Decide and record. A denial is an ordinary answer, never an exception."""
    request = request_for(message, now, text, facts)
    decision = decide(request, history(message.borrower, now), now, pack=pack())
    return _record(decision, request, message)


def check_call(borrower: Borrower, case_id: int | None, now: datetime) -> Decision:
    """May a collector call the borrower now? Asked before every dial; recorded like any other
    decision. The case page shows the answer (and, for a defer, when calling becomes allowed)."""
    phone = borrower.phones.filter(is_valid=True, kind="mobile").order_by("id").first()
    preference = ContactPreference.objects.filter(borrower=borrower).first()
    debt = f"case{case_id}" if case_id else f"borrower{borrower.pk}"
    request = ContactRequest(
        debt_id=debt,
        person_id=borrower.ref,
        party="borrower",
        channel="voice",
        action="call",
        purpose="collect",
        case_id=str(case_id or ""),
        address=phone.number if phone else None,
        timezone=borrower.time_zone or None,
        country="CN" if borrower.id_type == Borrower.IdType.CN_RIC else None,
        holds=_holds(borrower, debt, now),
        opt_outs=frozenset(preference.opt_outs) if preference else frozenset(),
        cease=preference.cease if preference else False,
        not_at_work=preference.not_at_work if preference else False,
    )
    return _record(decide(request, history(borrower, now), now, pack=pack()), request)
