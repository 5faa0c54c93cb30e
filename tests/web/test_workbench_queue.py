"""The queue's filters, sorts, saved views and pagination (issue 13)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arrears.collections.models import Case, ContactAttempt, Promise
from arrears.web import workbench
from arrears.web.models import SavedView
from tests import factories
from tests.web.conftest import Book


def _ids(client: Client, query: str = "", status: int = 200) -> list[int]:
    response = client.get(f"/queue/?{query}")
    assert response.status_code == status, response.content.decode()[:2000]
    return [int(n) for n in re.findall(r'<tr data-case="(\d+)"', response.content.decode())]


@pytest.fixture
def varied(book: Book) -> Book:
    """Give the three cases distinct DPD, totals, buckets and statuses."""
    for case, dpd, total, bucket in zip(
        book.cases, (5, 45, 95), (30_000, 10_000, 20_000), ("M1", "M2", "M4"), strict=True
    ):
        Case.objects.filter(pk=case.pk).update(dpd=dpd, total_due_minor=total, bucket=bucket)
    return book


def test_the_lead_sorts_the_queue_by_each_key(varied: Book) -> None:
    lead = varied.client("lead")
    c0, c1, c2 = (c.pk for c in varied.cases)
    assert _ids(lead) == [c1, c2, c0]  # priority 30, 20, 10
    assert _ids(lead, "sort=dpd") == [c2, c1, c0]
    assert _ids(lead, "sort=total_due") == [c0, c2, c1]
    now = timezone.now()
    for case, hours in ((c0, 1), (c1, 50)):
        ContactAttempt.objects.create(
            case_id=case, at=now - timedelta(hours=hours), channel="call",
            direction="outbound", party="borrower", outcome="no_answer",
        )  # fmt: skip
    assert _ids(lead, "sort=last_contact") == [c2, c1, c0]  # never, 50 h ago, 1 h ago
    today = varied.today
    for case, days in ((c2, 3), (c0, 1)):
        Promise.objects.create(
            case_id=case, amount_minor=100, made_on=today, due_date=today + timedelta(days=days)
        )
    assert _ids(lead, "sort=promise_due") == [c0, c2, c1]  # soonest first, none last


def test_filters_by_bucket_status_and_dpd_range(varied: Book) -> None:
    lead = varied.client("lead")
    c0, c1, c2 = (c.pk for c in varied.cases)
    assert _ids(lead, "bucket=M2") == [c1]
    assert _ids(lead, "dpd_min=40") == [c1, c2]
    assert _ids(lead, "dpd_min=40&dpd_max=90") == [c1]
    Case.objects.filter(pk=c2).update(status="promised")
    assert _ids(lead, "status=promised") == [c2]
    assert _ids(lead, "stage=internal&sort=dpd") == [c2, c1, c0]
    assert _ids(lead, "stage=legal") == []
    assert "No open case matches these filters." in lead.get("/queue/?stage=legal").content.decode()


def test_filters_by_promise_due_today_or_overdue(book: Book) -> None:
    ann = book.client("ann")
    c0, c1, _c2 = (c.pk for c in book.cases)
    today = book.today
    Promise.objects.create(case_id=c0, amount_minor=100, made_on=today, due_date=today)
    Promise.objects.create(
        case_id=c1, amount_minor=100, made_on=today - timedelta(days=5),
        due_date=today - timedelta(days=1),
    )  # fmt: skip
    assert _ids(ann, "promise=today") == [c0]
    assert _ids(ann, "promise=overdue") == [c1]
    Promise.objects.filter(case_id=c1).update(status="kept")
    assert _ids(ann, "promise=overdue") == []


def test_filters_by_days_without_a_contact(book: Book) -> None:
    ann = book.client("ann")
    c0, c1, _c2 = (c.pk for c in book.cases)
    now = timezone.now()
    ContactAttempt.objects.create(
        case_id=c0, at=now, channel="call", direction="outbound", party="borrower",
        outcome="no_answer",
    )  # fmt: skip
    ContactAttempt.objects.create(
        case_id=c1, at=now - timedelta(days=3), channel="call", direction="outbound",
        party="borrower", outcome="no_answer",
    )  # fmt: skip
    assert _ids(ann, "idle=1") == [c1]  # not contacted today
    assert _ids(ann, "idle=3") == [c1]  # nothing in the last three days
    assert _ids(ann, "idle=5") == []
    assert _ids(ann, "idle=0") == [c1, c0]  # no filter


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("dpd_min=abc", "DPD from: abc is not a whole number from 0 to 3650"),
        ("dpd_max=-1", "DPD to: -1 is not a whole number from 0 to 3650"),
        ("idle=99999999999999999999", "is not a whole number from 0 to 3650"),
        ("sort=password", "Sort: password is not one of the choices"),
        ("bucket=M99", "Bucket: M99 is not one of the choices"),
        ("status=%3Cscript%3E", "Status: &lt;script&gt; is not one of the choices"),
        ("stage=DROP%20TABLE", "Stage: DROP TABLE is not one of the choices"),
        ("promise=tomorrow", "Promise: tomorrow is not one of the choices"),
        ("dpd_min=50&dpd_max=10", "the lowest DPD (50) is above the highest (10)"),
        ("collector=ann", "Collector: ann is not one of the choices"),
    ],
)
def test_a_bad_filter_is_a_400_with_a_clear_message_and_is_dropped(
    book: Book, query: str, message: str
) -> None:
    response = book.client("lead").get(f"/queue/?{query}")
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert "<script>" not in page.split("<body", 1)[1].split("<script", 1)[0]
    # the bad value is dropped, so the queue shows every case rather than failing
    assert len(re.findall(r'<tr data-case="(\d+)"', page)) == 3


def test_a_bad_filter_reads_in_chinese(book: Book) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(book.staff["ann"].user)
    page = client.get("/queue/?dpd_min=x").content.decode()
    assert "逾期天数自：x 不是 0 到 3650 之间的整数" in page


def test_pagination_keeps_the_filters(varied: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbench, "QUEUE_PAGE_SIZE", 1)
    lead = varied.client("lead")
    c0, c1, c2 = (c.pk for c in varied.cases)
    page = lead.get("/queue/?sort=dpd&dpd_min=1").content.decode()
    link = re.search(r'<a href="([^"]+)" rel="next">', page)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(href).query) == {"dpd_min": ["1"], "sort": ["dpd"], "page": ["2"]}
    assert _ids(lead, href.lstrip("?")) == [c1]
    assert _ids(lead, "sort=dpd&dpd_min=1&page=3") == [c0]
    assert _ids(lead, "sort=dpd&dpd_min=1&page=99") == [c0]  # past the end: the last page
    assert c2 in _ids(lead, "sort=dpd&dpd_min=1&page=x")  # not a number: the first page


def test_a_collector_saves_opens_and_deletes_a_view(varied: Book) -> None:
    ann = varied.client("ann")
    response = ann.post(
        "/queue/views/", {"name": "Late ones", "query": "sort=dpd&dpd_min=40&evil=1"}
    )
    assert response.status_code == 302 and response["Location"] == "/queue/?dpd_min=40&sort=dpd"
    view = SavedView.objects.get(user=varied.staff["ann"].user)
    assert (view.name, view.query) == ("Late ones", "dpd_min=40&sort=dpd")
    page = ann.get("/queue/").content.decode()
    assert 'href="/queue/?dpd_min=40&amp;sort=dpd">Late ones</a>' in page
    # the same name replaces the old query
    ann.post("/queue/views/", {"name": "Late ones", "query": "bucket=M2"})
    assert list(SavedView.objects.values_list("name", "query")) == [("Late ones", "bucket=M2")]
    # bob sees none of ann's views and may not delete them
    bob = varied.client("bob")
    assert "Late ones" not in bob.get("/queue/").content.decode()
    assert bob.post(f"/queue/views/{view.pk}/delete/").status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()
    assert ann.post(f"/queue/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


def test_a_view_without_a_name_is_refused_with_a_message(book: Book) -> None:
    ann = book.client("ann")
    response = ann.post("/queue/views/", {"name": "  ", "query": "sort=dpd"}, follow=True)
    assert "give the view a name (at most 80 characters)" in response.content.decode()
    response = ann.post("/queue/views/", {"name": "x" * 81, "query": ""}, follow=True)
    assert "give the view a name" in response.content.decode()
    assert not SavedView.objects.exists()
    assert ann.get("/queue/views/").status_code == 405


def test_saved_views_need_a_collector_profile(client: Client, book: Book) -> None:
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("stranger", password="pw"))
    assert client.post("/queue/views/", {"name": "x", "query": ""}).status_code == 403


def test_the_queue_makes_a_bounded_number_of_queries(
    varied: Book, django_assert_max_num_queries: object
) -> None:
    lead = varied.client("lead")
    lead.post("/queue/views/", {"name": "v", "query": "sort=dpd"})
    query = "sort=last_contact&promise=today&idle=2&dpd_min=0&dpd_max=500"
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        assert lead.get(f"/queue/?{query}").status_code == 200
    # more cases (each with a phone and a promise) do not mean more queries
    counts = []
    for n in range(6):
        borrower = factories.borrower(f"X-{n}", phone=f"+86139000000{n:02d}")
        case = Case.objects.create(
            borrower=borrower, currency="CNY", opened_on=varied.today, stage="internal",
            collector=varied.staff["bob"],
        )  # fmt: skip
        Promise.objects.create(
            case=case, amount_minor=100, made_on=varied.today, due_date=varied.today
        )
        if n in (0, 5):
            with CaptureQueriesContext(connection) as queries:
                page = lead.get(f"/queue/?{query}").content.decode()
            assert len(re.findall(r'<tr data-case="(\d+)"', page)) == n + 1
            counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_the_filter_forms_empty_fields_redirect_to_the_tidy_address(book: Book) -> None:
    lead = book.client("lead")
    response = lead.get("/queue/?collector=&bucket=&stage=&dpd_min=&idle=&sort=dpd")
    assert response.status_code == 302 and response["Location"] == "/queue/?sort=dpd"
    response = lead.get("/queue/?bucket=&page=2")
    assert response["Location"] == "/queue/?page=2"
    # with a bad value the page answers (400, with the message) rather than redirecting
    assert lead.get("/queue/?bucket=&dpd_min=x").status_code == 400
