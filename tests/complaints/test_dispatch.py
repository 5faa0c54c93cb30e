"""The acknowledgement and resolution SMS are rendered with the real templates and pass the gate
although the complaint's own hold is in force (they are notices, not collection)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from django.utils import timezone

from arrears.complaints import services
from arrears.contact import dispatch
from arrears.contact.models import OutboxMessage
from tests.complaints.conftest import Book


@dataclass
class _Result:
    status: str
    provider_ref: str = ""
    detail: str = ""


@dataclass
class _Recorder:
    name: str = "sms"
    sent: list[Any] = field(default_factory=list)

    def send(self, message: Any) -> _Result:
        self.sent.append(message)
        return _Result("sent", provider_ref=f"ref-{len(self.sent)}", detail="test")


def test_the_acknowledgement_goes_out_through_the_hold(book: Book) -> None:
    complaint = services.file_complaint(
        borrower=book.borrower,
        kind="complaint",
        category="harassment",
        description="Calls at night.",
        channel="phone",
    )
    sms = _Recorder()
    ten = timezone.make_aware(datetime.combine(book.today, time(10)))
    dispatch.dispatch_once({"sms": sms}, now=lambda: ten)
    message = OutboxMessage.objects.get(key=f"complaint:{complaint.pk}:ack")
    assert message.status == OutboxMessage.Status.SENT, message.status_reason
    assert complaint.reference in sms.sent[0].body
