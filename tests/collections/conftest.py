"""Fixtures for the collections workflow: a team, collectors with roles, a small book."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from arrears.collections.models import Collector, Team


def make_collector(username: str, team: Team, role: str = "collector", **kw: Any) -> Collector:
    user = User.objects.create_user(username=username, password="x")
    return Collector.objects.create(user=user, team=team, role=role, **kw)


def make_internal_team() -> Team:
    return Team.objects.create(code="internal", name="Internal team", owner="internal_team")


def make_staff(team: Team) -> dict[str, Collector]:
    """ann and bob (collectors), lead (team lead) and boss (a manager, unavailable)."""
    return {
        "ann": make_collector("ann", team),
        "bob": make_collector("bob", team),
        "lead": make_collector("lead", team, role="team_lead"),
        "boss": make_collector("boss", team, role="manager", available=False),
    }


@pytest.fixture
def internal_team(db: None) -> Team:
    return make_internal_team()


@pytest.fixture
def staff(internal_team: Team) -> dict[str, Collector]:
    return make_staff(internal_team)
