"""Complain or dispute from the portal: filed through ``file_complaint`` (channel portal), the
reference and the SLA dates shown, collection paused at once — the next day's run makes no
reminder for the borrower — and only the borrower's own complaints are ever shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from arrears.agencies.models import Agency, Placement
from arrears.collections.models import Case, ContactAttempt, WorkItem
from arrears.collections.workflow import evaluate_day
from arrears.complaints.models import Complaint
from arrears.complaints.services import file_complaint
from arrears.daily.services import day_run
from tests.portal.conftest import Book
from tests.portal.helpers import token


@pytest.fixture
def book(shared_book: Book) -> Book:
    """Every test here starts from the portal's book as built: built once for the module."""
    return shared_book


def _file(client: Client, **fields: str):
    data = {"category": "harassment", "description": "They called me ten times today."}
    data.update(fields)
    return client.post("/my/complaints/new/", data)


def test_a_harassment_complaint_pauses_collection_from_the_next_day_on(book: Book, client: Client):
    book.sign_in(client)
    response = _file(client)
    assert response.status_code == 302
    complaint = Complaint.objects.get(borrower=book.borrower)
    assert complaint.channel == "portal" and complaint.kind == "complaint"
    assert response["Location"].endswith(f"/my/complaints/{complaint.reference}/?filed=1")
    page = client.get(response["Location"]).content.decode()
    assert complaint.reference in page and 'id="filed"' in page
    assert str(complaint.acknowledge_by) in page and str(complaint.resolve_by) in page
    assert 'id="paused"' in page
    assert complaint.hold is not None and not complaint.hold.channels  # every channel stops
    tomorrow = book.today + timedelta(days=1)
    day_run(as_of=tomorrow, engine="reference")
    evaluate_day(tomorrow)
    mine = WorkItem.objects.filter(borrower_id=book.borrower.pk, due_on=tomorrow)
    # without the complaint the ladder sends this borrower a reminder SMS tomorrow; the
    # hold suppresses it (kept with its reason), and nothing else is asked for
    assert list(mine.values_list("template", "status")) == [("overdue_reminder", "suppressed")]
    assert Case.objects.get(pk=book.case.pk).status == "on_hold"


def test_not_my_debt_is_a_dispute_and_a_double_submit_files_once(book: Book, client: Client):
    book.sign_in(client)
    _file(client, category="not_my_debt", description="I never took this loan.")
    _file(client, category="not_my_debt", description="I never took this loan.")
    complaints = Complaint.objects.filter(borrower=book.borrower)
    assert complaints.count() == 1 and complaints.get().kind == "dispute"


def test_a_complaint_about_an_agencys_contact_links_it_and_recalls_the_placement(
    book: Book, client: Client
):
    agency = Agency.objects.create(
        code="acme",
        name="Acme Recovery",
        licence_number="L1",
        licence_valid_to=book.today + timedelta(days=300),
        contract_starts=book.today - timedelta(days=30),
        contract_ends=book.today + timedelta(days=300),
        phone="4000001111",
    )
    Placement.objects.create(
        key="p1",
        case=book.case,
        agency=agency,
        placed_on=book.today - timedelta(days=3),
        ends_on=book.today + timedelta(days=27),
        bucket="M1",
        total_due_minor=1,
        currency="CNY",
        method="round_robin",
    )
    contact = ContactAttempt.objects.create(
        case=book.case,
        at=timezone.now(),
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="rpc",
        agency=agency,
    )
    book.sign_in(client)
    form = client.get("/my/complaints/new/", {"contact": contact.pk}).content.decode()
    assert f'<option value="{contact.pk}" selected' in form
    _file(client, contact=str(contact.pk))
    complaint = Complaint.objects.get(borrower=book.borrower)
    assert list(complaint.contacts.all()) == [contact]
    assert list(complaint.agencies.all()) == [agency]
    assert Placement.objects.get(key="p1").recall_reason == "complaint"


def test_bad_input_is_refused_on_its_field(book: Book, client: Client):
    book.sign_in(client)
    response = _file(client, category="")
    assert response.status_code == 400 and 'id="category-error"' in response.content.decode()
    response = _file(client, description="   ")
    assert response.status_code == 400 and 'id="description-error"' in response.content.decode()
    response = _file(client, description="x" * 5000)
    assert response.status_code == 400 and 'id="description-error"' in response.content.decode()
    response = _file(client, contact="abc")
    assert response.status_code == 400 and 'id="contact-error"' in response.content.decode()
    assert not Complaint.objects.exists()


def test_the_fake_collector_report_prefills_the_form(book: Book, client: Client):
    book.sign_in(client)
    page = client.get(
        "/my/complaints/new/", {"category": "fake_collector", "number": "13912345678"}
    ).content.decode()
    assert '<option value="fake_collector" selected' in page and "13912345678" in page


def test_another_borrowers_complaint_and_contacts_are_not_found(book: Book, client: Client):
    theirs = file_complaint(
        borrower=book.other, kind="complaint", category="other", description="x", channel="phone"
    )
    their_contact = ContactAttempt.objects.create(
        case=Case.objects.get(borrower=book.other),
        at=timezone.now(),
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="rpc",
    )
    book.sign_in(client)
    assert client.get(f"/my/complaints/{theirs.reference}/").status_code == 404
    assert theirs.reference not in client.get("/my/complaints/").content.decode()
    assert _file(client, contact=str(their_contact.pk)).status_code == 404
    assert not Complaint.objects.filter(borrower=book.borrower).exists()
    auth = token(book, client)
    assert client.get(f"/api/v1/my/complaints/{theirs.reference}", **auth).status_code == 404


def test_the_json_twin_files_and_lists(book: Book, client: Client):
    auth = token(book, client)
    response = client.post(
        "/api/v1/my/complaints",
        {"category": "wrong_amount", "description": "The penalty is too high."},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "dispute" and body["collection_paused_until"] == body["resolve_by"]
    listed = client.get("/api/v1/my/complaints", **auth).json()["complaints"]
    assert [c["reference"] for c in listed] == [body["reference"]]
    bad = client.post(
        "/api/v1/my/complaints",
        {"category": "nonsense", "description": "x"},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "category"


def test_the_pages_speak_chinese(book: Book):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    book.sign_in(client)
    assert "投诉或异议" in client.get("/my/complaints/").content.decode()
    response = _file(client)
    page = client.get(response["Location"]).content.decode()
    assert "催收已暂停" in page and "骚扰" in page
