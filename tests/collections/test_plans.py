"""Repayment plans in the workflow: in force, the case is in_plan and quiet; broken, the ladder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from arrears.collections import concessions
from arrears.collections.models import Case, Collector, WorkItem
from arrears.collections.workflow import evaluate_day
from arrears.daily.models import LoanState
from arrears.daily.services import day_run
from arrears.ledger import models
from tests import factories, sharing
from tests.collections.conftest import make_internal_team, make_staff

DAY = date(2026, 3, 5)


def _build() -> tuple[int, tuple[tuple[str, int], ...]]:
    """The conftest's staff and B-1's loan after the day run and workflow of ``DAY``: the
    case (delinquent since 15 Feb) and the staff's ids."""
    staff = make_staff(make_internal_team())
    owner = factories.borrower("B-1", phone="+8613800000001")
    factories.loan("L-1", owner, factories.product())
    day_run(as_of=DAY, engine="reference")
    evaluate_day(DAY)
    case = Case.objects.get(borrower=owner)
    return case.pk, tuple((who, collector.pk) for who, collector in staff.items())


@pytest.fixture(scope="module")
def _book(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[tuple[int, tuple[tuple[str, int], ...]]]:
    """The book, built once for the module (tests/sharing.py): both engines' tests start
    from the same case, as the reference engine left it on ``DAY``."""
    yield from sharing.module_book(django_db_blocker, _build, lambda keys: keys)


@pytest.fixture
def staff(_book: tuple[int, tuple[tuple[str, int], ...]], db: None) -> dict[str, Collector]:
    """The module's staff, loaded afresh (each test in its own savepoint)."""
    found = Collector.objects.select_related("user").in_bulk([pk for _, pk in _book[1]])
    return {who: found[pk] for who, pk in _book[1]}


@pytest.fixture
def case(_book: tuple[int, tuple[tuple[str, int], ...]], db: None) -> Case:
    """The module's case, loaded afresh."""
    return Case.objects.get(pk=_book[0])


def _run(day: date, engine: str = "reference") -> None:
    day_run(as_of=day, engine=engine)
    evaluate_day(day)


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_a_plan_in_force_quiets_the_case_and_a_broken_one_returns_it_to_the_ladder(
    case: Case, staff: dict[str, Collector], engine: str
) -> None:
    loan = models.Loan.objects.get(ref="L-1")
    owed = concessions.ledger_state(loan, DAY).total_due
    plan = concessions.propose_plan(
        loan,
        user=staff["ann"].user,
        effective_on=DAY,
        instalments=[(DAY + timedelta(5), 50_000), (DAY + timedelta(36), owed - 50_000)],
    )
    negotiator = case.collector
    concessions.approve_plan(plan, staff["lead"].user)
    case.refresh_from_db()
    assert (case.status, case.dpd) == ("in_plan", 0)
    assert case.collector == negotiator  # the plan moved the bucket, not the case
    assert case.events.filter(kind="status", to_value="in_plan").exists()

    _run(DAY + timedelta(1), engine)  # kept so far: no stage's condition holds, nobody calls
    assert not WorkItem.objects.filter(case=case, due_on=DAY + timedelta(1)).exists()

    # the first plan instalment (due DAY+5) is never paid: grace 3 days, broken on DAY+9
    for offset in range(2, 10):
        _run(DAY + timedelta(offset), engine)
        case.refresh_from_db()
        assert case.status == ("in_plan" if offset < 9 else "open"), offset
    state = LoanState.objects.get(loan=loan, as_of=DAY + timedelta(8))
    assert state.dpd == 3  # three days past the plan's first due date
    back = case.events.get(kind="status", to_value="open", on=DAY + timedelta(9))
    assert back.from_value == "in_plan"
    assert back.cause.startswith(f"plan {plan.ref} broken on {DAY + timedelta(9)}: instalment 1")
    assert case.stage == "internal" and case.dpd == 27  # contractual again: 15 Feb + 27 days
    assert (
        WorkItem.objects.get(case=case, due_on=DAY + timedelta(9), channel="call_task").status
        == "pending"
    )
