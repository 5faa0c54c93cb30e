"""Contact history: logged contacts and sent messages together, newest first, searched by loan,
borrower, collector, channel, outcome and dates; numbers masked; each row links its case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from arrears.collections.models import Case
from tests.quality.conftest import DAY, at, client_for, contact, message, other_case


@pytest.fixture
def history(case: Case, ann: User, bob: User) -> dict[str, tuple[str, int]]:
    """ann's call to B-Q1, bob's visit to B-Q2 the next day, an SMS sent and one delivered to
    B-Q1, and a message that was only queued (not a contact)."""
    second = other_case("B-Q2", "+8613900000002", name="王小明")
    message(case, at(DAY, 8), status="queued")
    return {
        "call": ("contact", contact(case, ann, at(DAY, 10)).pk),
        "visit": (
            "contact",
            contact(second, bob, at(DAY + timedelta(1), 15), channel="visit", outcome="promise").pk,
        ),
        "sms": ("message", message(case, at(DAY, 9)).pk),
        "delivered": ("message", message(case, at(DAY, 11), status="delivered").pk),
    }


def _rows(officer: User, **query: Any) -> list[tuple[str, int]]:
    response = client_for(officer).get("/compliance/contacts/", query)
    assert response.status_code == 200
    return [(row["kind"], row["id"]) for row in response.context["shown"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["visit", "delivered", "call", "sms"]),
        ({"loan": "L-Q1"}, ["delivered", "call", "sms"]),
        ({"loan": "L-B-Q2"}, ["visit"]),
        ({"loan": "L-NONE"}, []),
        ({"borrower": "B-Q2"}, ["visit"]),
        ({"borrower": "小明"}, ["visit"]),
        ({"borrower": "张"}, ["delivered", "call", "sms"]),
        ({"collector": "ann"}, ["call"]),
        ({"channel": "sms"}, ["delivered", "sms"]),
        ({"channel": "visit"}, ["visit"]),
        ({"outcome": "promise"}, ["visit"]),
        ({"outcome": "delivered"}, ["delivered"]),
        ({"outcome": "sent"}, ["sms"]),
        ({"date_from": DAY + timedelta(1)}, ["visit"]),
        ({"date_to": DAY, "loan": "L-Q1"}, ["delivered", "call", "sms"]),
    ],
)
def test_the_search(
    history: dict[str, tuple[str, int]],
    officer: User,
    query: dict[str, Any],
    expected: list[str],
) -> None:
    assert _rows(officer, **query) == [history[name] for name in expected]


def test_numbers_are_masked_and_rows_link_their_case(
    history: dict[str, tuple[str, int]], officer: User, case: Case
) -> None:
    content = client_for(officer).get("/compliance/contacts/").content.decode()
    assert "+86138****0001" in content and "+86139****0002" in content
    assert "+8613800000001" not in content and "+8613900000002" not in content
    assert f'href="/cases/{case.pk}/"' in content
    assert f'href="/compliance/reviews/contacts/{history["call"][1]}/"' in content


def test_the_history_pages(case: Case, ann: User, officer: User) -> None:
    for i in range(60):
        contact(case, ann, at(DAY, 9) + timedelta(minutes=i))
    first = client_for(officer).get("/compliance/contacts/", {"collector": "ann"})
    assert first.context["page"].paginator.count == 60 and len(first.context["shown"]) == 50
    second = client_for(officer).get("/compliance/contacts/", {"collector": "ann", "page": 2})
    assert len(second.context["shown"]) == 10
