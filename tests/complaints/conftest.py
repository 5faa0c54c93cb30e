"""A small book for complaints: one borrower a few days late (the ladder sends SMS reminders),
a team with a collector, a lead and a manager, and a user with no role."""

from __future__ import annotations

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
from arrears.ledger.models import Borrower
from tests import factories


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
    """Borrower B-C, CNY 12,000 over 12 months lent 40 days ago: a few days late."""
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
    staff: dict[str, Any] = {}
    for name, role in (("ann", "collector"), ("lead", "team_lead"), ("boss", "manager")):
        staff[name] = User.objects.create_user(username=name)
        Collector.objects.create(user=staff[name], team=team, role=role)
    staff["olga"] = User.objects.create_user(username="olga")
    return Book(today=today, borrower=owner, case=case, staff=staff)
