"""One writer of a case's history: idempotent by key, new every time without one."""

from __future__ import annotations

from datetime import date

import pytest

from arrears.collections import events
from arrears.collections.models import Case, CaseEvent
from tests import factories

DAY = date(2026, 6, 5)


@pytest.fixture
def case(db: None) -> Case:
    return Case.objects.create(borrower=factories.borrower(), currency="CNY", opened_on=DAY)


def test_a_keyed_event_is_written_once_however_often_it_is_recorded(case: Case) -> None:
    key = events.day_key(case, CaseEvent.Kind.STAGE, "soft", DAY)
    first, created = events.record(
        case, CaseEvent.Kind.STAGE, "", "soft", "dpd >= 1", None, DAY, key=key, strategy="v1"
    )
    again, created_again = events.record(
        case, CaseEvent.Kind.STAGE, "", "soft", "a rerun's cause", None, DAY, key=key
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert list(CaseEvent.objects.values_list("cause", "strategy", "to_value")) == [
        ("dpd >= 1", "v1", "soft")
    ]


def test_events_without_a_key_are_new_every_time(case: Case) -> None:
    for _ in range(2):
        events.record(case, CaseEvent.Kind.CONTACT, "", "no answer", "call", None, DAY)
    assert CaseEvent.objects.filter(case=case, key__isnull=True).count() == 2


def test_the_day_key_separates_days_values_and_cases(case: Case) -> None:
    other = Case.objects.create(
        borrower=factories.borrower("B2", phone=None), currency="CNY", opened_on=DAY
    )
    kind = CaseEvent.Kind.ASSIGNED
    keys = {
        events.day_key(case, kind, "team-a", DAY),
        events.day_key(case, kind, "team-a", date(2026, 6, 6)),
        events.day_key(case, kind, "team-b", DAY),
        events.day_key(case, kind, "", DAY),
        events.day_key(other, kind, "team-a", DAY),
    }
    assert len(keys) == 5
    assert events.day_key(case, kind, "", DAY) == f"{case.pk}:assigned:-:2026-06-05"
