"""The case page's partial updates (HTMX) and keyboard shortcuts (issue 13)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from arrears.collections.models import Case, ContactAttempt, Promise
from tests.web.conftest import Book
from tests.web.conftest import no_pii as _no_pii

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "case-activity"}


@pytest.fixture(autouse=True)
def _office_hours(book: Book, _frozen_clock: time_machine.Traveller) -> None:
    _frozen_clock.move_to(
        datetime.combine(book.today, time(10, 30), tzinfo=ZoneInfo("Asia/Shanghai"))
    )


def _contact(case: Case, **fields: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": "contact",
        "contact-channel": "call",
        "contact-direction": "outbound",
        "contact-party": "borrower",
        "contact-phone": case.borrower.phones.get().pk,
        "contact-outcome": "rpc",
        "contact-note": "",
    }
    data.update({f"contact-{k}": v for k, v in fields.items()})
    return data


def test_an_htmx_contact_answers_with_the_activity_fragment(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    response = ann.post(
        f"/cases/{case.pk}/", _contact(case, note="rang 13800000001, spoke"), **HTMX
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page and "<header>" not in page  # a fragment, not the page
    assert 'id="timeline"' in page and 'id="contacts"' in page and 'id="promises"' in page
    assert "Contact logged." in page and "Right-party contact" in page
    assert "rang 138****0001, spoke" in page
    # fresh forms and the status come out of band
    assert re.search(r'<form [^>]*id="contact-form"[^>]*hx-swap-oob="true"', page)
    assert re.search(r'<form [^>]*id="promise-form"[^>]*hx-swap-oob="true"', page)
    assert '<dd id="case-status" hx-swap-oob="true">' in page
    assert ContactAttempt.objects.filter(case=case, outcome="rpc").count() == 1
    _no_pii(page)


def test_an_htmx_promise_shows_in_the_fragment_and_the_status_changes(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    due = book.today + timedelta(days=5)
    response = ann.post(
        f"/cases/{case.pk}/",
        {"action": "promise", "promise-amount": "800.00", "promise-due_date": due.isoformat()},
        **HTMX,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Promise recorded." in page and "800.00" in page and due.isoformat() in page
    assert Promise.objects.get(case=case).amount_minor == 80_000
    case.refresh_from_db()
    status = re.search(r'<dd id="case-status" hx-swap-oob="true">(.*?)</dd>', page, re.S)
    assert status is not None and "Promised to pay" in status.group(1)
    assert case.status == "promised"


def test_a_refused_htmx_promise_returns_the_form_with_its_errors_in_place(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    response = ann.post(
        f"/cases/{case.pk}/",
        {"action": "promise", "promise-amount": "12,5x", "promise-due_date": "2000-01-01"},
        **HTMX,
    )
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#promise-form"
    assert response["HX-Reswap"] == "outerHTML"
    page = response.content.decode()
    assert page.lstrip().startswith('<form method="post" id="promise-form"')
    assert "Not an amount" in page and 'value="12,5x"' in page
    assert not Promise.objects.exists()


def test_without_htmx_the_same_post_still_redirects(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    response = ann.post(f"/cases/{case.pk}/", _contact(case))
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"


def test_other_actions_over_htmx_keep_the_full_answer(book: Book) -> None:
    """Only contacts and promises are partial; a hold (which changes much of the page) keeps
    the redirect, and htmx follows it."""
    ann, case = book.client("ann"), book.cases[0]
    response = ann.post(
        f"/cases/{case.pk}/",
        {
            "action": "hold",
            "hold-reason": "hardship",
            "hold-starts_on": book.today.isoformat(),
            "hold-ends_on": (book.today + timedelta(days=3)).isoformat(),
        },
        **HTMX,
    )
    assert response.status_code == 302


def test_the_csrf_token_on_the_body_lets_an_htmx_post_through(book: Book) -> None:
    """With CSRF checks on (as in production), the token htmx sends in its header — taken from
    the body's hx-headers — is accepted without the form's hidden field."""
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(book.staff["ann"].user)
    case = book.cases[0]
    page = client.get(f"/cases/{case.pk}/").content.decode()
    token = re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'>", page)
    assert token is not None
    data = _contact(case)
    assert client.post(f"/cases/{case.pk}/", data, **HTMX).status_code == 403
    response = client.post(f"/cases/{case.pk}/", data, HTTP_X_CSRFTOKEN=token.group(1), **HTMX)
    assert response.status_code == 200


def test_another_collectors_case_is_a_404_over_htmx_too(book: Book) -> None:
    case = book.cases[2]  # bob's
    response = book.client("ann").post(f"/cases/{case.pk}/", _contact(case), **HTMX)
    assert response.status_code == 404
    assert not ContactAttempt.objects.exists()


def test_the_case_page_documents_its_shortcuts_and_loads_htmx(book: Book) -> None:
    page = book.client("ann").get(f"/cases/{book.cases[0].pk}/").content.decode()
    assert '<details id="shortcuts">' in page
    for key in "RNCWP":
        assert f"<kbd>{key}</kbd>" in page
    assert "/static/web/vendor/htmx.min.js" in page
    assert 'hx-post="/cases/' in page and 'hx-target="#case-activity"' in page
    # the shortcuts never fire while typing in a field
    assert "INPUT|TEXTAREA|SELECT" in page


def test_the_loan_page_links_to_its_case_and_the_case_to_its_loans(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    page = ann.get("/loans/L-1/").content.decode()
    assert f'<a href="/cases/{case.pk}/" id="loan-case">' in page
    assert 'href="/loans/L-1/"' in ann.get(f"/cases/{case.pk}/").content.decode()
