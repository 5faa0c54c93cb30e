"""The field-visit book of ``conftest.field``, built once for a module (tests/sharing.py):
:func:`build_field` writes it, :class:`FieldKeys` loads it afresh for each test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from arrears.collections.models import Case, Team
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.fieldwork.models import FieldAgent
from tests import factories
from tests.fieldwork.conftest import AGENT_IDS, Field


def build_field() -> Field:
    """The same book as ``conftest.field``: borrower B-F, CNY 240,000 lent 200 days ago
    (~170 days late, well over CNY 50,000 due); ann (collector) works the case, lead and boss
    supervise; fay and gus are field agents; olga is nobody."""
    today = timezone.localdate()
    product = factories.product()
    owner = factories.borrower("B-F", phone="+8613900000009")
    factories.loan(
        "L-F", owner, product, principal_minor=24_000_000, start=today - timedelta(days=200)
    )
    day_run(as_of=today, engine="reference")
    evaluate_day(today)
    case = Case.objects.get(borrower=owner)
    team = Team.objects.create(code="field", name="Field team", owner=case.owner or "field_team")
    staff: dict[str, Any] = factories.team_staff(team)
    Case.objects.filter(pk=case.pk).update(collector=staff["ann"].collector, assigned_on=today)
    case.refresh_from_db()
    agents = {}
    for name, full in (("fay", "方芳"), ("gus", "顾强")):
        staff[name] = User.objects.create_user(username=name)
        agents[name] = FieldAgent.objects.create(
            user=staff[name], full_name=full, id_number=AGENT_IDS[name], phone="+8613700000001"
        )
    return Field(today=today, case=case, staff=staff, agents=agents)


@dataclass(frozen=True)
class FieldKeys:
    """What a test needs to load the book afresh: ids, never the build's objects."""

    today: date
    case: int
    staff: tuple[tuple[str, int], ...]
    agents: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, field: Field) -> FieldKeys:
        return cls(
            today=field.today,
            case=field.case.pk,
            staff=tuple((who, user.pk) for who, user in field.staff.items()),
            agents=tuple((who, agent.pk) for who, agent in field.agents.items()),
        )

    def load(self) -> Field:
        users = User.objects.in_bulk([pk for _, pk in self.staff])
        agents = FieldAgent.objects.select_related("user").in_bulk([pk for _, pk in self.agents])
        return Field(
            today=self.today,
            case=Case.objects.get(pk=self.case),
            staff={who: users[pk] for who, pk in self.staff},
            agents={who: agents[pk] for who, pk in self.agents},
        )
