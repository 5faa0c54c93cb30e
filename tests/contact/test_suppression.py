"""Every message that is not sent says the true cause (issue 9): a pre-due reminder is about
the instalment coming due, never "nothing is owed" for a borrower who owes it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from arrears.collections import strategies
from arrears.collections.models import Hold
from arrears.collections.workflow import evaluate_day
from arrears.contact import dispatch
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import enqueue_due
from arrears.contact.services import set_preferences
from arrears.daily.services import day_run
from arrears.formatting import format_money
from arrears.kernel.money import Money
from arrears.ledger import models, selectors
from arrears.ledger import services as ledger
from tests import factories
from tests.contact.conftest import Recorder, at

pytestmark = pytest.mark.usefixtures("plain_templates")

REMIND = date(2026, 2, 12)  # three days before the first instalment falls due (15 Feb)
DUE = date(2026, 2, 15)


@pytest.fixture
def pre_due(db: None, settings: Any) -> models.Borrower:
    """A borrower with the pre-due reminder of 12 Feb queued (valid for a week, so that a late
    dispatcher still sees it and must say why it does not send it)."""
    settings.ARREARS_MESSAGE_VALID_DAYS = {"sms": 7}
    strategies.active()
    owner = factories.borrower("B0", phone="+8613800000000")
    factories.loan("L0", owner, factories.product())
    day_run(as_of=REMIND, engine="reference")
    evaluate_day(REMIND)
    assert enqueue_due(REMIND) == 1
    return owner


def _send(day: date, hour: int = 10) -> OutboxMessage:
    dispatch.dispatch_once({"sms": Recorder()}, now=lambda: at(hour, 0, day))
    return OutboxMessage.objects.get()


def _instalment(borrower: models.Borrower, day: date) -> int:
    loan = borrower.loans.get()
    state = selectors.loan_state(loan, day)[1]
    return next(i.outstanding for i in state.instalments if i.due_date == DUE)


def test_a_pre_due_reminder_states_the_amount_coming_due(pre_due: models.Borrower) -> None:
    later = REMIND + timedelta(days=2)  # sent two days late, still before the due date
    message = _send(later)
    assert message.status == "sent", message.status_reason
    assert message.amount_due_minor == _instalment(pre_due, later)
    assert format_money(Money(message.amount_due_minor, "CNY"), "zh-CN") in message.body


def test_a_prepayment_lowers_the_amount_coming_due(pre_due: models.Borrower) -> None:
    ledger.record_payment(
        loan=pre_due.loans.get(),
        ref="PART",
        value_date=REMIND,
        amount_minor=30_000,
        currency="CNY",
    )
    message = _send(REMIND)
    assert message.status == "sent"
    assert message.amount_due_minor == _instalment(pre_due, REMIND) - 30_000


def test_a_pre_due_reminder_for_an_instalment_already_paid_says_so(
    pre_due: models.Borrower,
) -> None:
    ledger.record_payment(
        loan=pre_due.loans.get(),
        ref="EARLY",
        value_date=REMIND,
        amount_minor=_instalment(pre_due, REMIND),
        currency="CNY",
    )
    message = _send(REMIND)
    assert message.status == "suppressed"
    assert message.status_reason == f"the instalment due {DUE} is already paid ({REMIND} 10:00)"


def test_a_pre_due_reminder_dispatched_after_the_due_date_does_not_claim_nothing_is_owed(
    pre_due: models.Borrower,
) -> None:
    late = DUE + timedelta(days=2)
    message = _send(late)
    assert message.status == "suppressed"
    assert message.status_reason == (
        f"the instalment due {DUE} is past due on {late}: a pre-due reminder no longer "
        "applies (the overdue reminders take over)"
    )
    assert "nothing is owed" not in message.status_reason


def test_a_borrower_without_a_mobile_number_is_not_texted(db: None) -> None:
    strategies.active()
    owner = factories.borrower("B0", phone=None)
    factories.loan("L0", owner, factories.product())
    day_run(as_of=REMIND, engine="reference")
    evaluate_day(REMIND)
    enqueue_due(REMIND)
    message = _send(REMIND)
    assert (message.status, message.status_reason) == (
        "suppressed",
        "no usable sms address for the borrower",
    )


def test_the_gates_denials_name_the_rule_that_fired(pre_due: models.Borrower) -> None:
    Hold.objects.create(
        borrower=pre_due, reason="dispute", starts_on=REMIND, ends_on=REMIND + timedelta(30)
    )
    held = _send(REMIND)
    assert held.status == "suppressed"
    assert held.status_reason.startswith("cn.holds: dispute hold on the borrower until ")
    assert "stops sms" in held.status_reason


def test_an_opt_out_is_named_as_the_cause(pre_due: models.Borrower) -> None:
    set_preferences(pre_due, opt_outs=["sms"], source="call on 2026-02-11")
    opted = _send(REMIND)
    assert (opted.status, opted.status_reason) == (
        "suppressed",
        "cn.opt-out: the person opted out of sms",
    )
