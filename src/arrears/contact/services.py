"""Recording what a borrower asked about being contacted: opt-outs, cease, not at work, the
channel and hours they prefer, and whether their emergency contacts may be called."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from arrears import errorcodes
from arrears.contact.models import ContactPreference
from arrears.kernel.errors import ArrearsError
from arrears.ledger.models import Borrower
from arrears.policy.model import CHANNELS


class ContactError(ArrearsError):
    code = "contact-invalid"


errorcodes.define(
    {
        "preference-unknown-channels": "unknown channel(s) %(channels)s",
        "preference-source": "say how the request came (call, letter, portal …)",
        "preference-channel": "%(channel)s is not a channel you can prefer",
        "preference-channel-opted-out": "you cannot prefer %(channel)s and also refuse it",
        "preference-hours-both": "give both the start and the end of your preferred hours",
        "preference-hours-order": "the preferred hours must end after they start",
        "preference-hours-short": "the preferred hours must be at least %(minutes)s minutes long",
        "preference-hours-outside": (
            "the preferred hours must be within the hours we may contact anyone, "
            "%(start)s to %(end)s"
        ),
    }
)

#: Channels a borrower may name as preferred (the outbox's and a collector's phone).
PREFERRED_CHANNELS = ("sms", "voice", "email", "letter", "in_app")
#: The shortest preferred window: a borrower narrows *when*, never stops contact by the hours.
MIN_PREFERRED_MINUTES = 60


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def check_hours(start: time | None, end: time | None) -> tuple[time, time] | None:
    """Validate a preferred window: both ends or neither, at least ``MIN_PREFERRED_MINUTES``
    long, inside the pack's contact hours (a preference narrows when we contact, it cannot
    ask for a time the law forbids). ``None`` when neither end is given."""
    from arrears.contact.gate import pack_hours

    if start is None and end is None:
        return None
    if start is None or end is None:
        raise errorcodes.refuse(ContactError, "preference-hours-both", field="preferred_from")
    if end <= start:
        raise errorcodes.refuse(ContactError, "preference-hours-order", field="preferred_until")
    if _minutes(end) - _minutes(start) < MIN_PREFERRED_MINUTES:
        raise errorcodes.refuse(
            ContactError,
            "preference-hours-short",
            field="preferred_until",
            minutes=MIN_PREFERRED_MINUTES,
        )
    first, last = pack_hours()
    if start < first or (last is not None and end > last):
        raise errorcodes.refuse(
            ContactError,
            "preference-hours-outside",
            field="preferred_from",
            start=first.strftime("%H:%M"),
            end=last.strftime("%H:%M") if last is not None else "24:00",
        )
    return start, end


def _clock(t: time | None) -> str:
    return t.strftime("%H:%M") if t is not None else ""


def set_preferences(
    borrower: Borrower,
    *,
    opt_outs: list[str] | None = None,
    cease: bool | None = None,
    not_at_work: bool | None = None,
    preferred_channel: str | None = None,
    preferred_hours: tuple[time | None, time | None] | None = None,
    no_emergency_contacts: bool | None = None,
    source: str,
    user: Any = None,
    at: datetime | None = None,
) -> ContactPreference:
    """Record the borrower's request; every change is appended to the preference's history.

    ``None`` leaves a field as it is; ``preferred_hours=(None, None)`` and
    ``preferred_channel=""`` clear those preferences.
    """
    unknown = sorted(set(opt_outs or ()) - CHANNELS)
    if unknown:
        raise errorcodes.refuse(
            ContactError, "preference-unknown-channels", field="opt_outs", channels=unknown
        )
    if not source.strip():
        raise errorcodes.refuse(ContactError, "preference-source", field="source")
    if preferred_channel and preferred_channel not in PREFERRED_CHANNELS:
        raise errorcodes.refuse(
            ContactError,
            "preference-channel",
            field="preferred_channel",
            channel=repr(preferred_channel[:20]),
        )
    window = check_hours(*preferred_hours) if preferred_hours is not None else None
    with transaction.atomic():
        preference, _ = ContactPreference.objects.select_for_update().get_or_create(
            borrower=borrower
        )
        if opt_outs is not None:
            preference.opt_outs = sorted(set(opt_outs))
        if cease is not None:
            preference.cease = cease
        if not_at_work is not None:
            preference.not_at_work = not_at_work
        if preferred_channel is not None:
            preference.preferred_channel = preferred_channel
        if preferred_hours is not None:
            preference.preferred_from, preference.preferred_until = window or (None, None)
        if no_emergency_contacts is not None:
            preference.no_emergency_contacts = no_emergency_contacts
        if preference.preferred_channel and preference.preferred_channel in preference.opt_outs:
            raise errorcodes.refuse(
                ContactError,
                "preference-channel-opted-out",
                field="preferred_channel",
                channel=preference.preferred_channel,
            )
        preference.history = [
            *preference.history,
            {
                "at": (at or timezone.now()).isoformat(),
                "source": source,
                "by": user.get_username() if user is not None else "",
                "opt_outs": preference.opt_outs,
                "cease": preference.cease,
                "not_at_work": preference.not_at_work,
                "preferred_channel": preference.preferred_channel,
                "preferred_hours": [
                    _clock(preference.preferred_from),
                    _clock(preference.preferred_until),
                ],
                "no_emergency_contacts": preference.no_emergency_contacts,
            },
        ]
        preference.save()
    return preference
