"""The outbox and dispatcher with a recording channel: claims, gate, re-checks, recovery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from arrears.contact import dispatch
from arrears.contact.models import GateDecision, OutboxMessage
from arrears.contact.outbox import enqueue_due
from arrears.ledger import models
from arrears.ledger import services as ledger
from tests.contact.conftest import DAY, Recorder, Result, at

pytestmark = pytest.mark.usefixtures("plain_templates")


def test_enqueue_is_idempotent(book: list[models.Borrower]) -> None:
    assert enqueue_due(DAY) == 3
    assert enqueue_due(DAY) == 0
    assert OutboxMessage.objects.count() == 3


def test_messages_go_out_once_with_the_residual_as_of_sending(book: list[models.Borrower]) -> None:
    enqueue_due(DAY)
    sms = Recorder()
    summary = dispatch.dispatch_once({"sms": sms}, now=lambda: at(10))
    assert (summary.claimed, summary.sent) == (3, 3)
    assert len({m.to for m in sms.sent}) == 3
    again = dispatch.dispatch_once({"sms": sms}, now=lambda: at(10, 5))
    assert again.claimed == 0 and len(sms.sent) == 3
    message = OutboxMessage.objects.get(borrower=book[0])
    assert message.status == "sent" and message.amount_due_minor > 0
    assert str(message.amount_due_minor // 100) in message.body.replace(",", "")
    assert message.work_item.status == "done"
    assert GateDecision.objects.filter(message=message, outcome="allow").exists()


def test_a_borrower_who_paid_before_dispatch_gets_nothing(book: list[models.Borrower]) -> None:
    enqueue_due(DAY)
    loan = models.Loan.objects.get(ref="L0")
    ledger.record_payment(
        loan=loan, ref="PAY", value_date=DAY, amount_minor=200_000, currency="CNY"
    )
    sms = Recorder()
    dispatch.dispatch_once({"sms": sms}, now=lambda: at(10))
    paid = OutboxMessage.objects.get(borrower=book[0])
    assert paid.status == "suppressed"
    assert paid.status_reason == (
        f"nothing is overdue as of {DAY} 10:00: CN¥2,000.00 paid since {DAY}"
    )
    assert {m.to for m in sms.sent} == {"+8613800000001", "+8613800000002"}


def test_the_gate_defers_a_night_time_message_to_the_morning(
    book: list[models.Borrower], settings: Any
) -> None:
    settings.ARREARS_MESSAGE_VALID_DAYS = {"sms": 1}  # still worth sending tomorrow
    enqueue_due(DAY)
    sms = Recorder()
    summary = dispatch.dispatch_once({"sms": sms}, now=lambda: at(22, 30))
    assert summary.deferred == 3 and not sms.sent
    message = OutboxMessage.objects.get(borrower=book[0])
    assert message.status == "queued"
    assert message.not_before == at(8, 0, DAY + timedelta(days=1))
    decision = GateDecision.objects.get(message=message)
    assert decision.outcome == "defer" and decision.rules[0]["id"] == "cn.hours"
    morning = dispatch.dispatch_once({"sms": sms}, now=lambda: at(8, 0, DAY + timedelta(days=1)))
    assert morning.sent == 3


def test_a_complaint_hold_denies_and_says_why(book: list[models.Borrower]) -> None:
    from arrears.collections.models import Hold

    enqueue_due(DAY)
    Hold.objects.create(
        borrower=book[1], reason="complaint", starts_on=DAY, ends_on=DAY + timedelta(days=30)
    )
    sms = Recorder()
    dispatch.dispatch_once({"sms": sms}, now=lambda: at(10))
    held = OutboxMessage.objects.get(borrower=book[1])
    assert held.status == "suppressed" and "complaint" in held.status_reason
    assert held.work_item.status == "suppressed"
    assert len(sms.sent) == 2


def test_transient_failures_back_off_then_fail(book: list[models.Borrower]) -> None:
    enqueue_due(DAY)
    flaky = Recorder(answer="retry")
    for hour in range(dispatch.MAX_ATTEMPTS):
        dispatch.dispatch_once({"sms": flaky}, now=lambda hour=hour: at(10 + hour))
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"failed"}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {dispatch.MAX_ATTEMPTS}


def test_only_one_dispatcher_wins_a_claim(book: list[models.Borrower]) -> None:
    enqueue_due(DAY)
    first = dispatch.claim("one", at(10), 10, dispatch.DEFAULT_LEASE)
    second = dispatch.claim("two", at(10), 10, dispatch.DEFAULT_LEASE)
    assert len(first) == 3 and second == []


def test_a_dead_dispatchers_claims_are_recovered_without_sending_twice(
    book: list[models.Borrower],
) -> None:
    enqueue_due(DAY)
    claimed = dispatch.claim("dead", at(10), 10, timedelta(minutes=1))
    handed = OutboxMessage.objects.get(pk=claimed[0])
    OutboxMessage.objects.filter(pk=handed.pk).update(handed_at=at(10))
    sms = Recorder()
    summary = dispatch.dispatch_once({"sms": sms}, now=lambda: at(10, 2))
    assert (summary.recovered, summary.uncertain, summary.sent) == (2, 1, 2)
    handed.refresh_from_db()
    assert handed.status == "uncertain"  # maybe delivered: never re-sent automatically
    assert len(sms.sent) == 2


def test_an_sms_opt_out_stops_sms_for_that_borrower_only(book: list[models.Borrower]) -> None:
    from arrears.contact.services import ContactError, set_preferences

    with pytest.raises(ContactError, match="unknown channel"):
        set_preferences(book[2], opt_outs=["pigeon"], source="call")
    set_preferences(book[2], opt_outs=["sms"], source="call on 2026-02-15")
    enqueue_due(DAY)
    sms = Recorder()
    dispatch.dispatch_once({"sms": sms}, now=lambda: at(10))
    opted = OutboxMessage.objects.get(borrower=book[2])
    assert opted.status == "suppressed" and "opt" in opted.status_reason.lower()
    assert len(sms.sent) == 2


def test_a_timeout_after_the_request_left_is_never_retried(book: list[models.Borrower]) -> None:
    enqueue_due(DAY)
    unknown = Recorder(answer="retry")
    unknown.send = lambda message: Result("retry", detail="outcome unknown: read timeout")  # type: ignore[method-assign]
    dispatch.dispatch_once({"sms": unknown}, now=lambda: at(10))
    dispatch.dispatch_once({"sms": unknown}, now=lambda: at(12))
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"uncertain"}
