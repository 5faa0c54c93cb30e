"""The team pages' book: twelve borrowers in arrears worked by one team, a second team, and
daily runs thirty days apart (so the dashboard has roll rates to show).

Ten loans started 50 days before today (about 20 days late today, not yet due 30 days ago)
and two started 80 days before (about 20 days late 30 days ago, about 50 today). Every case
starts with ann; lead and boss supervise the team, olga leads the north team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.collections.models import Case, Collector, Team
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from tests import factories

#: The team's monthly target: CNY 5,000.00.
TARGET_MINOR = 500_000


def collector(username: str, team: Team, role: str = "collector") -> Collector:
    user = User.objects.create_user(username=username, password="pw-" + username)
    return Collector.objects.create(user=user, team=team, role=role)


@dataclass
class TeamBook:
    today: date
    before: date
    cases: list[Case]
    staff: dict[str, Collector]
    team: Team
    other: Team

    def client(self, who: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(self.staff[who].user)
        return client


def make_team_book() -> TeamBook:
    today = timezone.localdate()
    before = today - timedelta(days=30)
    team = Team.objects.create(
        code="internal",
        name="Internal team",
        owner="internal_team",
        monthly_target_minor=TARGET_MINOR,
    )
    other = Team.objects.create(code="north", name="North team", owner="north_desk")
    staff = {
        "ann": collector("ann", team),
        "bob": collector("bob", team),
        "cat": collector("cat", team),
        "lead": collector("lead", team, "team_lead"),
        "boss": collector("boss", team, "manager"),
        "olga": collector("olga", other, "team_lead"),
        "nick": collector("nick", other),
    }
    product = factories.product()
    for n in range(1, 13):
        owner = factories.borrower(f"B-{n:02d}", phone=f"+86138000000{n:02d}")
        start = today - timedelta(days=80 if n > 10 else 50)
        factories.loan(f"L-{n:02d}", owner, product, start=start)
    day_run(as_of=before, engine="reference")
    day_run(as_of=today, engine="reference")
    evaluate_day(today)
    cases = list(Case.objects.filter(closed_on__isnull=True).order_by("borrower__ref"))
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(
        collector=staff["ann"], assigned_on=today
    )
    for case in cases:
        case.refresh_from_db()
    return TeamBook(today, before, cases, staff, team, other)
