"""Promises kept: outcomes as of the report's date, by who took the promise, and the as-of rule
(a payment or a promise recorded after the date changes nothing for that date)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from arrears.reports.history import NOBODY
from tests.reports.eventbook import at, clock, make_book, rows, run

pytestmark = pytest.mark.django_db


def test_outcomes_by_collector_team_and_agency_and_the_as_of_rule() -> None:
    book = make_book()
    book.promise(0, "ann", made=3, due=10, amount=50_000)  # paid on time: kept
    book.pay(0, "P-0", date(2026, 11, 9), 50_000, at(9))
    book.promise(1, "ann", made=3, due=12, amount=100_000)  # 30,000 arrives: partly kept
    book.pay(1, "P-1", date(2026, 11, 11), 30_000, at(11))
    book.promise(2, "bob", made=4, due=15, amount=80_000)  # nothing: broken
    book.promise(3, "amy", made=5, due=20, amount=40_000)  # the agency's: kept
    book.pay(3, "P-3", date(2026, 11, 18), 45_000, at(18))
    book.promise(2, "bob", made=20, due=10, amount=70_000)  # due in December: not in November
    book.promise(0, "ann", made=27, due=30, amount=20_000)  # due on the last day: pending
    with clock(30, 23, 59):
        then = run("promises_kept", "2026-11-30")
    people = rows(then, "by_collector")
    assert {k: (v["kept"], v["partial"], v["broken"], v["pending"]) for k, v in people.items()} == {
        "amy": (1, 0, 0, 0),
        "ann": (1, 1, 0, 1),
        "bob": (0, 0, 1, 0),
    }
    assert Decimal(people["ann"]["kept_rate"]) == Decimal(1) / 2
    assert people["ann"]["promised"] == 150_000 and people["ann"]["paid"] == 80_000
    assert people["ann"]["kept_amount"] == 50_000
    assert people["amy"]["paid"] == 40_000  # at most the promised amount
    teams = rows(then, "by_team")
    assert (teams["t1"]["promises"], teams[NOBODY]["promises"]) == (4, 1)  # amy has no team
    firms = rows(then, "by_agency")
    assert (firms["acme"]["kept"], firms[NOBODY]["promises"]) == (1, 4)
    # recorded after the 30th: the last promise's payment (back-dated) and a back-dated promise
    book.pay(0, "P-late", date(2026, 11, 30), 20_000, at(1, 9, month=12))
    book.promise(1, "ann", made=25, due=28, amount=10_000, recorded=at(2, month=12))
    with clock(2, 15, month=12):
        assert run("promises_kept", "2026-11-30") == then
        later = run("promises_kept", "2026-12-02")
    people = rows(later, "by_collector")
    assert (people["ann"]["promises"], people["ann"]["kept"], people["ann"]["pending"]) == (4, 2, 0)
    assert people["ann"]["broken"] == 1  # the back-dated promise, nothing paid by its date


def test_derived_outcomes_agree_with_what_the_daily_run_judged() -> None:
    from arrears.collections.models import Promise
    from arrears.collections.workflow import evaluate_day
    from arrears.daily.services import day_run
    from arrears.reports import history

    book = make_book()
    book.promise(0, "ann", made=3, due=10, amount=50_000)
    book.pay(0, "P-0", date(2026, 11, 10), 50_000, at(10))  # on the due date: kept
    book.promise(1, "ann", made=3, due=12, amount=100_000)
    book.pay(1, "P-1", date(2026, 11, 11), 30_000, at(11))  # partly
    book.promise(2, "bob", made=4, due=15, amount=80_000)  # broken
    book.promise(3, "amy", made=5, due=20, amount=40_000)  # still running on the 16th
    for day in (date(2026, 11, 13), date(2026, 11, 16)):
        with clock(day, 6):
            day_run(as_of=day, engine="reference")
            evaluate_day(day)
        with clock(day, 23):
            derived = dict(history.promises(day).select("promise_id", "outcome").iter_rows())
        stored = dict(Promise.objects.values_list("id", "status"))
        assert derived == stored, day
    assert sorted(stored.values()) == ["broken", "kept", "partially_kept", "pending"]
