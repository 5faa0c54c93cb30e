"""Filing, the SLA clock, the automatic hold, links, acknowledging and resolving."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from arrears.collections import dayflow
from arrears.collections.models import CaseEvent, ContactAttempt, Hold
from arrears.collections.services import CollectionsError
from arrears.complaints import messages, services
from arrears.complaints.models import Complaint
from arrears.complaints.services import ComplaintError
from arrears.contact.models import OutboxMessage
from arrears.daily.services import day_run
from tests import sharing
from tests.complaints.book import BookKeys, build_book
from tests.complaints.conftest import Book


@pytest.fixture(scope="module")
def _book(django_db_setup: None, django_db_blocker: Any) -> Iterator[BookKeys]:
    """The conftest's book, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, build_book, BookKeys.of)


@pytest.fixture
def book(_book: BookKeys, db: None) -> Book:
    """The module's book, loaded afresh (each test in its own savepoint)."""
    return _book.load()


def _file(book: Book, **kwargs: object) -> Complaint:
    args: dict[str, object] = {
        "borrower": book.borrower,
        "kind": "complaint",
        "category": "harassment",
        "description": "They call me ten times a day.",
        "channel": "phone",
    }
    args.update(kwargs)
    return services.file_complaint(**args)  # type: ignore[arg-type]


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def test_filing_holds_collection_so_the_next_day_sends_no_reminder(book: Book) -> None:
    complaint = _file(book)
    hold = complaint.hold
    assert hold is not None and hold.reason == Hold.Reason.COMPLAINT
    assert hold.channels == [] and hold.ends_on == complaint.resolve_by
    assert complaint.case == book.case
    tomorrow = book.today + timedelta(days=1)
    day_run(as_of=tomorrow, engine="reference")
    dayflow.run(tomorrow)
    assert not OutboxMessage.objects.filter(template="overdue_reminder").exists()
    ack = OutboxMessage.objects.get(key=f"complaint:{complaint.pk}:ack")
    assert ack.template == "complaint_acknowledgement" and ack.channel == "sms"
    assert CaseEvent.objects.filter(case=book.case, to_value="received").exists()


def test_without_a_complaint_the_same_day_sends_a_reminder(book: Book) -> None:
    """The control for the test above: the book does send a reminder on that day."""
    tomorrow = book.today + timedelta(days=1)
    day_run(as_of=tomorrow, engine="reference")
    dayflow.run(tomorrow)
    assert OutboxMessage.objects.filter(template="overdue_reminder").exists()


def test_a_complaint_on_a_friday_is_acknowledged_by_monday(book: Book) -> None:
    friday = date(2026, 12, 4)
    complaint = _file(book, received_at=_at(friday))
    assert complaint.acknowledge_by == date(2026, 12, 7)
    assert complaint.resolve_by == date(2026, 12, 25)  # 15 business days, weekends skipped
    assert complaint.reference == "CP-20261204-0001"
    assert _file(book, received_at=_at(friday, 11)).reference == "CP-20261204-0002"


def test_the_sla_comes_from_the_setting(book: Book, settings: object) -> None:
    settings.ARREARS_COMPLAINT_SLA = {"acknowledge_days": 2, "resolve_days": 5}  # type: ignore[attr-defined]
    complaint = _file(book, received_at=_at(date(2026, 12, 4)))
    assert (complaint.acknowledge_by, complaint.resolve_by) == (
        date(2026, 12, 8),
        date(2026, 12, 11),
    )


def test_a_wrong_amount_complaint_stops_people_not_statements(book: Book) -> None:
    complaint = _file(book, category="wrong_amount")
    assert complaint.hold is not None
    assert complaint.hold.channels == sorted(services.PEOPLE_CHANNELS)


