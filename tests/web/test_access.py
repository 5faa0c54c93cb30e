"""Who sees which loans: staff the whole book; a collector only the loans of their own cases."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from tests.web.conftest import Book


def test_a_collector_sees_only_their_own_loans(book: Book) -> None:
    ann = book.client("ann")
    assert ann.get("/loans/").status_code == 403  # the whole book is for staff
    assert ann.get("/loans/L-1/").status_code == 200  # her case
    assert ann.get("/loans/L-3/").status_code == 404  # bob's: not even its existence
    assert ann.get("/").headers["Location"].endswith("/queue/")


def test_staff_see_the_whole_book(book: Book) -> None:
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(User.objects.create_user("backoffice", is_staff=True))
    assert staff.get("/loans/").status_code == 200
    assert staff.get("/loans/L-3/").status_code == 200


def test_the_case_page_asks_the_gate_before_anyone_dials_and_records_nothing(book: Book) -> None:
    """Viewing a case is not a contact: no GateDecision is written, however often it is seen
    (issue 9: the compliance record held a decision for every page view)."""
    from arrears.collections.models import Hold
    from arrears.contact.models import GateDecision

    ann = book.client("ann")
    case = book.cases[0]
    before = GateDecision.objects.count()
    for _ in range(5):
        page = ann.get(f"/cases/{case.pk}/").content.decode()
        assert 'id="call-gate"' in page
    assert GateDecision.objects.count() == before
    Hold.objects.create(
        borrower=case.borrower, reason="complaint", starts_on=book.today, ends_on=book.today
    )
    held = ann.get(f"/cases/{case.pk}/").content.decode()
    assert 'class="call-deny"' in held and "not allowed" in held
    assert f"Complaint hold until {book.today.isoformat()}" in held
    assert GateDecision.objects.count() == before
