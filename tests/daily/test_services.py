"""The daily run (reference engine): stored state, idempotency, catch-up, bucket history.

The book (two loans, one paid on its first due date) is built once for the module
(tests/sharing.py); each test runs in its own savepoint on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.core.management import call_command

from arrears.daily.models import BucketChange, DayRun, LoanState
from arrears.daily.services import day_run
from arrears.kernel.contract import STORED as STATE_FIELDS
from arrears.ledger import models, services
from tests import factories, sharing

FIRST_DUE = date(2026, 2, 15)


@pytest.fixture(params=["compiled", "reference"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _build() -> dict[str, models.Loan]:
    product = factories.product()
    owner = factories.borrower()
    paying = factories.loan("PAYS", owner, product)
    late = factories.loan("LATE", owner, product)
    first = paying.instalments[0]
    services.record_payment(
        loan=paying,
        ref="P1",
        value_date=FIRST_DUE,
        amount_minor=first.total,
        currency="CNY",
    )
    return {"paying": paying, "late": late}


@pytest.fixture(scope="module")
def _shared_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, int]]:
    yield from sharing.module_book(
        django_db_blocker, _build, lambda book: {who: loan.pk for who, loan in book.items()}
    )


@pytest.fixture
def book(_shared_book: dict[str, int], db: None) -> dict[str, models.Loan]:
    """The module's two loans, loaded afresh: PAYS paid its first instalment, LATE did not."""
    return {who: models.Loan.objects.get(pk=pk) for who, pk in _shared_book.items()}


def snapshot(as_of: date) -> list[tuple[object, ...]]:
    rows = LoanState.objects.filter(as_of=as_of).order_by("loan_id")
    return [(r.loan_id, *(getattr(r, f) for f in STATE_FIELDS)) for r in rows]


def test_a_run_stores_each_loans_state_with_the_hand_checked_penalty(book, engine):
    as_of = FIRST_DUE + timedelta(days=10)
    summary = day_run(engine=engine, as_of=as_of)
    assert summary.loans == 2 and summary.delinquent == 1 and not summary.errors
    late = LoanState.objects.get(loan=book["late"], as_of=as_of)
    principal = book["late"].instalments[0].principal  # 833.33
    daily = (Decimal(principal) * Decimal("0.00075")).quantize(Decimal(1), ROUND_HALF_UP)
    assert late.penalty_outstanding == 10 * int(daily) == 620
    assert (late.dpd, late.bucket) == (10, "M1")
    assert LoanState.objects.get(loan=book["paying"], as_of=as_of).bucket == "M0"
    run = DayRun.objects.get(as_of=as_of)
    assert run.status == DayRun.Status.COMPLETED and run.loans == 2
    assert run.config["engine"] == engine
    assert run.config["products"] == ["PL v1"]


def test_running_a_day_twice_changes_nothing_and_says_so(book, engine):
    as_of = FIRST_DUE + timedelta(days=1)  # the day LATE enters M1
    first = day_run(engine=engine, as_of=as_of)
    before = snapshot(as_of)
    second = day_run(engine=engine, as_of=as_of)
    assert first.changed == 2
    assert second.changed == 0
    assert snapshot(as_of) == before
    assert BucketChange.objects.filter(as_of=as_of).count() == 1


def test_a_back_dated_payment_changes_the_rerun(book, engine):
    as_of = FIRST_DUE + timedelta(days=5)
    day_run(engine=engine, as_of=as_of)
    services.record_payment(
        loan=book["late"],
        ref="P2",
        value_date=FIRST_DUE + timedelta(days=1),
        amount_minor=500_000,
        currency="CNY",
    )
    rerun = day_run(engine=engine, as_of=as_of)
    assert rerun.changed == 2  # the old row out, the new row in
    assert LoanState.objects.get(loan=book["late"], as_of=as_of).dpd == 0


def test_catch_up_over_ten_missed_days_equals_ten_daily_runs(book, engine):
    start = FIRST_DUE - timedelta(days=2)
    call_command(
        "run-day", "--engine", engine, "--from", str(start), "--to", str(start + timedelta(days=9))
    )
    caught_up = {start + timedelta(days=k): snapshot(start + timedelta(days=k)) for k in range(10)}
    for day, rows in caught_up.items():
        assert day_run(engine=engine, as_of=day).changed == 0
        assert snapshot(day) == rows
    changes = list(BucketChange.objects.values_list("as_of", "from_bucket", "to_bucket", "cause"))
    assert changes == [(FIRST_DUE + timedelta(days=1), "M0", "M1", "ageing")]


def test_a_corrupt_loan_is_reported_and_skipped(book, engine):
    factories.alter_instalment(book["late"], 1, principal=1)
    summary = day_run(engine=engine, as_of=FIRST_DUE + timedelta(days=3))
    assert summary.loans == 1
    assert [e["loan"] for e in summary.errors] == ["LATE"]
    assert "does not sum" in summary.errors[0]["message"]
    assert DayRun.objects.get().errors == summary.errors
