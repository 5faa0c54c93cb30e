"""Helpers shared by the tests of the verify, preferences, history, complaints and notices
pages."""

from __future__ import annotations

from typing import Any

from django.test import Client

from arrears.ledger.models import Borrower
from tests.portal.conftest import Book


def sign_in_other(book: Book, client: Client) -> None:
    """Sign in as the *other* borrower (B-Q). Their code goes out in English so that the
    book's code reader finds it (it looks for six digits between word boundaries)."""
    Borrower.objects.filter(pk=book.other.pk).update(locale="en")
    book.sign_in(client, book.other_loan.ref)


def token(book: Book, client: Client) -> dict[str, Any]:
    """A bearer token for the book's borrower, as request headers for the API."""
    challenge = client.post(
        "/api/v1/my/sign-in", {"loan": book.loan.ref}, content_type="application/json"
    ).json()["challenge"]
    found = client.post(
        "/api/v1/my/sign-in/confirm",
        {"challenge": challenge, "code": book.codes()[-1]},
        content_type="application/json",
    ).json()["token"]
    return {"HTTP_AUTHORIZATION": f"Bearer {found}"}
