"""A small book for complaints: one borrower a few days late (the ladder sends SMS reminders),
a team with a collector, a lead and a manager, and a user with no role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.test import Client

from arrears.collections.models import Case
from arrears.ledger.models import Borrower


@dataclass
class Book:
    today: date
    borrower: Borrower
    case: Case
    staff: dict[str, Any]

    def client(self, who: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(self.staff[who])
        return client


@pytest.fixture
def book(db: None) -> Book:
    """Borrower B-C, CNY 12,000 over 12 months lent 40 days ago: a few days late
    (``tests/complaints/book.py``, which modules that share one book build it with)."""
    from tests.complaints.book import build_book

    return build_book()
