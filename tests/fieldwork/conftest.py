"""A small book for field visits: one borrower deep in arrears with a large balance (eligible
once two promises are broken), a team with a collector, a lead and a manager working the case,
and two field agents.

Where ``arrears.verification`` is not installed yet (it lands on main in parallel) the
credential backend is a fake with the same contract, so the workflow is tested either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.collections.models import Case, Collector, Promise, Team
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.fieldwork.models import FieldAgent
from tests import factories

AGENT_IDS = {"fay": factories.valid_ric("11010119850101123"), "gus": factories.valid_ric()}


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Any) -> Iterator[None]:
    """Authorisation letters go to a temporary folder."""
    settings.ARREARS_FIELDWORK_DIR = str(tmp_path / "letters")
    yield


def _user(username: str) -> User:
    return User.objects.create_user(username=username)  # no password: tests log in directly


@dataclass
class Field:
    today: date
    case: Case
    staff: dict[str, Any]
    agents: dict[str, FieldAgent]

    def client(self, who: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(self.staff[who])
        return client

    def break_promises(self, n: int = 2) -> None:
        for k in range(n):
            made = self.today - timedelta(days=40 + 10 * k)
            Promise.objects.create(
                case=self.case,
                amount_minor=100_000,
                made_on=made,
                due_date=made + timedelta(days=3),
                status=Promise.Status.BROKEN,
                resolved_on=made + timedelta(days=4),
            )


@pytest.fixture
def field(db: None) -> Field:
    """Borrower B-F, CNY 240,000 lent 200 days ago, so ~170 days late with well over
    CNY 50,000 due; the case is worked by ann (collector), lead and boss supervise."""
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
    staff: dict[str, Any] = {}
    for name, role in (("ann", "collector"), ("lead", "team_lead"), ("boss", "manager")):
        staff[name] = _user(name)
        Collector.objects.create(user=staff[name], team=team, role=role)
    Case.objects.filter(pk=case.pk).update(collector=staff["ann"].collector, assigned_on=today)
    case.refresh_from_db()
    agents = {}
    for name, full in (("fay", "方芳"), ("gus", "顾强")):
        staff[name] = _user(name)
        agents[name] = FieldAgent.objects.create(
            user=staff[name], full_name=full, id_number=AGENT_IDS[name], phone="+8613700000001"
        )
    staff["olga"] = _user("olga")  # nobody: no collector profile, no agent profile
    return Field(today=today, case=case, staff=staff, agents=agents)
