"""Closing a day: ``run-day`` and :func:`dayflow.close_day` are one service — the same rows in
every table the day touches and the same printed lines."""

from __future__ import annotations

import re
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from arrears.collections import dayflow, strategies
from arrears.collections.models import Case, CaseEvent, WorkItem
from arrears.contact.models import OutboxMessage
from arrears.daily.models import DayRun, LoanState
from arrears.kernel.contract import STORED as STATE_FIELDS
from arrears.ledger import services as ledger
from tests import factories

DAY = date(2026, 2, 16)  # one day past the first due date: the reminder stage sends an SMS


@pytest.fixture
def book(db: None) -> None:
    """Three borrowers: two in arrears (one of them partly paid), one who paid on time."""
    strategies.active()
    product = factories.product()
    for n in range(3):
        owner = factories.borrower(f"B{n}", phone=f"+861380000000{n}")
        loan = factories.loan(f"L{n}", owner, product)
        first = loan.instalments[0]
        whole = first.total
        paid = {0: 0, 1: whole // 2, 2: whole}
        if paid[n]:
            ledger.record_payment(
                loan=loan,
                ref=f"P{n}",
                value_date=first.due_date,
                amount_minor=paid[n],
                currency="CNY",
            )


def outcome() -> dict[str, list[tuple[Any, ...]]]:
    """What a closed day leaves behind, by natural keys (ids differ between two runs)."""
    return {
        "states": sorted(LoanState.objects.values_list("loan__ref", "as_of", *STATE_FIELDS)),
        "runs": sorted(DayRun.objects.values_list("as_of", "status", "loans", "delinquent")),
        "cases": sorted(
            Case.objects.values_list("borrower__ref", "status", "stage", "opened_on", "variant")
        ),
        "events": sorted(
            CaseEvent.objects.values_list("case__borrower__ref", "on", "kind", "to_value")
        ),
        "work": sorted(WorkItem.objects.values_list("key", "channel", "template", "status")),
        "outbox": sorted(OutboxMessage.objects.values_list("key", "channel", "status")),
    }


def untimed(lines: list[str]) -> list[str]:
    return [re.sub(r" in \d+\.\d+s$", "", line) for line in lines]


def test_run_day_and_close_day_leave_the_same_day_and_print_the_same_lines(book: None) -> None:
    before = outcome()
    undo = transaction.savepoint()
    closed = dayflow.close_day(DAY, engine="reference")
    by_service = outcome()
    transaction.savepoint_rollback(undo)
    assert outcome() == before

    printed = StringIO()
    call_command("run-day", "--as-of", str(DAY), "--engine", "reference", stdout=printed)

    assert outcome() == by_service
    assert untimed(printed.getvalue().splitlines()) == untimed(closed.lines())
    # the day did reach every stage: states, cases, work and messages
    assert len(by_service["states"]) == 3 and len(by_service["cases"]) == 2
    assert by_service["work"] and by_service["outbox"]
    assert len(closed.steps) == len(dayflow.steps())  # one line per registered step


def test_closing_the_ledger_only_runs_no_step(book: None) -> None:
    closed = dayflow.close_day(DAY, engine="reference", workflow=False)
    assert closed.steps == ()
    assert closed.lines() == [closed.ledger.line()]
    assert LoanState.objects.count() == 3 and not Case.objects.exists()
