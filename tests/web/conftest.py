"""The workbench's book: three borrowers about twenty days late, a team with two collectors,
a lead and a manager, and a lead of another team (shared by the workbench and concession tests).

The book is built for *today*: the workbench's actions stamp contacts with the clock, and the
services judge promise, hold and concession dates against the business date, so a book
evaluated today keeps the two the same (as in production, where the daily run is never far
behind).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.collections.models import Case, Collector, Team
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from tests import factories, sharing

PHONES = ("+8613800000001", "+8613800000002", "+8613800000003")


def _collector(username: str, team: Team, role: str = "collector") -> Collector:
    user = User.objects.create_user(username=username, password="pw-" + username)
    return Collector.objects.create(user=user, team=team, role=role)


@dataclass
class Book:
    today: date
    cases: list[Case]
    staff: dict[str, Collector]
    team: Team

    def client(self, who: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(self.staff[who].user)
        return client


def build_book() -> Book:
    """Three borrowers ~20 days late (the internal stage); ann works cases 0 and 1 (1 first by
    priority), bob case 2; lead and boss supervise the team; olga leads another team."""
    today = timezone.localdate()
    team = Team.objects.create(code="internal", name="Internal team", owner="internal_team")
    other = Team.objects.create(code="north", name="North team", owner="north_desk")
    staff = {
        "ann": _collector("ann", team),
        "bob": _collector("bob", team),
        "lead": _collector("lead", team, "team_lead"),
        "boss": _collector("boss", team, "manager"),
        "olga": _collector("olga", other, "team_lead"),
    }
    product = factories.product()
    for n, phone in enumerate(PHONES, start=1):
        owner = factories.borrower(f"B-{n}", phone=phone)
        factories.loan(f"L-{n}", owner, product, start=today - timedelta(days=50))
    day_run(as_of=today, engine="reference")
    evaluate_day(today)
    cases = [Case.objects.get(borrower__ref=f"B-{n}") for n in (1, 2, 3)]
    assert all(case.stage == "internal" for case in cases)
    for case, who, priority in zip(cases, ("ann", "ann", "bob"), (10, 30, 20), strict=True):
        Case.objects.filter(pk=case.pk).update(
            collector=staff[who], assigned_on=today, priority=priority
        )
    for case in cases:
        case.refresh_from_db()
    return Book(today=today, cases=cases, staff=staff, team=team)


@dataclass(frozen=True)
class BookKeys:
    """What a test needs to load the module's book afresh."""

    today: date
    cases: tuple[int, ...]
    staff: tuple[tuple[str, int], ...]
    team: int

    @classmethod
    def of(cls, book: Book) -> BookKeys:
        staff = tuple((who, c.pk) for who, c in book.staff.items())
        return cls(book.today, tuple(c.pk for c in book.cases), staff, book.team.pk)

    def load(self) -> Book:
        cases = Case.objects.in_bulk(self.cases)
        staff = Collector.objects.select_related("user").in_bulk([pk for _, pk in self.staff])
        return Book(
            today=self.today,
            cases=[cases[pk] for pk in self.cases],
            staff={who: staff[pk] for who, pk in self.staff},
            team=Team.objects.get(pk=self.team),
        )


@pytest.fixture(scope="module")
def _web_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[BookKeys]:
    """The book, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, build_book, BookKeys.of)


@pytest.fixture
def book(request: pytest.FixtureRequest, _web_book: BookKeys, db: None) -> Book:
    """The module's book, as built (each test in its own savepoint)."""
    sharing.refuse_transactional(request, "fresh_book")
    return _web_book.load()


@pytest.fixture
def fresh_book(db: None) -> Book:
    """The book built for one test: for transactional tests (a live server), which commit."""
    return build_book()


def no_pii(page: str) -> None:
    """No full phone number (with or without the country code) and no full national ID."""
    for phone in PHONES:
        assert phone not in page and phone[3:] not in page
    assert factories.valid_ric() not in page
