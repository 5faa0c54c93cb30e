"""A small book for complaints: one borrower a few days late (the ladder sends SMS reminders),
a team with a collector, a lead and a manager, and a user with no role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from arrears.collections.models import Case
from arrears.ledger.models import Borrower
from tests import sharing

if TYPE_CHECKING:
    from tests.complaints.book import BookKeys


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


@pytest.fixture(scope="module")
def _complaints_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[BookKeys]:
    """The book, built once for the module (tests/sharing.py); only modules whose tests ask
    for ``shared_book`` build it."""
    from tests.complaints.book import BookKeys, build_book

    yield from sharing.module_book(django_db_blocker, build_book, BookKeys.of)


@pytest.fixture
def shared_book(request: pytest.FixtureRequest, _complaints_book: BookKeys, db: None) -> Book:
    """The module's book as built, loaded afresh (each test in its own savepoint): a module
    whose every test can share it overrides ``book`` with this."""
    sharing.refuse_transactional(request, "book")
    return _complaints_book.load()
