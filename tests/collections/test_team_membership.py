"""A collector's team history (``TeamMembership``): every creation and move is recorded with
its instant, and the migration that introduced it rebuilds it from the audit chain."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import User

from arrears.collections.models import Collector, Team, TeamMembership

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("arrears.collections.migrations.0010_team_membership")
JOINED = datetime(2026, 11, 2, 1, tzinfo=UTC)
MOVED = datetime(2026, 12, 2, 1, tzinfo=UTC)


def history(collector: Collector) -> list[tuple[str, datetime | None]]:
    rows = TeamMembership.objects.filter(collector=collector).order_by("id")
    return [(m.team.code, m.since) for m in rows.select_related("team")]


def a_moved_collector() -> tuple[Collector, Team, Team]:
    one = Team.objects.create(code="t1", name="One", owner="team")
    two = Team.objects.create(code="t2", name="Two", owner="team")
    with time_machine.travel(JOINED, tick=False):
        ann = Collector.objects.create(user=User.objects.create_user("ann"), team=one)
    with time_machine.travel(MOVED, tick=False):
        ann.capacity = 50
        ann.save()  # not a move
        ann.team = two
        ann.save()
    return ann, one, two


def test_creating_and_moving_a_collector_records_each_team_from_its_instant() -> None:
    ann, _, _ = a_moved_collector()
    assert history(ann) == [("t1", JOINED), ("t2", MOVED)]


def test_the_backfill_rebuilds_the_moves_from_the_audit_chain(settings: Any) -> None:
    settings.ARREARS_AUDIT = True
    ann, _, _ = a_moved_collector()
    TeamMembership.objects.all().delete()
    MIGRATION.backfill(apps, None)
    assert history(ann) == [("t1", None), ("t2", MOVED)]


def test_without_the_chain_the_backfill_keeps_the_current_team_from_the_start(
    settings: Any,
) -> None:
    settings.ARREARS_AUDIT = False
    ann, _, _ = a_moved_collector()
    TeamMembership.objects.all().delete()
    MIGRATION.backfill(apps, None)
    assert history(ann) == [("t2", None)]


def test_a_chain_that_does_not_end_on_the_current_team_is_not_trusted(settings: Any) -> None:
    settings.ARREARS_AUDIT = True
    ann, one, _ = a_moved_collector()
    TeamMembership.objects.all().delete()
    Collector.objects.filter(pk=ann.pk).update(team=one)  # moved around the chain
    MIGRATION.backfill(apps, None)
    assert history(ann) == [("t1", None)]
