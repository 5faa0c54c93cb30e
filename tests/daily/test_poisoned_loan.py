"""A loan whose stored values the ledger cannot compute (put there past every validation, by
the admin or raw SQL) must not stop the day: the run isolates it, names it, finishes everyone
else and is marked "completed with errors" (issue 14, defect 1)."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from arrears.daily.models import DayRun, LoanState
from arrears.daily.services import day_run
from arrears.ledger import models
from tests import factories

AS_OF = date(2026, 3, 1)


@pytest.fixture(params=["compiled", "reference"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def book(db: None) -> dict[str, models.Loan]:
    product = factories.product()
    owner = factories.borrower()
    return {ref: factories.loan(ref, owner, product) for ref in ("GOOD1", "POISON", "GOOD2")}


def poison_amounts(loan: models.Loan) -> None:
    """The principal of issue 14 (92 233 720 368 547 758.07), written past validation."""
    huge = 9_223_372_036_854_775_807
    models.Loan.objects.filter(pk=loan.pk).update(principal_minor=huge)
    models.Instalment.objects.filter(loan=loan).update(principal_minor=huge)


def poison_start(loan: models.Loan) -> None:
    models.Loan.objects.filter(pk=loan.pk).update(start_date=date(1, 1, 1))


@pytest.mark.parametrize("poison", [poison_amounts, poison_start])
def test_a_poisoned_loan_is_isolated_and_the_day_completes_with_errors(book, engine, poison):
    poison(book["POISON"])
    summary = day_run(engine=engine, as_of=AS_OF)
    assert [e["loan"] for e in summary.errors] == ["POISON"]
    assert summary.errors[0]["code"] and summary.errors[0]["message"]
    stored = set(LoanState.objects.filter(as_of=AS_OF).values_list("loan__ref", flat=True))
    assert stored == {"GOOD1", "GOOD2"}
    run = DayRun.objects.get(as_of=AS_OF)
    assert run.status == DayRun.Status.COMPLETED_WITH_ERRORS
    assert [e["loan"] for e in run.errors] == ["POISON"]


def test_run_day_says_completed_with_errors_and_names_the_loan(book):
    poison_amounts(book["POISON"])
    out = StringIO()
    call_command("run-day", "--as-of", AS_OF.isoformat(), stdout=out, stderr=out)
    text = out.getvalue()
    assert "completed with errors" in text
    assert "POISON" in text
