"""Issuing lawyer's letters: the explain figures, once per day, a code that verifies, the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError

from arrears.collections import dayflow
from arrears.collections.models import Case, CaseEvent, WorkItem
from arrears.collections.workflow import contact_key
from arrears.contact.models import ContactPreference, OutboxMessage
from arrears.contact.outbox import enqueue_due
from arrears.formatting import format_money
from arrears.kernel.errors import ArrearsError
from arrears.kernel.explain import explain
from arrears.kernel.money import Money
from arrears.ledger import models, selectors
from arrears.legal import services
from arrears.legal.models import LawFirm, LegalLetter
from arrears.legal.selectors import letters_for_case
from arrears.verification import services as verification
from tests import factories

from .conftest import DAY, pdf_text

SH = ZoneInfo("Asia/Shanghai")
NOON = datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=SH)


def _work_item(case: Case, template: str = "lawyer_letter") -> WorkItem:
    return WorkItem.objects.create(
        key=contact_key(case.borrower_id, "letter", template, DAY),
        case=case,
        borrower=case.borrower,
        due_on=DAY,
        stage="external",
        treatment=1,
        channel="letter",
        template=template,
        owner="external",
        reason="default v1: test",
        strategy="default v1",
        variant="champion",
    )


def _code(letter: LegalLetter) -> str:
    assert letter.message is not None
    return letter.message.verification_code


def test_the_letter_states_what_explain_shows_on_its_date(
    case: Case, firm: LawFirm, borrower: models.Borrower
) -> None:
    letter = services.issue_letter(case, DAY)
    totals = explain(*selectors.loan_state(models.Loan.objects.get(), DAY))["totals"]
    assert totals["penalty_outstanding"]["minor"] > 0  # the case is one with penalty
    assert (
        letter.principal_overdue_minor,
        letter.interest_minor,
        letter.penalty_minor,
        letter.compound_minor,
        letter.total_minor,
    ) == tuple(
        totals[name]["minor"]
        for name in (
            "overdue_principal",
            "overdue_interest",
            "penalty_outstanding",
            "compound_outstanding",
            "total_due",
        )
    )
    assert letter.contract_refs == ["L-2026-0001"]
    text = pdf_text(services.letter_pdf(letter))
    penalty = format_money(Money(totals["penalty_outstanding"]["minor"], "CNY"), "zh-CN")
    for fact in ("演示律师事务所", "演示消费金融", "张三", "L-2026-0001", _code(letter), penalty):
        assert fact in text, fact
    assert "https://arrears.example/verify/?code=" in text


def test_the_code_verifies_as_the_firms_letter_until_it_is_withdrawn(
    case: Case, firm: LawFirm
) -> None:
    letter = services.issue_letter(case, DAY, locale="en")
    answer = verification.verify(_code(letter), NOON)
    assert (answer.genuine, answer.kind, answer.issuer_kind) == (True, "lawyer_letter", "law_firm")
    assert answer.issuer_name == "Demo Law LLP"
    assert "张三" not in str(answer.as_dict())  # the code reveals nothing about the borrower
    staff = get_user_model().objects.create_user("lead")
    services.withdraw_letter(letter, by=staff, reason="amount disputed", at=NOON)
    after = verification.verify(_code(letter), NOON + timedelta(minutes=1))
    assert (after.genuine, after.status) == (False, "revoked")
    letter.refresh_from_db()
    assert letter.status == "withdrawn"
    assert letter.message is not None and letter.message.status == "suppressed"
    assert CaseEvent.objects.filter(key=f"legal:{letter.reference}:withdrawn").exists()


def test_issuing_twice_gives_the_first_letter(case: Case, firm: LawFirm) -> None:
    first = services.issue_letter(case, DAY)
    assert services.issue_letter(case, DAY) == first
    assert LegalLetter.objects.count() == OutboxMessage.objects.count() == 1
    assert services.issue_letter(case, DAY, template="legal_notice") != first


def test_the_day_step_twice_makes_one_letter_and_one_message(case: Case, firm: LawFirm) -> None:
    item = _work_item(case)
    assert dataflow_line(services.letters_day) == f"{DAY}: 1 letter(s) issued, 0 refused"
    assert dataflow_line(services.letters_day) == f"{DAY}: 0 letter(s) issued, 0 refused"
    assert enqueue_due(DAY) == 0  # the outbox does not queue a text-only letter as well
    message = OutboxMessage.objects.get()
    assert message.key == f"wi:{item.key}" and message.work_item == item
    assert message.channel == "letter" and len(message.verification_code) == 19
    (letter,) = letters_for_case(case)
    assert letter.message == message
    event = CaseEvent.objects.get(key=f"legal:{letter.reference}:issued")
    assert "Demo Law LLP" in event.cause and letter.credential.code_hint in event.cause
    assert "legal" in [s.name for s in dayflow.steps()]


def dataflow_line(step: object) -> str:
    assert callable(step)
    line = step(DAY)
    assert isinstance(line, str)
    return line


def test_a_letter_goes_by_email_without_a_postal_address_or_when_letters_are_refused(
    case: Case, firm: LawFirm, borrower: models.Borrower
) -> None:
    borrower.email = "zhang.san@example.cn"
    borrower.save(update_fields=["email"])
    ContactPreference.objects.create(borrower=borrower, opt_outs=["letter"])
    letter = services.issue_letter(case, DAY)
    assert letter.channel == "email" and letter.message is not None
    assert letter.message.channel == "email"


def test_a_work_item_that_cannot_become_a_letter_is_cancelled_with_the_reason(
    case: Case,
) -> None:
    item = _work_item(case)  # no law firm is set up
    assert services.letters_day(DAY).endswith("0 letter(s) issued, 1 refused")
    item.refresh_from_db()
    assert item.status == "cancelled" and "no active law firm" in item.status_reason
    assert enqueue_due(DAY) == 0


def test_nothing_overdue_means_no_letter(case: Case, firm: LawFirm) -> None:
    with pytest.raises(ArrearsError) as refused:
        services.issue_letter(case, DAY.replace(month=1, day=20))
    assert refused.value.code == "legal-nothing-overdue"


def test_an_altered_pdf_is_never_sent(case: Case, firm: LawFirm) -> None:
    letter = services.issue_letter(case, DAY)
    Path(letter.pdf_path).write_bytes(b"%PDF-1.4 something else")
    with pytest.raises(ArrearsError) as refused:
        services.letter_pdf(letter)
    assert refused.value.code == "legal-pdf-damaged"


def test_a_second_issuer_racing_for_the_same_letter_leaves_the_first_intact(
    case: Case, firm: LawFirm
) -> None:
    first = services.issue_letter(case, DAY)
    owed = services.amounts_on(case.borrower, DAY)
    with pytest.raises(IntegrityError):  # what the loser of a race meets at its insert
        services._issue(case, DAY, "lawyer_letter", firm, "zh-CN", owed, None)
    assert services.letter_pdf(first)  # its file was not overwritten by the loser's
    answer = verification.verify(_code(first), NOON)
    assert answer.genuine


def test_a_withdrawn_letter_still_queued_is_not_sent(case: Case, firm: LawFirm) -> None:
    letter = services.issue_letter(case, DAY)
    assert letter.message is not None
    LegalLetter.objects.filter(pk=letter.pk).update(status="withdrawn")  # a race with dispatch
    with pytest.raises(ArrearsError) as refused:
        services.document_for(letter.message)
    assert refused.value.code == "legal-withdrawn"


def test_the_demo_firm_is_seeded_once(db: None) -> None:
    from arrears.legal.demo import seed_firm

    assert seed_firm() == seed_firm() and LawFirm.objects.count() == 1


def test_every_overdue_contract_is_listed_and_the_total_adds_them(
    case: Case, firm: LawFirm, borrower: models.Borrower
) -> None:
    factories.loan("L-2026-0002", borrower, models.Product.objects.get(), principal_minor=300_000)
    letter = services.issue_letter(case, DAY)
    assert letter.contract_refs == ["L-2026-0001", "L-2026-0002"]
    per_loan = [
        explain(*selectors.loan_state(loan, DAY))["totals"]["total_due"]["minor"]
        for loan in models.Loan.objects.order_by("ref")
    ]
    assert [row["total"] for row in letter.loans] == per_loan
    assert letter.total_minor == sum(per_loan)
    text = pdf_text(services.letter_pdf(letter))
    assert "L-2026-0001" in text and "L-2026-0002" in text
    assert format_money(Money(letter.total_minor, "CNY"), "zh-CN") in text


def test_without_a_firm_the_days_letters_are_refused_with_the_reason(case: Case) -> None:
    item = _work_item(case)
    assert dataflow_line(services.letters_day) == f"{DAY}: 0 letter(s) issued, 1 refused"
    item.refresh_from_db()
    assert item.status == WorkItem.Status.CANCELLED
    assert item.status_reason.startswith("cannot issue the letter: ")
    assert "firm" in item.status_reason
    assert LegalLetter.objects.count() == OutboxMessage.objects.count() == 0
    assert dataflow_line(services.letters_day) == f"{DAY}: 0 letter(s) issued, 0 refused"
