"""A complaint about an agency recalls the borrower's live placement with it at once."""

from __future__ import annotations

from datetime import timedelta

from arrears.agencies.models import Placement
from arrears.complaints import services
from arrears.contact.models import OutboxMessage
from tests.agencies.daystep import new_agency
from tests.complaints.conftest import Book


def test_a_complaint_about_the_agency_recalls_its_placement(book: Book) -> None:
    alpha, beta = new_agency("alpha"), new_agency("beta")
    placement = Placement.objects.create(
        key="p1",
        case=book.case,
        agency=alpha,
        placed_on=book.today - timedelta(days=3),
        ends_on=book.today + timedelta(days=60),
        bucket="M1",
        total_due_minor=100_000,
        currency="CNY",
        method="round_robin",
    )
    complaint = services.file_complaint(
        borrower=book.borrower,
        kind="complaint",
        category="fake_collector",
        description="Someone called in your agency's name.",
        channel="portal",
        agency=alpha,
    )
    placement.refresh_from_db()
    assert placement.recalled_on == book.today and placement.recall_reason == "complaint"
    assert complaint.reference in placement.recall_note
    assert OutboxMessage.objects.filter(key=f"placement:{placement.pk}:recalled").exists()
    assert list(complaint.agencies.all()) == [alpha]
    assert beta not in complaint.agencies.all()
