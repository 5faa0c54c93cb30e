"""The complaint pages: who sees them, the filters, acknowledge and resolve, the case panel."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.utils import timezone

from arrears.collections.models import Hold
from arrears.complaints import services
from arrears.complaints.models import Complaint
from tests.complaints.conftest import Book


@pytest.fixture
def book(shared_book: Book) -> Book:
    """Every test here starts from the complaints book as built: built once for the module."""
    return shared_book


def _file(book: Book, category: str = "harassment", day: date | None = None) -> Complaint:
    return services.file_complaint(
        borrower=book.borrower,
        kind="complaint",
        category=category,
        description="Calls at night.",
        channel="phone",
        received_at=(timezone.make_aware(datetime.combine(day, time(10))) if day else None),
    )


def test_only_supervisors_and_compliance_see_the_register(book: Book) -> None:
    complaint = _file(book)
    for who in ("ann", "olga"):
        assert book.client(who).get("/complaints/").status_code == 404
        assert book.client(who).get(f"/complaints/{complaint.pk}/").status_code == 404
    page = book.client("lead").get("/complaints/")
    assert page.status_code == 200 and complaint.reference in page.content.decode()


def test_filters_by_status_category_and_overdue(book: Book) -> None:
    late = _file(book, day=date(2026, 11, 20))  # a Friday two weeks ago: not acknowledged
    fresh = _file(book, category="wrong_amount")
    client = book.client("boss")
    overdue = client.get("/complaints/?overdue=1").content.decode()
    assert late.reference in overdue and fresh.reference not in overdue
    wrong = client.get("/complaints/?category=wrong_amount").content.decode()
    assert fresh.reference in wrong and late.reference not in wrong
    assert "past the SLA" in client.get(f"/complaints/{late.pk}/").content.decode()


def test_acknowledge_and_resolve_from_the_page(book: Book) -> None:
    complaint = _file(book)
    client = book.client("lead")
    url = f"/complaints/{complaint.pk}/"
    assert client.post(url, {"action": "acknowledge"}).status_code == 302
    refused = client.post(url, {"action": "resolve", "root_cause": "no_fault", "upheld": "no"})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    done = client.post(
        url,
        {"action": "resolve", "root_cause": "system_error", "upheld": "yes", "resolution": "Fixed"},
    )
    assert done.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.root_cause, complaint.upheld) == (
        "resolved",
        "system_error",
        True,
    )
    assert Hold.objects.get(pk=complaint.hold_id).released_on is not None


def test_the_page_speaks_chinese(book: Book) -> None:
    complaint = _file(book)
    client = book.client("lead")
    page = client.get(f"/complaints/{complaint.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert "投诉" in text and "骚扰" in text and "解除暂停" in text


def test_the_case_panel_logs_a_phone_complaint_and_holds_the_case(book: Book) -> None:
    client = book.client("lead")  # the reminder stage's cases wait unassigned in lead's team
    page = client.get(f"/cases/{book.case.pk}/").content.decode()
    assert "Log a complaint received by phone" in page
    posted = client.post(
        f"/complaints/case/{book.case.pk}/new/",
        {
            "kind": "complaint",
            "category": "contact_time",
            "channel": "phone",
            "description": "Called at 22:00.",
        },
    )
    assert posted.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.filed_by == book.staff["lead"] and complaint.hold is not None
    too_long = client.post(
        f"/complaints/case/{book.case.pk}/new/",
        {"kind": "complaint", "category": "other", "channel": "phone", "description": "x" * 10_000},
    )
    assert too_long.status_code == 400 and Complaint.objects.count() == 1
    assert book.client("olga").post(f"/complaints/case/{book.case.pk}/new/", {}).status_code == 404
