"""A queued message is worth sending only while it is valid; a stale backlog is expired, never
sent, and the pack's caps keep even a valid backlog to one text and one robocall a day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from arrears.collections.models import WorkItem
from arrears.collections.workflow import evaluate_day
from arrears.contact import dispatch
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import enqueue_due, valid_until
from arrears.daily.services import day_run
from arrears.ledger import models
from tests import sharing
from tests.contact.conftest import (
    DAY,
    SHANGHAI,
    Recorder,
    at,
    borrower_ids,
    load_borrowers,
    make_borrowers,
)

pytestmark = pytest.mark.usefixtures("plain_templates")

#: Twenty days without a dispatcher: from a week before the first due date (15 Feb) to day 13
#: past it, the last day the reminder stage sends an SMS.
FIRST, LAST = date(2026, 2, 9), date(2026, 2, 28)
#: The last day before the first message falls due (the pre-due reminder, 12 Feb).
QUIET = date(2026, 2, 11)


def test_a_reminder_is_valid_through_its_own_day_a_letter_for_two_weeks(settings: Any) -> None:
    midnight = datetime(2026, 2, 17, tzinfo=SHANGHAI)
    assert valid_until("sms", "overdue_reminder", DAY) == midnight
    assert valid_until("letter", "lawyer_letter", DAY) == midnight + timedelta(days=14)
    settings.ARREARS_MESSAGE_VALID_DAYS = {"sms": 2, "sms:pre_due_reminder": 0}
    assert valid_until("sms", "overdue_reminder", DAY) == midnight + timedelta(days=2)
    assert valid_until("sms", "pre_due_reminder", DAY) == midnight  # the template wins
    assert valid_until("voice", "overdue_robocall", DAY) == midnight  # not listed: its day


def test_a_message_the_gate_defers_past_its_validity_expires_at_once(
    book: list[models.Borrower],
) -> None:
    enqueue_due(DAY)
    sms = Recorder()
    summary = dispatch.dispatch_once({"sms": sms}, now=lambda: at(22, 30))
    assert (summary.expired, summary.deferred, summary.sent) == (3, 0, 0) and not sms.sent
    message = OutboxMessage.objects.get(borrower=book[0])
    assert message.status == "expired"
    assert message.status_reason.startswith(f"expired: deferred to {DAY + timedelta(1)} 08:00")
    assert "cn.hours" in message.status_reason and f"through {DAY}" in message.status_reason
    assert message.work_item.status == "cancelled"
    assert "expired" in message.work_item.status_reason


def _days(first: date, last: date) -> None:
    """Each day from ``first`` to ``last``: the day run, the workflow, the outbox — and no
    dispatcher."""
    day = first
    while day <= last:
        day_run(as_of=day, engine="reference")
        evaluate_day(day)
        enqueue_due(day)
        day += timedelta(days=1)


def _the_quiet_days() -> list[int]:
    """The ``book`` fixture's three borrowers before any day was run, then the first days of
    the twenty, through :data:`QUIET`: nothing is queued yet, so no message's validity was
    fixed before a test sets ``ARREARS_MESSAGE_VALID_DAYS``."""
    people = make_borrowers()
    _days(FIRST, QUIET)
    assert not OutboxMessage.objects.exists()
    return borrower_ids(people)


@pytest.fixture(scope="class")
def _quiet(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[int]]:
    """:func:`_the_quiet_days`, built once for the class that asks for it (tests/sharing.py:
    each test in its own savepoint, all rolled back after the class's last test)."""
    yield from sharing.module_book(django_db_blocker, _the_quiet_days, lambda ids: ids)


class TestTwentyDaysWithoutADispatcher:
    """Twenty days without a dispatcher: the class's book has run the first of them; each test
    runs the rest (:data:`QUIET` + 1 through :data:`LAST`), with its own settings."""

    @pytest.fixture
    def borrowers(self, _quiet: list[int], db: None) -> list[models.Borrower]:
        """The three borrowers, loaded afresh."""
        return load_borrowers(_quiet)

    @pytest.mark.slow
    def test_after_twenty_days_without_dispatch_only_todays_messages_go_out(
        self, borrowers: list[models.Borrower]
    ) -> None:
        _days(QUIET + timedelta(days=1), LAST)
        backlog = Counter(OutboxMessage.objects.values_list("borrower_id", flat=True))
        assert set(backlog.values()) == {7}  # pre-due, five SMS reminders, one robocall each
        sms, voice = Recorder(), Recorder("voice")
        summary = dispatch.dispatch_once({"sms": sms, "voice": voice}, now=lambda: at(10, 0, LAST))

        assert (summary.sent, summary.expired) == (3, 18), summary.line()
        assert not voice.sent and Counter(m.to for m in sms.sent) == Counter(
            {"+8613800000000": 1, "+8613800000001": 1, "+8613800000002": 1}
        )
        sent = OutboxMessage.objects.filter(status="sent")
        assert {m.due_on for m in sent} == {LAST}
        expired = OutboxMessage.objects.filter(status="expired")
        assert {m.due_on for m in expired} == {date(2026, 2, d) for d in (12, 16, 18, 19, 22, 25)}
        for message in expired:
            assert message.status_reason.startswith(f"expired: valid through {message.due_on}")
            assert message.work_item.status == "cancelled"
        assert not OutboxMessage.objects.filter(status="queued").exists()

    @pytest.mark.slow
    def test_a_valid_backlog_still_goes_out_one_text_and_one_robocall_a_day(
        self, borrowers: list[models.Borrower], settings: Any
    ) -> None:
        settings.ARREARS_MESSAGE_VALID_DAYS = {"sms": 30, "voice": 30}
        _days(QUIET + timedelta(days=1), LAST)
        sms, voice = Recorder(), Recorder("voice")
        dispatch.dispatch_once({"sms": sms, "voice": voice}, now=lambda: at(10, 0, LAST))

        per_person = Counter((m.to, "sms") for m in sms.sent) + Counter(
            (m.to, "voice") for m in voice.sent
        )
        assert set(per_person.values()) == {1} and len(per_person) == 6  # 3 borrowers x 2 channels
        waiting = OutboxMessage.objects.filter(status="queued", channel="sms")
        assert waiting.count() == 3 * 4  # the other four reminders wait for the daily cap
        assert all("cn.texts-daily" in m.status_reason for m in waiting)
        stale = OutboxMessage.objects.get(borrower=borrowers[0], template="pre_due_reminder")
        assert stale.status == "suppressed"
        assert stale.status_reason.startswith("the instalment due 2026-02-15 is past due on")
        assert WorkItem.objects.filter(status="done").count() == 6


def test_dispatch_once_prints_a_summary_even_when_nothing_is_due(db: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("dispatch", "--once", "--now", "2026-02-16T10:00:00+08:00", stdout=out)
    assert out.getvalue().startswith("0 due; 0 sent, 0 deferred, 0 suppressed, 0 expired")
