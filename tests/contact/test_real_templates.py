"""The dispatcher with the shipped templates: today's residual in the text, passed by the gate."""

from __future__ import annotations

from arrears.contact import dispatch
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import enqueue_due
from arrears.ledger import models
from tests.contact.conftest import DAY, Recorder, at


def test_a_shipped_reminder_goes_out_with_todays_amount_and_a_code(
    book: list[models.Borrower],
) -> None:
    enqueue_due(DAY)
    sms = Recorder()
    summary = dispatch.dispatch_once({"sms": sms}, now=lambda: at(10))
    assert summary.sent == 3, OutboxMessage.objects.values_list("status_reason", flat=True)
    message = OutboxMessage.objects.get(borrower=book[0])
    amount = f"{message.amount_due_minor // 100:,}.{message.amount_due_minor % 100:02d}"
    assert amount in message.body and message.verification_code in message.body
    assert message.decisions.get().outcome == "allow"
