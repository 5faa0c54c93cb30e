"""A borrower sees only their own loans: guessed references, tampered sessions, other tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from arrears.portal import session
from tests.portal.conftest import Book


@pytest.fixture
def book(shared_book: Book) -> Book:
    """Every test here starts from the portal's book as built: built once for the module."""
    return shared_book


def test_pages_need_a_signed_in_borrower(book: Book, client: Client):
    for path in ("/my/home/", f"/my/loans/{book.loan.ref}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].endswith("/my/")


def test_another_borrowers_loan_by_its_reference_is_not_found(book: Book, client: Client):
    book.sign_in(client)
    assert client.get(f"/my/loans/{book.loan.ref}/").status_code == 200
    assert client.get(f"/my/loans/{book.other_loan.ref}/").status_code == 404
    assert book.other_loan.ref not in client.get("/my/home/").content.decode()


def test_a_tampered_session_cookie_is_signed_out(book: Book, client: Client):
    book.sign_in(client)
    client.cookies["sessionid"] = "x" * 32
    response = client.get("/my/home/")
    assert response.status_code == 302 and response["Location"].endswith("/my/")


def test_a_session_naming_another_borrower_in_a_bad_shape_is_refused(book: Book, client: Client):
    book.sign_in(client)
    stored = client.session
    stored[session.BORROWER] = str(book.other.pk)  # not an int: never trusted
    stored.save()
    assert client.get("/my/home/").status_code == 302


def test_an_idle_session_ends(book: Book, client: Client):
    book.sign_in(client)
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = client.get("/my/home/")
    assert response.status_code == 302


def test_a_staff_login_is_not_a_borrower_session(book: Book, client: Client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "x"))
    assert client.get("/my/home/").status_code == 302


def test_sign_out_ends_the_session(book: Book, client: Client):
    book.sign_in(client)
    client.post("/my/sign-out/")
    assert client.get("/my/home/").status_code == 302


def _token(book: Book, client: Client) -> str:
    started = client.post("/api/v1/my/sign-in", {"loan": book.loan.ref}, "application/json")
    challenge = started.json()["challenge"]
    confirmed = client.post(
        "/api/v1/my/sign-in/confirm",
        {"challenge": challenge, "code": book.codes()[-1]},
        "application/json",
    )
    assert confirmed.status_code == 200, confirmed.content
    return str(confirmed.json()["token"])


def test_the_json_api_serves_the_same_figures_to_the_tokens_borrower_only(
    book: Book, client: Client
):
    token = _token(book, client)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    loans = client.get("/api/v1/my/loans", **auth).json()["loans"]
    assert [row["ref"] for row in loans] == [book.loan.ref]
    mine = client.get(f"/api/v1/my/loans/{book.loan.ref}", **auth).json()
    assert mine["explain"]["totals"]["total_due"] == loans[0]["total_due"]
    assert client.get(f"/api/v1/my/loans/{book.other_loan.ref}", **auth).status_code == 404
    assert client.get("/api/v1/my/loans").status_code == 401
    bad = client.get("/api/v1/my/loans", HTTP_AUTHORIZATION="Bearer forged")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "portal-api-unauthenticated"
    client.post("/api/v1/my/sign-out", **auth)
    assert client.get("/api/v1/my/loans", **auth).status_code == 401


def test_the_json_projection_refuses_bad_input_with_a_field(book: Book, client: Client):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(book, client)}"}
    path = f"/api/v1/my/loans/{book.loan.ref}/projection"
    for query in ("?on=9999-12-31", "?on=2026-13-01", f"?on={book.today}&amount=1e2"):
        response = client.get(path + query, **auth)
        assert response.status_code == 400, query
        assert response.json()["error"]["field"] in {"on", "amount"}
    ok = client.get(f"{path}?on={book.today + timedelta(days=3)}&amount=100", **auth).json()
    before, after = ok["before"]["total_due"]["minor"], ok["after"]["total_due"]["minor"]
    assert ok["allocated"] and after < before


def test_a_reference_stored_with_a_slash_is_reachable_by_its_borrower_only(
    book: Book, client: Client
):
    """Issue 14, item 9, on the borrower's side: a legacy reference with "/" has its page and
    its plan page; the other borrower's loan stays not found whatever the path."""
    book.sign_in(client)
    type(book.loan).objects.filter(pk=book.loan.pk).update(ref="OLD/2026/7")
    home = client.get("/my/home/").content.decode()
    assert 'href="/my/loans/OLD/2026/7/"' in home
    assert client.get("/my/loans/OLD/2026/7/").status_code == 200
    assert client.get("/my/loans/OLD/2026/7/plan/").status_code == 200
    assert client.get("/my/loans/OLD/2026/").status_code == 404
    assert client.get(f"/my/loans/OLD/2026/7/../{book.other_loan.ref}/").status_code == 404
