"""The team pages' book: twelve borrowers in arrears worked by one team, a second team, and
daily runs thirty days apart (so the dashboard has roll rates to show).

Ten loans started 50 days before today (about 20 days late today, not yet due 30 days ago)
and two started 80 days before (about 20 days late 30 days ago, about 50 today). Every case
starts with ann; lead and boss supervise the team, olga leads the north team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.collections.models import Case, Collector, ContactAttempt, Promise, Team
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.ledger.models import Loan, Payment
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


@dataclass(frozen=True)
class TeamBookKeys:
    """What a test needs to load a book built once for its module (tests/sharing.py) afresh:
    ids and dates, never the build's objects, which a test may change in memory."""

    today: date
    before: date
    cases: tuple[int, ...]
    staff: tuple[tuple[str, int], ...]
    team: int
    other: int

    @classmethod
    def of(cls, book: TeamBook) -> TeamBookKeys:
        return cls(
            today=book.today,
            before=book.before,
            cases=tuple(c.pk for c in book.cases),
            staff=tuple((who, c.pk) for who, c in book.staff.items()),
            team=book.team.pk,
            other=book.other.pk,
        )

    def load(self) -> TeamBook:
        cases = Case.objects.in_bulk(self.cases)
        staff = Collector.objects.select_related("user").in_bulk([pk for _, pk in self.staff])
        teams = Team.objects.in_bulk([self.team, self.other])
        return TeamBook(
            today=self.today,
            before=self.before,
            cases=[cases[pk] for pk in self.cases],
            staff={who: staff[pk] for who, pk in self.staff},
            team=teams[self.team],
            other=teams[self.other],
        )


def _at(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def seed_figures(book: TeamBook) -> None:
    """Three attempts by ann today (two reach the borrower), one by bob, one by ann
    yesterday; promises made and resolved today and earlier; payments this month."""
    today, case = book.today, book.cases[0]
    ann, bob = book.staff["ann"].user, book.staff["bob"].user
    for who, at, outcome in [
        (ann, _at(today, 9), "rpc"),
        (ann, _at(today, 10), "promise"),
        (ann, _at(today, 11), "no_answer"),
        (bob, _at(today, 12), "wrong_number"),
        (ann, _at(today - timedelta(days=1), 11), "rpc"),
    ]:
        ContactAttempt.objects.create(
            case=case,
            collector=who,
            at=at,
            channel="call",
            direction="outbound",
            party="borrower",
            outcome=outcome,
        )
    for made, status, resolved in [
        (today, "pending", None),
        (today, "pending", None),
        (today - timedelta(days=6), "kept", today),
        (today - timedelta(days=9), "broken", today - timedelta(days=4)),
        (today - timedelta(days=12), "partially_kept", today - timedelta(days=2)),
        (today - timedelta(days=45), "broken", today - timedelta(days=35)),
    ]:
        Promise.objects.create(
            case=book.cases[1],
            amount_minor=10_000,
            made_on=made,
            due_date=resolved or today + timedelta(days=3),
            status=status,
            resolved_on=resolved,
        )
    loan = Loan.objects.get(ref="L-03")
    month_start = today.replace(day=1)
    Payment.objects.create(
        ref="P-1", loan=loan, value_date=month_start, amount_minor=123_456, currency="CNY"
    )
    Payment.objects.create(
        ref="P-2",
        loan=loan,
        value_date=today,
        amount_minor=50_000,
        currency="CNY",
        reversed_on=today,
        reversal_ref="R-2",
    )
    Payment.objects.create(
        ref="P-3",
        loan=loan,
        value_date=month_start - timedelta(days=1),
        amount_minor=70_000,
        currency="CNY",
    )
