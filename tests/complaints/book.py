"""The complaints book of ``conftest.book``, built once for a module (tests/sharing.py):
:func:`build_book` writes it, :class:`BookKeys` loads it afresh for each test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from arrears.collections.models import Case, Team
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.ledger.models import Borrower
from tests import factories
from tests.complaints.conftest import Book


def build_book() -> Book:
    """The same book as ``conftest.book``: borrower B-C, CNY 12,000 over 12 months lent 40
    days ago (a few days late); ann, lead and boss on a team; olga with no role."""
    today = timezone.localdate()
    owner = factories.borrower("B-C", phone="+8613900000011")
    factories.loan(
        "L-C",
        owner,
        factories.product(),
        principal_minor=1_200_000,
        start=today - timedelta(days=40),
    )
    day_run(as_of=today, engine="reference")
    evaluate_day(today)
    case = Case.objects.get(borrower=owner)
    team = Team.objects.create(code="t1", name="Team", owner=case.owner or "team")
    staff: dict[str, Any] = factories.team_staff(team)
    return Book(today=today, borrower=owner, case=case, staff=staff)


@dataclass(frozen=True)
class BookKeys:
    """What a test needs to load the book afresh: ids, never the build's objects."""

    today: date
    borrower: int
    case: int
    staff: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, book: Book) -> BookKeys:
        staff = tuple((who, user.pk) for who, user in book.staff.items())
        return cls(book.today, book.borrower.pk, book.case.pk, staff)

    def load(self) -> Book:
        users = User.objects.in_bulk([pk for _, pk in self.staff])
        return Book(
            today=self.today,
            borrower=Borrower.objects.get(pk=self.borrower),
            case=Case.objects.get(pk=self.case),
            staff={who: users[pk] for who, pk in self.staff},
        )
