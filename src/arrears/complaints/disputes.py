"""A "disputes the debt" outcome a collector logs files a dispute (kind dispute, channel
collector) through ``services.file_complaint``, so it gets the SLA clock, the register entry,
the acknowledgement and a hold that lasts until it is resolved — instead of the fixed 30-day
outcome hold it used to get. Registered with ``collections.outcomes.handle_outcome``; runs in
the contact's transaction, so the contact and its complaint commit together.
"""

from __future__ import annotations

from arrears.collections.models import ContactAttempt
from arrears.complaints import services
from arrears.complaints.models import DESCRIPTION_MAX, Complaint


def description(attempt: ContactAttempt) -> str:
    """The collector's note, or a plain line naming the contact when they left none."""
    note = (attempt.note or "").strip()
    said = f"disputed on {attempt.channel} contact #{attempt.pk}"
    text = f"{said}: {note}" if note else said
    return text[:DESCRIPTION_MAX]


def file_from_contact(attempt: ContactAttempt) -> None:
    """The ``dispute`` outcome handler."""
    case = attempt.case
    services.file_complaint(
        borrower=case.borrower,
        kind=Complaint.Kind.DISPUTE,
        category=Complaint.Category.OTHER,
        description=description(attempt),
        channel=Complaint.Channel.COLLECTOR,
        received_at=attempt.at,
        by=attempt.collector,
        case=case,
        contacts=[attempt],
        about_people=False,
    )
