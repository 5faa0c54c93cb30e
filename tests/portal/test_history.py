"""History: every contact by the lender and its agencies, newest first, paginated; names
people are meant to see, never a login name; only the borrower's own."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.agencies.models import Agency
from arrears.collections.models import Case, ContactAttempt
from arrears.contact.models import OutboxMessage
from arrears.fieldwork.models import FieldAgent, FieldVisit
from arrears.portal import records
from tests.portal.conftest import Book
from tests.portal.helpers import sign_in_other, token

SH = ZoneInfo("Asia/Shanghai")


def _at(book: Book, days_ago: int, hour: int = 10) -> datetime:
    return datetime.combine(book.today - timedelta(days=days_ago), time(hour), tzinfo=SH)


def _contact(case: Case, at: datetime, **extra: object) -> ContactAttempt:
    fields: dict[str, object] = {
        "case": case,
        "at": at,
        "channel": "call",
        "direction": "outbound",
        "party": "borrower",
        "outcome": "no_answer",
    }
    fields.update(extra)
    return ContactAttempt.objects.create(**fields)


def _sent(book: Book, template: str, at: datetime, channel: str = "sms") -> OutboxMessage:
    return OutboxMessage.objects.create(
        key=f"test:{template}:{at.isoformat()}",
        borrower=book.borrower,
        case=book.case,
        channel=channel,
        template=template,
        locale="en",
        status="sent",
        not_before=at,
        sent_at=at,
        to_address="+8613900000021",
        body="hello",
    )


def test_the_history_lists_messages_calls_and_visits_newest_first(book: Book, client: Client):
    named = User.objects.create_user("zhang.w", first_name="Wei", last_name="Zhang")
    anonymous = User.objects.create_user("collector42")
    agency = Agency.objects.create(
        code="acme",
        name="Acme Recovery",
        licence_number="L1",
        licence_valid_to=book.today,
        contract_starts=book.today,
        contract_ends=book.today,
        phone="4000001111",
    )
    _sent(book, "overdue_reminder", _at(book, 5))
    _contact(book.case, _at(book, 4), collector=named)
    _contact(book.case, _at(book, 3), collector=anonymous)
    _contact(book.case, _at(book, 2), collector=anonymous, agency=agency, outcome="rpc")
    visit_contact = _contact(book.case, _at(book, 1), channel="visit", collector=anonymous)
    agent = FieldAgent.objects.create(
        user=User.objects.create_user("agent7"), full_name="Li Na", id_number="110101199001011234"
    )
    visit = FieldVisit.objects.create(
        case=book.case,
        reason="unreachable",
        requested_by=anonymous,
        requested_at=_at(book, 3),
        contact=visit_contact,
        status="reported",
    )
    visit.agents.add(agent)
    _contact(book.case, _at(book, 1, 11), direction="inbound")  # the borrower called us
    book.sign_in(client)
    page = client.get("/my/history/").content.decode()
    table = page.split('id="history"', 1)[1]
    order = [
        "portal sign-in code",
        "Li Na",
        "Acme Recovery",
        "Demo Consumer Finance collections team",
        "Wei Zhang",
        "overdue reminder",
    ]
    positions = [table.index(text) for text in order]
    assert positions == sorted(positions)
    assert "collector42" not in page and "zhang.w" not in page and "agent7" not in page
    assert "+86139****0021" in page
    assert table.count("<tr") == 1 + 6  # the header and six outbound contacts
    assert f"/my/complaints/new/?contact={visit_contact.pk}" in page


def test_the_history_is_paginated(book: Book, client: Client):
    for n in range(records.PAGE_SIZE + 5):
        _contact(book.case, _at(book, 1) - timedelta(minutes=n))
    book.sign_in(client)
    first = client.get("/my/history/").content.decode()
    assert first.split('id="history"', 1)[1].split("</table>")[0].count("<tr") == 21
    assert "?page=2" in first
    second = client.get("/my/history/", {"page": "2"}).content.decode()
    rows = second.split('id="history"', 1)[1].split("</table>")[0].count("<tr") - 1
    assert rows == records.PAGE_SIZE + 5 + 1 - records.PAGE_SIZE  # + the sign-in code
    for odd in ("0", "-1", "x", "99999999"):
        assert client.get("/my/history/", {"page": odd}).status_code == 200


def test_another_borrowers_contacts_never_appear(book: Book, client: Client):
    theirs = _contact(Case.objects.get(borrower=book.other), _at(book, 1))
    book.sign_in(client)
    page = client.get("/my/history/").content.decode()
    assert f"contact={theirs.pk}" not in page
    assert client.get(f"/my/complaints/new/?contact={theirs.pk}").status_code == 404
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in_other(book, other)
    assert f"contact={theirs.pk}" in other.get("/my/history/").content.decode()


def test_the_json_twin(book: Book, client: Client):
    _contact(book.case, _at(book, 1))
    auth = token(book, client)
    body = client.get("/api/v1/my/history", **auth).json()
    assert body["total"] == 2 and body["rows"][0]["what"] == "portal sign-in code"
    assert body["rows"][1]["contact"] is not None


def test_the_page_speaks_chinese(book: Book):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    book.sign_in(client)
    page = client.get("/my/history/").content.decode()
    assert "服务平台登录验证码" in page and "联系记录" in page
    assert timezone.localdate() == book.today
