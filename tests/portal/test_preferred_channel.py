"""A preferred channel moves the ladder's reminders there when the lender has the wording for it
and the borrower an address; otherwise the ladder's channel stands. Nobody gets two."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from arrears.collections.models import WorkItem
from arrears.collections.workflow import evaluate_day
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import enqueue_due
from arrears.contact.services import set_preferences
from arrears.daily.services import day_run
from arrears.ledger.models import Borrower
from arrears.notices.models import MessageTemplate
from tests.portal.conftest import Book


def _tomorrows_reminders(book: Book) -> list[tuple[str, str]]:
    tomorrow = book.today + timedelta(days=1)
    day_run(as_of=tomorrow, engine="reference")
    evaluate_day(tomorrow)
    enqueue_due(tomorrow)
    items = WorkItem.objects.filter(borrower_id=book.borrower.pk, due_on=tomorrow)
    assert items.filter(channel="sms").exists()  # the ladder asks for an SMS
    return list(
        OutboxMessage.objects.filter(work_item__in=items).values_list("channel", "template")
    )


def _email_wording(code: str) -> None:
    sms = MessageTemplate.objects.get(code=code, locale="en", channel="sms", status="active")
    MessageTemplate.objects.create(
        code=code,
        locale="en",
        channel="email",
        version=1,
        subject="Your loan payment is overdue",
        body=sms.body,
        status="active",
        activated_at=timezone.now(),
    )


def test_a_reminder_goes_by_email_when_the_borrower_prefers_it_and_we_have_the_words(book: Book):
    Borrower.objects.filter(pk=book.borrower.pk).update(email="alex@example.com")
    set_preferences(book.borrower, preferred_channel="email", source="portal")
    _email_wording("overdue_reminder")
    assert _tomorrows_reminders(book) == [("email", "overdue_reminder")]


def test_without_the_words_the_ladders_channel_stands(book: Book):
    Borrower.objects.filter(pk=book.borrower.pk).update(email="alex@example.com")
    set_preferences(book.borrower, preferred_channel="email", source="portal")
    assert _tomorrows_reminders(book) == [("sms", "overdue_reminder")]  # no email wording


def test_with_the_words_but_no_address_the_ladders_channel_stands(book: Book):
    set_preferences(book.borrower, preferred_channel="email", source="portal")
    _email_wording("overdue_reminder")
    assert _tomorrows_reminders(book) == [("sms", "overdue_reminder")]  # no email address


def test_the_case_page_shows_a_collector_what_the_borrower_asked_for(book: Book):
    from datetime import time

    from django.contrib.auth.models import User
    from django.test import Client

    from arrears.collections.models import Case, Collector, Team

    team = Team.objects.create(code="t1", name="Team", owner=book.case.owner or "team")
    ann = User.objects.create_user(username="ann")
    Collector.objects.create(user=ann, team=team, role="collector")
    Case.objects.filter(pk=book.case.pk).update(collector=ann.collector)
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(ann)
    assert 'id="case-preferences"' not in staff.get(f"/cases/{book.case.pk}/").content.decode()
    set_preferences(
        book.borrower,
        preferred_channel="sms",
        preferred_hours=(time(18), time(20)),
        no_emergency_contacts=True,
        source="portal",
    )
    page = staff.get(f"/cases/{book.case.pk}/").content.decode()
    assert 'id="case-preferences"' in page and "18:00–20:00" in page
    assert 'id="no-emergency-contacts"' in page and "(portal)" in page
