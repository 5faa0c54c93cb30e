"""The demo seeding: people with logins, visits only on eligible cases, idempotent."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate

from arrears.collections.models import Case, Collector
from arrears.fieldwork import demo
from arrears.fieldwork.models import FieldAgent, FieldVisit
from tests.fieldwork.conftest import Field


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_people_and_visits(field: Field) -> None:
    logins = demo.seed_people()
    assert demo.seed_people() == logins  # idempotent
    assert [u for u, _, _ in logins] == ["flora", "carl", "agent1", "agent2"]
    assert authenticate(username="agent1", password=demo.PASSWORD) is not None
    assert FieldAgent.objects.filter(user__username__startswith="agent").count() == 2
    carl = Collector.objects.get(user__username="carl")
    Case.objects.filter(pk=field.case.pk).update(collector=carl)
    assert demo.seed_visits(field.today) == {}  # not eligible yet: no visit
    field.break_promises()
    assert demo.seed_visits(field.today) == {"requested": 1}
    assert demo.seed_visits(field.today) == {}
    assert FieldVisit.objects.get().requested_by.get_username() == "carl"


def test_a_demo_visit_walks_to_scheduled(field: Field) -> None:
    demo.seed_people()
    carl = Collector.objects.get(user__username="carl")
    Case.objects.filter(pk=field.case.pk).update(collector=carl)
    field.break_promises()
    agents = list(FieldAgent.objects.filter(user__username__startswith="agent"))
    demo._walk(
        field.case,
        "scheduled",
        carl.user,
        Collector.objects.get(user__username="flora").user,
        agents,
        field.today,
    )
    visit = FieldVisit.objects.get()
    assert visit.status == FieldVisit.Status.SCHEDULED and visit.agents.count() == 2
