"""Verify a collector: a caller's number and a document's code, for the signed-in borrower."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from arrears.agencies.models import Agency, Placement
from arrears.portal import callers
from arrears.verification.services import issue, revoke
from tests.portal.conftest import Book
from tests.portal.helpers import sign_in_other, token


@pytest.fixture(autouse=True)
def _fresh_throttle() -> None:
    cache.clear()


def _agency(code: str, phone: str) -> Agency:
    return Agency.objects.create(
        code=code,
        name=f"{code.title()} Recovery",
        name_zh=f"{code}催收",
        licence_number=f"LIC-{code}",
        licence_valid_to=timezone.localdate() + timedelta(days=400),
        contract_starts=timezone.localdate() - timedelta(days=100),
        contract_ends=timezone.localdate() + timedelta(days=400),
        phone=phone,
    )


def _place(book: Book, case, agency: Agency) -> Placement:
    return Placement.objects.create(
        key=f"p:{case.pk}:{agency.code}",
        case=case,
        agency=agency,
        placed_on=book.today - timedelta(days=2),
        ends_on=book.today + timedelta(days=27),
        bucket="M1",
        total_due_minor=1000,
        currency="CNY",
        method="round_robin",
    )


def _credential(book: Book, case, **extra):
    now = timezone.now()
    fields = {
        "kind": "visit_authorisation",
        "holder": "Wang *",
        "issuer_kind": "lender",
        "issuer_name": "Demo Consumer Finance",
        "authorises_en": "a field visit",
        "authorises_zh": "上门拜访",
        "valid_from": now - timedelta(hours=1),
        "valid_to": now + timedelta(days=3),
        "issued_at": now - timedelta(hours=1),
        "case": case,
    }
    fields.update(extra)
    return issue(**fields)


def test_numbers_compare_whatever_the_spelling():
    assert callers.national("+86 400-800-1234") == callers.national("4008001234")
    assert callers.national("0086 138 0000 0001") == callers.national("13800000001")
    assert callers.national("8613800000001") == "13800000001"
    assert callers.national("call me") is None
    assert callers.national("12") is None


def test_the_lenders_own_number_is_genuine(book: Book, client: Client):
    book.sign_in(client)
    page = client.get("/my/verify/", {"number": "95000"}).content.decode()
    assert 'data-status="lender"' in page and "is our number" in page


def test_an_agency_is_genuine_only_while_it_works_this_borrowers_case(book: Book, client: Client):
    mine = _agency("acme", "+86 400-000-1111")
    other = _agency("bolt", "400-000-2222")
    _place(book, book.case, mine)
    from arrears.collections.models import Case

    _place(book, Case.objects.get(borrower=book.other), other)
    book.sign_in(client)
    page = client.get("/my/verify/", {"number": "4000001111"}).content.decode()
    assert 'data-status="agency"' in page and "Acme Recovery" in page
    page = client.get("/my/verify/", {"number": "400 000 2222"}).content.decode()
    assert 'data-status="agency_not_assigned"' in page and "Do not pay" in page
    Placement.objects.filter(agency=mine).update(recalled_on=book.today)
    page = client.get("/my/verify/", {"number": "4000001111"}).content.decode()
    assert 'data-status="agency_not_assigned"' in page


def test_an_unknown_number_is_not_ours_and_offers_a_report(book: Book, client: Client):
    book.sign_in(client)
    page = client.get("/my/verify/", {"number": "+86 139 1234 5678"}).content.decode()
    assert 'data-status="unknown"' in page and "not one of ours" in page
    assert "category=fake_collector" in page and "number=%2B86+139+1234+5678" in page
    assert "Never pay into a private account" in page
    assert "the Repay page of our official app" in page
    assert (
        'data-status="malformed"' in client.get("/my/verify/", {"number": "abc"}).content.decode()
    )


def test_codes_genuine_fake_expired_revoked_and_for_someone_else(book: Book, client: Client):
    from arrears.collections.models import Case

    genuine = _credential(book, book.case)
    old = _credential(
        book,
        book.case,
        valid_from=timezone.now() - timedelta(days=5),
        valid_to=timezone.now() - timedelta(days=1),
    )
    cancelled = _credential(book, book.case)
    revoke(cancelled.credential, by=None, reason="visit cancelled", at=timezone.now())
    theirs = _credential(book, Case.objects.get(borrower=book.other))
    book.sign_in(client)

    def status(code: str) -> str:
        page = client.get("/my/verify/", {"code": code}).content.decode()
        return page.split('id="document" data-status="', 1)[1].split('"', 1)[0], page

    found, page = status(genuine.code)
    assert found == "valid" and "Genuine and valid now" in page and "Wang *" in page
    found, page = status(old.code)
    assert found == "expired" and "expired" in page
    found, page = status(cancelled.code)
    assert found == "revoked" and "cancelled" in page
    found, page = status("ABCD-EFGH-JKMN-PQRS")
    assert found == "unknown" and "We did not issue this code" in page
    found, page = status(theirs.code)
    assert found == "valid" and "not issued for your loan" in page
    assert "Genuine and valid now" not in page


def test_lookups_are_throttled_per_borrower(book: Book, client: Client):
    book.sign_in(client)
    for _ in range(callers.LOOKUPS_PER_WINDOW):
        assert client.get("/my/verify/", {"number": "95000"}).status_code == 200
    response = client.get("/my/verify/", {"code": "ABCD-EFGH-JKMN-PQRS"})
    assert response.status_code == 429 and 'role="alert"' in response.content.decode()
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in_other(book, other)
    assert other.get("/my/verify/", {"number": "95000"}).status_code == 200


def test_the_json_twin_answers_the_same(book: Book, client: Client):
    auth = token(book, client)
    body = client.get("/api/v1/my/verify", {"number": "95000"}, **auth).json()
    assert body["number"]["genuine"] is True and body["number"]["status"] == "lender"
    body = client.get("/api/v1/my/verify", {"code": "nonsense"}, **auth).json()
    assert body["code"]["genuine"] is False and "Repay" in body["repayment_channels"]
    assert client.get("/api/v1/my/verify", {"number": "95000"}).status_code == 401


def test_the_page_speaks_chinese(book: Book):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    book.sign_in(client)
    page = client.get("/my/verify/", {"number": "95000"}).content.decode()
    assert "官方客服及催收热线" in page and "本公司官方App" in page
