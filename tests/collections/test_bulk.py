"""The day run's bulk writers: what they write is what one ORM call per row would write."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from arrears.collections import bulk, events
from arrears.collections.models import Case, CaseEvent, WorkItem
from tests import factories

DAY = date(2026, 6, 5)


@pytest.fixture
def cases(db: None) -> list[Case]:
    return [
        Case.objects.create(borrower=factories.borrower(f"B-{n}"), currency="CNY", opened_on=DAY)
        for n in range(3)
    ]


def test_a_days_events_are_written_once_each_in_order_first_values_winning(
    cases: list[Case],
) -> None:
    first, second, third = (c.pk for c in cases)
    day = [
        events.DayEvent(first, CaseEvent.Kind.STAGE, "", "reminder", "dpd >= 1"),
        events.DayEvent(first, CaseEvent.Kind.STATUS, "open", "promised", "a promise"),
        events.DayEvent(second, CaseEvent.Kind.STAGE, "", "internal", "dpd >= 16"),
        events.DayEvent(second, CaseEvent.Kind.STAGE, "", "internal", "a repeat's cause"),
    ]
    assert events.record_day(day, DAY, strategy="default v1") == 3
    written = list(CaseEvent.objects.order_by("id").values_list("case_id", "kind", "cause", "key"))
    assert written == [
        (first, "stage", "dpd >= 1", f"{first}:stage:reminder:2026-06-05"),
        (first, "status", "a promise", f"{first}:status:promised:2026-06-05"),
        (second, "stage", "dpd >= 16", f"{second}:stage:internal:2026-06-05"),
    ]
    event = CaseEvent.objects.get(case_id=first, kind="stage")
    assert (event.on, event.strategy, event.actor, event.at is not None) == (
        DAY,
        "default v1",
        None,
        True,
    )
    again = [*day, events.DayEvent(third, CaseEvent.Kind.OPENED, "", "open", "dpd 1")]
    assert events.record_day(again, DAY) == 1  # a re-run writes only what is new
    assert CaseEvent.objects.count() == 4


def test_a_day_event_and_a_recorded_one_share_their_key(cases: list[Case]) -> None:
    case = cases[0]
    key = events.day_key(case, CaseEvent.Kind.CLOSED, "resolved", DAY)
    events.record(case, CaseEvent.Kind.CLOSED, "open", "resolved", "cured", None, DAY, key=key)
    closing = events.DayEvent(case.pk, CaseEvent.Kind.CLOSED, "open", "resolved", "paid")
    assert events.record_day([closing], DAY) == 0
    assert events.day_key(case.pk, CaseEvent.Kind.CLOSED, "resolved", DAY) == key


def test_inserted_rows_get_their_fields_defaults_and_a_repeated_key_is_skipped(
    cases: list[Case],
) -> None:
    borrower = cases[0].borrower_id
    names = ["key", "borrower", "due_on", "stage", "treatment", "channel", "template", "owner"]
    names += ["reason", "strategy", "variant"]
    row = ["k1", borrower, DAY, "reminder", 0, "sms", "overdue_reminder", "reminders"]
    row += ["why", "default v1", "champion"]
    before = timezone.now()
    assert bulk.insert_rows(WorkItem, names, [row, ["k2", *row[1:]]]) == 2
    assert bulk.insert_rows(WorkItem, names, [row]) == 0  # its key is stored: skipped, not counted
    item = WorkItem.objects.get(key="k1")
    assert (item.status, item.status_reason, item.priority, item.case, item.collector) == (
        WorkItem.Status.PENDING,
        "",
        0,
        None,
        None,
    )
    assert item.created_at >= before and item.completed_at is None
    assert WorkItem.objects.count() == 2


def test_updated_rows_change_the_named_fields_only(cases: list[Case]) -> None:
    first, second, _ = cases
    rows = [
        (Case.Status.PLACED, "external", DAY, first.pk),
        (Case.Status.ON_HOLD, "reminder", None, second.pk),
    ]
    assert bulk.update_rows(Case, ["status", "stage", "stage_since"], rows) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.stage, first.stage_since, first.currency) == (
        "placed",
        "external",
        DAY,
        "CNY",
    )
    assert (second.status, second.stage, second.stage_since) == ("on_hold", "reminder", None)
    assert cases[2].status == Case.Status.OPEN
    assert bulk.update_rows(Case, ["status"], []) == 0


def test_chunks_cover_every_item_once() -> None:
    assert [list(c) for c in bulk.chunks(list(range(5)), 2)] == [[0, 1], [2, 3], [4]]


def test_existing_names_the_stored_values_of_a_unique_column(cases: list[Case]) -> None:
    borrower = cases[0].borrower_id
    names = ["key", "borrower", "due_on", "stage", "treatment", "channel", "template", "owner"]
    row = ["stored", borrower, DAY, "reminder", 0, "sms", "overdue_reminder", "reminders"]
    bulk.insert_rows(WorkItem, names, [row])
    asked = ["stored", "new", *(f"n{i}" for i in range(2000))]  # more than one SQLite batch
    assert bulk.existing(WorkItem, "key", asked) == {"stored"}
    assert bulk.existing(WorkItem, "key", []) == set()
