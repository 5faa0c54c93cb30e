"""The loan states the ledger reports read (``reports.states``), and the bucket inventory,
reconciled to ``explain`` (the kernel's line-by-line breakdown) loan by loan and in total.

The book (eighteen loans of ``concession_book``, recorded before any starts) is built once for
the module (tests/sharing.py); each test runs in its own savepoint on it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from arrears.daily.services import day_run
from arrears.kernel.explain import explain
from arrears.ledger import models, selectors, services
from arrears.reports.base import ReportParams
from arrears.reports.library import bucket_inventory
from arrears.reports.library.bucket_inventory import AMOUNTS
from arrears.reports.states import FIGURES, replay, states_as_of
from tests import sharing
from tests.ledger.books import concession_book
from tests.reports.conftest import load_loans, loan_keys

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
DATES = (date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30))
#: When the test books are recorded: before any loan starts, so a report as of any later day
#: sees all of them (rows recorded after a report's day are what the as-of rule drops).
RECORDED = datetime(2026, 1, 2, 10, 0, tzinfo=SHANGHAI)


def recorded_book(loans: int) -> list[models.Loan]:
    """``concession_book`` recorded at :data:`RECORDED`."""
    with time_machine.travel(RECORDED, tick=False):
        return concession_book(loans=loans)


def _build() -> list[models.Loan]:
    return recorded_book(18)


@pytest.fixture(scope="module")
def _shared_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[int]]:
    yield from sharing.module_book(django_db_blocker, _build, loan_keys)


@pytest.fixture
def book(_shared_book: list[int], db: None) -> list[models.Loan]:
    """The module's eighteen loans, loaded afresh, in the order they were made."""
    return load_loans(_shared_book)


def _explained(as_of: date) -> dict[int, dict[str, object]]:
    """``explain`` of every loan started by ``as_of``: its bucket and totals (minor units)."""
    out = {}
    for loan in models.Loan.objects.filter(start_date__lte=as_of):
        data = explain(*selectors.loan_state(loan, as_of))
        totals = {
            name: value["minor"] for name, value in data["totals"].items() if "minor" in value
        }
        out[loan.id] = {
            "bucket": data["bucket"],
            "dpd": data["dpd"],
            "currency": data["currency"],
            "next_due_on": data["next_due_on"] and date.fromisoformat(data["next_due_on"]),
            **totals,
        }
    return out


def test_replayed_states_equal_explain_loan_by_loan(book: list[models.Loan]) -> None:
    states = replay(DATES).frame
    for as_of in DATES:
        explained = _explained(as_of)
        day = states.filter(states["as_of"] == as_of)
        assert sorted(day["loan_id"].to_list()) == sorted(explained)
        for row in day.iter_rows(named=True):
            want = explained[row["loan_id"]]
            assert {n: row[n] for n in FIGURES} == {n: want[n] for n in FIGURES}, row["loan_id"]


def test_stored_days_are_read_and_agree_with_the_replay(book: list[models.Loan]) -> None:
    day_run(as_of=DATES[1])
    stored = states_as_of(DATES[1])
    assert stored.stored == len(book) and stored.replayed == 0
    assert stored.frame.equals(replay([DATES[1]]).frame)


def test_the_inventory_totals_equal_the_sum_of_explain_for_several_dates(
    book: list[models.Loan],
) -> None:
    day_run(as_of=DATES[0])  # one date stored, the others replayed
    for as_of in DATES:
        result = bucket_inventory.compute(ReportParams(as_of=as_of))
        table = result.table("by_bucket")
        explained = _explained(as_of)
        assert sum(table.column("loans")) == len(explained)  # type: ignore[arg-type]
        for name in AMOUNTS:
            assert sum(table.column(name)) == sum(e[name] for e in explained.values())  # type: ignore[arg-type]
        per_bucket = Counter(
            "closed" if e["payoff"] == 0 else e["bucket"] for e in explained.values()
        )
        shown = dict(zip(table.column("bucket"), table.column("loans"), strict=True))
        assert sum(per_bucket.values()) == sum(shown.values())  # type: ignore[arg-type]
        for bucket, count in per_bucket.items():
            if bucket != "closed":
                assert shown[bucket] == count


def test_a_payment_recorded_after_the_day_is_not_in_its_states_stored_or_not(
    book: list[models.Loan],
) -> None:
    loan = book[0]
    as_of = date(2026, 6, 30)
    with time_machine.travel(datetime(2026, 7, 1, 2, 0, tzinfo=SHANGHAI), tick=False):
        day_run(as_of=as_of)
        before = states_as_of(as_of).frame
    with time_machine.travel(datetime(2026, 7, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        services.record_payment(
            loan=loan, ref="LATE", value_date=date(2026, 6, 1), amount_minor=500_000, currency="CNY"
        )
        day_run(as_of=as_of)  # the day rerun: its stored rows now hold the late payment
        assert states_as_of(as_of).frame.equals(before)
        assert replay([as_of], known_by=as_of).frame.equals(before)
        later = states_as_of(as_of, known_by=date(2026, 7, 3)).frame
    assert not later.equals(before)


def test_a_payment_recorded_after_a_midday_run_of_the_day_is_in_its_states(
    book: list[models.Loan],
) -> None:
    loan = book[1]
    as_of = date(2026, 6, 30)
    with time_machine.travel(datetime(2026, 6, 30, 10, 0, tzinfo=SHANGHAI), tick=False):
        day_run(as_of=as_of)  # run during the day: a later payment of the day is not in it
    with time_machine.travel(datetime(2026, 6, 30, 15, 0, tzinfo=SHANGHAI), tick=False):
        services.record_payment(
            loan=loan, ref="SAME-DAY", value_date=as_of, amount_minor=200_000, currency="CNY"
        )
    with time_machine.travel(datetime(2026, 7, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        read = states_as_of(as_of)
        assert read.stored == len(book) - 1 and read.replayed == 1
        assert read.frame.equals(replay([as_of]).frame)
