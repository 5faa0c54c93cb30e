"""Complaints per 1,000 cases by collector, agency and root cause, as of a date: a root cause
found after the date and a complaint recorded after it do not count."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from arrears.collections.models import Case
from arrears.complaints import services
from tests.reports.eventbook import at, clock, make_book, rows, run

pytestmark = pytest.mark.django_db


def _complain(book: Any, n: int, day: int, contact: Any, *, month: int = 11, **kw: Any) -> Any:
    with clock(day, 12, month=month):
        return services.file_complaint(
            borrower=Case.objects.get(pk=book.cases[n].pk).borrower,
            kind="complaint",
            category="harassment",
            description="Too many calls.",
            channel="phone",
            contacts=[contact],
            **kw,
        )


def _resolve(book: Any, complaint: Any, day: int, cause: str, month: int = 11) -> None:
    with clock(day, 12, month=month):
        services.resolve(
            complaint,
            by=book.users["lea"],
            root_cause=cause,
            resolution="Looked into.",
            upheld=True,
        )


@pytest.mark.parametrize("audit", [True, False], ids=["audit", "no-audit"])
def test_rates_by_collector_agency_and_root_cause(settings: Any, audit: bool) -> None:
    settings.ARREARS_AUDIT = audit  # the recording instant is the row's own, chain or not
    book = make_book()
    ann = book.call(0, "ann", 3)
    book.call(1, "ann", 3)
    bob = book.call(2, "bob", 4)
    amy = book.call(3, "amy", 5, agency=book.agency)
    _resolve(book, _complain(book, 0, 10, ann), 20, "collector_conduct")
    _complain(book, 3, 12, amy)
    late = _complain(book, 2, 25, bob)
    _resolve(book, late, 1, "no_fault", month=12)  # found after the 30th
    with clock(30, 23, 59):
        then = run("complaint_rates", "2026-11-30")
    people = rows(then, "by_collector")
    assert {k: (v["cases"], v["complaints"], v["upheld"]) for k, v in people.items()} == {
        "amy": (1, 1, 0),
        "ann": (2, 1, 1),
        "bob": (1, 1, 0),
    }
    assert Decimal(people["ann"]["per_1000"]) == Decimal(500)
    firms = rows(then, "by_agency")
    assert (firms["acme"]["cases"], firms["acme"]["complaints"]) == (1, 1)
    causes = rows(then, "by_root_cause")
    assert causes["Collector conduct"]["complaints"] == 1
    assert causes["Not resolved yet"]["complaints"] == 2
    assert Decimal(causes["Not resolved yet"]["per_1000"]) == Decimal(500)  # 2 of 4 cases
    # a complaint filed on 2 December as received on 28 November: not in the report as of 30th
    _complain(book, 1, 2, ann, month=12, received_at=at(28, 9))
    with clock(2, 15, month=12):
        assert run("complaint_rates", "2026-11-30") == then
        later = run("complaint_rates", "2026-12-02")
    assert rows(later, "by_root_cause")["No fault found"]["complaints"] == 1
    assert rows(later, "by_collector")["ann"]["complaints"] == 2
