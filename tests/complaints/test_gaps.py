"""The hold outlives a late complaint; a dispute a collector logs is filed; the resolution
letter as a PDF in the borrower's language."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client
from pypdf import PdfReader

from arrears.collections import dayflow
from arrears.collections import services as collections
from arrears.collections.models import Case, CaseEvent, Hold
from arrears.complaints import letter, services, sla
from arrears.complaints.models import Complaint
from arrears.contact import documents
from arrears.contact.models import OutboxMessage
from arrears.daily.services import day_run
from tests.complaints.conftest import Book


@pytest.fixture
def book(shared_book: Book) -> Book:
    """Every test here starts from the complaints book as built: built once for the module."""
    return shared_book


def _file(book: Book, **kwargs: object) -> Complaint:
    args: dict[str, object] = {
        "borrower": book.borrower,
        "kind": "complaint",
        "category": "harassment",
        "description": "They call me ten times a day.",
        "channel": "phone",
    }
    args.update(kwargs)
    return services.file_complaint(**args)  # type: ignore[arg-type]


def _resolve(book: Book, complaint: Complaint, text: str = "We stopped the calls.") -> Complaint:
    return services.resolve(
        complaint,
        by=book.staff["lead"],
        root_cause="collector_conduct",
        resolution=text,
        upheld=True,
    )


def _pdf_text(content: bytes) -> str:
    pages = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return "".join(line.strip() for line in pages.splitlines())


def test_an_unresolved_complaint_past_its_sla_keeps_its_hold(book: Book) -> None:
    complaint = _file(book)
    hold = complaint.hold
    assert hold is not None and hold.ends_on == complaint.resolve_by
    late = complaint.resolve_by + timedelta(days=1)
    day_run(as_of=late, engine="reference")
    dayflow.run(late)  # the extension runs before the workflow decides the day
    hold.refresh_from_db()
    assert hold.ends_on == late + timedelta(days=sla.EXTEND_DAYS) and hold.active_on(late)
    assert f"{complaint.reference} still unresolved on {late}" in hold.note
    event = CaseEvent.objects.get(case=book.case, to_value="hold extended")
    assert str(complaint.resolve_by) in event.cause
    assert Case.objects.get(pk=book.case.pk).status == "on_hold"
    assert not OutboxMessage.objects.filter(template="overdue_reminder", due_on=late).exists()
    assert sla.extend_holds(late) == 0  # re-running the day changes nothing
    assert sla.extend_holds(late + timedelta(days=3)) == 1  # a week ahead again


def test_a_hold_is_not_extended_before_the_sla_nor_once_resolved_or_released(
    book: Book,
) -> None:
    complaint = _file(book)
    assert sla.extend_holds(complaint.resolve_by - timedelta(days=sla.EXTEND_DAYS + 1)) == 0
    other = _file(book, category="privacy")
    assert other.hold is not None
    collections.release_hold(other.hold, user=book.staff["lead"], today=book.today)
    _resolve(book, complaint)
    assert sla.extend_holds(complaint.resolve_by + timedelta(days=1)) == 0


def test_a_dispute_a_collector_logs_is_filed_as_a_dispute(book: Book) -> None:
    attempt = collections.log_contact(
        book.case,
        channel="call",
        direction="inbound",
        party="borrower",
        outcome="dispute",
        note="says the loan was repaid in cash",
        collector=book.staff["ann"],
    )
    complaint = Complaint.objects.get(borrower=book.borrower)
    assert (complaint.kind, complaint.channel, complaint.case) == (
        "dispute",
        "collector",
        book.case,
    )
    assert "says the loan was repaid in cash" in complaint.description
    assert complaint.filed_by == book.staff["ann"]
    assert list(complaint.contacts.all()) == [attempt]
    assert not complaint.collectors.exists()  # about the debt, not the collector who logged it
    assert [h.pk for h in Hold.objects.filter(borrower=book.borrower)] == [complaint.hold_id]
    assert OutboxMessage.objects.filter(key=f"complaint:{complaint.pk}:ack").exists()


def test_the_resolution_letter_is_a_pdf_in_the_borrowers_language(book: Book) -> None:
    complaint = _resolve(book, _file(book), "我们已停止相关催收电话。")
    lead = book.client("lead")
    response = lead.get(f"/complaints/{complaint.pk}/letter.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert complaint.reference in text and "投诉处理答复函" in text
    assert "处理结论：成立" in text and "我们已停止相关催收电话。" in text
    book.borrower.locale = "en"
    book.borrower.save()
    english = _pdf_text(lead.get(f"/complaints/{complaint.pk}/letter.pdf").content)
    assert "Reply to your complaint" in english and "Our finding: upheld" in english
    detail = lead.get(f"/complaints/{complaint.pk}/").content.decode()
    assert f"/complaints/{complaint.pk}/letter.pdf" in detail


def test_only_handlers_get_the_letter_and_only_once_resolved(book: Book) -> None:
    complaint = _file(book)
    assert book.client("lead").get(f"/complaints/{complaint.pk}/letter.pdf").status_code == 404
    _resolve(book, complaint)
    assert book.client("ann").get(f"/complaints/{complaint.pk}/letter.pdf").status_code == 404
    assert Client().get(f"/complaints/{complaint.pk}/letter.pdf").status_code == 302


def test_the_letter_travels_with_a_resolution_sent_by_letter_or_email(book: Book) -> None:
    complaint = _resolve(book, _file(book))
    sms = OutboxMessage.objects.get(key=f"complaint:{complaint.pk}:resolution")
    assert sms.channel == "sms" and documents.for_message(sms) is None
    sms.channel = "email"
    found = documents.for_message(sms)
    assert found is not None and found.name == f"{complaint.reference}.pdf"
    assert found.content.startswith(b"%PDF") and found.template_channel == "sms"
    assert found.content == letter.resolution_pdf(complaint)  # the same letter every time
