"""Complaint rates per collector come from the complaint's links."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from arrears.collections.models import ContactAttempt
from arrears.complaints import services
from arrears.complaints.rates import collector_rates
from tests.complaints.conftest import Book


def _contact(book: Book, who: str, days_ago: int) -> ContactAttempt:
    return ContactAttempt.objects.create(
        case=book.case,
        collector=book.staff[who],
        at=timezone.now() - timedelta(days=days_ago),
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="no_answer",
    )


def test_a_complaint_counts_against_the_collector_it_names(book: Book) -> None:
    ann_call = _contact(book, "ann", 1)
    _contact(book, "lead", 1)
    services.file_complaint(
        borrower=book.borrower,
        kind="complaint",
        category="harassment",
        description="Rude caller.",
        channel="phone",
        contacts=[ann_call],
    )
    rows = {r.collector: r for r in collector_rates(book.today - timedelta(days=7), book.today)}
    assert (rows["ann"].cases_worked, rows["ann"].complaints) == (1, 1)
    assert rows["ann"].complaints_per_1000 == 1000
    assert (rows["lead"].complaints, rows["lead"].complaints_per_1000) == (0, 0)
    assert next(iter(collector_rates(book.today, book.today))).collector == "ann"


def test_nobody_worked_nothing_to_divide(book: Book) -> None:
    assert collector_rates(book.today, book.today) == []
