"""What the complaint messages need beyond the standard context: the reference and the dates.

``contact.render`` calls every registered provider for each message it renders; this one answers
only for messages keyed ``complaint:<id>:ack`` or ``complaint:<id>:resolution``.
"""

from __future__ import annotations

from datetime import date

from arrears.complaints.models import Complaint
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import queue_notice

ACK_TEMPLATE = "complaint_acknowledgement"
RESOLUTION_TEMPLATE = "complaint_resolution"


def message_key(complaint: Complaint, what: str) -> str:
    """``complaint:<id>:ack`` or ``complaint:<id>:resolution`` (one message per event)."""
    return f"complaint:{complaint.pk}:{what}"


def queue(complaint: Complaint, what: str, day: date) -> bool:
    """Queue the borrower's ``ack`` or ``resolution`` SMS; False if it already was."""
    template = ACK_TEMPLATE if what == "ack" else RESOLUTION_TEMPLATE
    return queue_notice(
        message_key(complaint, what), complaint.borrower, complaint.case, template, day
    )


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
