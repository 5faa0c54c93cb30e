"""What the complaint messages need beyond the standard context: the reference and the dates.

``contact.render`` calls every registered provider for each message it renders; this one answers
only for messages keyed ``complaint:<id>:ack`` or ``complaint:<id>:resolution``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from arrears.complaints.models import Complaint
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import LOCALES, valid_days

ACK_TEMPLATE = "complaint_acknowledgement"
RESOLUTION_TEMPLATE = "complaint_resolution"
CHANNEL = "sms"
#: A complaint notice stays worth sending this long when the setting does not name it: long
#: enough to wait out quiet hours and a weekend.
DEFAULT_VALID_DAYS = 3


def message_key(complaint: Complaint, what: str) -> str:
    """``complaint:<id>:ack`` or ``complaint:<id>:resolution`` (one message per event)."""
    return f"complaint:{complaint.pk}:{what}"


def queue(complaint: Complaint, what: str, day: date) -> bool:
    """Queue the borrower's ``ack`` or ``resolution`` SMS; False if it already was."""
    template = ACK_TEMPLATE if what == "ack" else RESOLUTION_TEMPLATE
    borrower = complaint.borrower
    days = valid_days(CHANNEL, template) or DEFAULT_VALID_DAYS
    _, created = OutboxMessage.objects.get_or_create(
        key=message_key(complaint, what),
        defaults={
            "borrower": borrower,
            "case": complaint.case,
            "channel": CHANNEL,
            "template": template,
            "locale": LOCALES.get(borrower.locale, "zh-CN"),
            "not_before": timezone.make_aware(datetime.combine(day, time.min)),
            "due_on": day,
            "expires_at": timezone.make_aware(
                datetime.combine(day + timedelta(days=days + 1), time.min)
            ),
        },
    )
    return created


def complaint_extra(message: OutboxMessage) -> dict[str, str]:
    """``complaint_ref``, ``reply_by`` (and for a resolution ``complaint_outcome``)."""
    if message.template not in (ACK_TEMPLATE, RESOLUTION_TEMPLATE):
        return {}
    parts = message.key.split(":")
    if len(parts) != 3 or parts[0] != "complaint" or not parts[1].isdigit():
        return {}
    found = Complaint.objects.filter(pk=int(parts[1])).first()
    if found is None:
        return {}
    extra = {"complaint_ref": found.reference, "reply_by": found.resolve_by.isoformat()}
    if message.template == RESOLUTION_TEMPLATE:
        zh = message.locale == "zh-CN"
        if found.upheld:
            extra["complaint_outcome"] = "成立" if zh else "upheld"
        else:
            extra["complaint_outcome"] = "不成立" if zh else "not upheld"
    return extra
