"""The ladder's legal stage asks for a legal notice; the day pipeline issues it once and the
outbox carries it once, however often the day is run."""

from __future__ import annotations

from datetime import date

from arrears.collections import dayflow, strategies
from arrears.collections.models import Case, WorkItem
from arrears.contact.models import OutboxMessage
from arrears.daily.services import day_run
from arrears.ledger import models
from arrears.legal.models import LawFirm, LegalLetter

#: Day 198 past the first due date: the legal stage (dpd >= 181, CNY 5,000 due) is entered.
DAY = date(2026, 9, 1)


def test_the_legal_stage_sends_one_legal_notice_per_day_run_twice(
    borrower: models.Borrower, firm: LawFirm
) -> None:
    strategies.active()
    day_run(as_of=DAY, engine="reference")
    first = dayflow.run(DAY)
    case = Case.objects.get(borrower=borrower)
    assert case.stage == "legal", first
    item = WorkItem.objects.get(channel="letter")
    assert item.template == "legal_notice"
    assert f"{DAY}: 1 letter(s) issued, 0 refused" in first
    again = dayflow.run(DAY)
    assert f"{DAY}: 0 letter(s) issued, 0 refused" in again
    letter = LegalLetter.objects.get()
    message = OutboxMessage.objects.get(channel="letter")
    assert (letter.case, letter.template, letter.message) == (case, "legal_notice", message)
    assert message.work_item == item and message.key == f"wi:{item.key}"