def test_a_dispute_places_a_dispute_hold(book: Book) -> None:
    complaint = _file(book, kind="dispute", category="not_my_debt")
    assert complaint.hold is not None and complaint.hold.reason == Hold.Reason.DISPUTE


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("description", "x" * 10_000, "complaint-description-too-long"),
        ("description", "   ", "complaint-description-required"),
        ("category", "bored", "complaint-unknown-category"),
        ("kind", "rant", "complaint-unknown-kind"),
        ("channel", "pigeon", "complaint-unknown-channel"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_held(
    book: Book, field: str, value: str, code: str
) -> None:
    with pytest.raises(ComplaintError) as caught:
        _file(book, **{field: value})
    assert caught.value.code == code
    assert not Complaint.objects.exists() and not Hold.objects.exists()


def test_recent_contacts_link_their_collectors(book: Book) -> None:
    ann = book.staff["ann"]
    recent = ContactAttempt.objects.create(
        case=book.case,
        collector=ann,
        at=timezone.now() - timedelta(days=2),
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="no_answer",
    )
    ContactAttempt.objects.create(
        case=book.case,
        collector=book.staff["lead"],
        at=timezone.now() - timedelta(days=60),
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="no_answer",
    )
    complaint = _file(book)
    assert list(complaint.contacts.all()) == [recent]
    assert list(complaint.collectors.all()) == [ann]


def test_resolve_releases_the_hold_and_queues_the_resolution(book: Book) -> None:
    complaint = _file(book)
    services.acknowledge(complaint, book.staff["lead"])
    assert complaint.status == Complaint.Status.ACKNOWLEDGED
    done = services.resolve(
        complaint,
        by=book.staff["lead"],
        root_cause="collector_conduct",
        resolution="Coached the collector; calls capped.",
        upheld=True,
    )
    assert done.status == Complaint.Status.RESOLVED and done.upheld is True
    hold = Hold.objects.get(pk=complaint.hold_id)
    assert hold.released_on is not None and hold.released_by == book.staff["lead"]
    message = OutboxMessage.objects.get(key=f"complaint:{complaint.pk}:resolution")
    assert message.template == "complaint_resolution"
    extra = messages.complaint_extra(message)
    assert extra["complaint_ref"] == complaint.reference
    assert extra["complaint_outcome"] in {"upheld", "成立"}
    with pytest.raises(ComplaintError):
        services.resolve(
            done, by=book.staff["boss"], root_cause="no_fault", resolution="again", upheld=False
        )


def test_a_collector_may_not_resolve_and_nobody_resolves_a_complaint_about_them(
    book: Book,
) -> None:
    lead = book.staff["lead"]
    ContactAttempt.objects.create(
        case=book.case,
        collector=lead,
        at=timezone.now() - timedelta(days=1),
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="rpc",
    )
    complaint = _file(book)
    for who, code in (("ann", "complaint-not-allowed"), ("lead", "complaint-about-you")):
        with pytest.raises(ComplaintError) as caught:
            services.resolve(
                complaint,
                by=book.staff[who],
                root_cause="no_fault",
                resolution="ok",
                upheld=False,
            )
        assert caught.value.code == code
    with pytest.raises(ComplaintError):
        services.resolve(
            complaint, by=book.staff["boss"], root_cause="made_up", resolution="ok", upheld=False
        )
    services.resolve(
        complaint, by=book.staff["boss"], root_cause="no_fault", resolution="ok", upheld=False
    )


def test_overdue_names_complaints_past_a_clock(book: Book) -> None:
    complaint = _file(book, received_at=_at(date(2026, 12, 4)))
    assert list(services.overdue(date(2026, 12, 7))) == []
    assert list(services.overdue(date(2026, 12, 8))) == [complaint]  # not acknowledged
    services.acknowledge(complaint, book.staff["boss"])
    assert list(services.overdue(date(2026, 12, 8))) == []
    assert list(services.overdue(date(2026, 12, 28))) == [complaint]  # not resolved
    services.resolve(
        complaint, by=book.staff["boss"], root_cause="no_fault", resolution="ok", upheld=False
    )
    assert list(services.overdue(date(2026, 12, 28))) == []


def test_release_rules_still_apply(book: Book) -> None:
    """The hold is a complaint hold: a collector cannot release it directly either."""
    from arrears.collections.services import release_hold

    complaint = _file(book)
    assert complaint.hold is not None
    with pytest.raises(CollectionsError):
        release_hold(complaint.hold, user=book.staff["ann"])


def test_a_taken_reference_is_skipped(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two filings racing: the second one's first pick is already taken; it takes the next."""
    first = _file(book, received_at=_at(date(2026, 12, 4)))
    picks = iter([first.reference])
    real = services._next_reference
    monkeypatch.setattr(services, "_next_reference", lambda day: next(picks, None) or real(day))
    second = _file(book, received_at=_at(date(2026, 12, 4), 11))
    assert second.reference == "CP-20261204-0002"


def test_the_clock_skips_national_day_and_counts_its_make_up_saturday(book: Book) -> None:
    complaint = _file(book, received_at=_at(date(2026, 9, 30)))
    assert complaint.acknowledge_by == date(2026, 10, 8)  # 1–7 October are holidays
    # 15 business days: 8, 9, 10 (a make-up Saturday), 12–16, 19–23, 26, 27 October
    assert complaint.resolve_by == date(2026, 10, 27)
