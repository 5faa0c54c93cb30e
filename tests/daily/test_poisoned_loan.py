"""A loan whose stored values the ledger cannot compute (put there past every validation, by
the admin or raw SQL) must not stop the day: the run isolates it, names it, finishes everyone
else and is marked "completed with errors" (issue 14, defect 1)."""

from __future__ import annotations

from datetime import date
from io import StringIO

import polars as pl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import OperationalError

from arrears.daily import engines
from arrears.daily.models import DayRun, LoanState
from arrears.daily.services import day_run
from arrears.engine.chunk import compute_chunk, isolating
from arrears.ledger import models
from arrears.ledger.frames import iter_frames
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
    for seq in range(1, loan.term + 1):
        factories.alter_instalment(loan, seq, principal=huge)


def poison_instalments(loan: models.Loan) -> None:
    """Only the schedule: the loan's own row is within the limits."""
    factories.alter_instalment(loan, 1, principal=2**62)


def poison_schedule_text(loan: models.Loan) -> None:
    """A schedule that is not the ledger's text at all (its second instalment garbled)."""
    parts = loan.schedule.text.split(";")
    parts[1] = "2026-02-30 12x 0 2026-01-01 2026-02-01"
    models.Schedule.objects.filter(loan=loan).update(text=";".join(parts))


def poison_payment(loan: models.Loan) -> None:
    models.Payment.objects.create(
        loan=loan, ref="PX", value_date=date(2026, 2, 1), amount_minor=2**63 - 1, currency="CNY"
    )


def poison_start(loan: models.Loan) -> None:
    models.Loan.objects.filter(pk=loan.pk).update(start_date=date(1, 1, 1))


@pytest.mark.parametrize(
    "poison",
    [poison_amounts, poison_start, poison_instalments, poison_schedule_text, poison_payment],
)
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


def test_explain_of_a_poisoned_loan_is_one_clear_error(book):
    poison_start(book["POISON"])
    with pytest.raises(CommandError) as caught:
        call_command("explain", "POISON", "--as-of", AS_OF.isoformat())
    message = str(caught.value)
    assert message.startswith("loan POISON cannot be computed: ")
    assert "outside 1970-01-01..2199-12-31" in message and "\n" not in message


def test_the_explain_page_of_a_poisoned_loan_is_not_a_500(book, client):
    poison_amounts(book["POISON"])
    user = get_user_model().objects.create_user("lead", password="pw-lead-123", is_staff=True)
    client.force_login(user)
    response = client.get(f"/loans/POISON/?as_of={AS_OF}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert "This loan cannot be computed: loan POISON cannot be computed" in response.text
    data = client.get(f"/loans/POISON/?as_of={AS_OF}&format=json").json()
    assert data["code"] == "loan-not-computable"


def test_a_loan_that_fails_inside_the_engine_is_isolated_by_the_reference_engine(book, monkeypatch):
    """A failure the limits do not foresee (here an ``OverflowError`` the kernel raises for one
    loan) costs that loan, not the day."""
    real = engines.state

    def state(terms, *args, **kwargs):
        if terms.ref == "POISON":
            raise OverflowError("date value out of range")
        return real(terms, *args, **kwargs)

    monkeypatch.setattr(engines, "state", state)
    summary = day_run(engine="reference", as_of=AS_OF)
    assert summary.errors == [
        {
            "loan": "POISON",
            "code": "loan-not-computable",
            "message": "the loan's stored values cannot be computed (OverflowError: date value "
            "out of range); correct the loan's data",
        }
    ]
    assert DayRun.objects.get(as_of=AS_OF).status == DayRun.Status.COMPLETED_WITH_ERRORS
    assert LoanState.objects.filter(as_of=AS_OF).count() == 2


def test_a_chunk_that_fails_in_the_compiled_engine_is_halved_down_to_the_bad_loan(
    book, monkeypatch
):
    """Polars refusing a value (issue 14's ``could not append value … of type: i128``) fails
    the whole chunk: the run halves it until the loan that fails is alone."""
    real = engines.chunk_states
    poisoned = book["POISON"].pk

    def chunk_states(snapshot, as_of):
        if poisoned in snapshot.loans["loan_id"].to_list():
            raise pl.exceptions.ComputeError(
                "could not append value: 9335141274820835872 of type: i128"
            )
        return real(snapshot, as_of)

    monkeypatch.setattr(engines, "chunk_states", chunk_states)
    summary = day_run(engine="compiled", as_of=AS_OF)
    assert [(e["loan"], e["code"]) for e in summary.errors] == [("POISON", "loan-not-computable")]
    assert "could not append value" in summary.errors[0]["message"]
    stored = set(LoanState.objects.filter(as_of=AS_OF).values_list("loan__ref", flat=True))
    assert stored == {"GOOD1", "GOOD2"}


def test_a_run_that_fails_as_a_whole_is_marked_failed_not_left_running(book, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr(engines.LedgerReader, "loan_ids", broken)
    with pytest.raises(OperationalError):
        day_run(engine="compiled", as_of=AS_OF)
    assert DayRun.objects.get(as_of=AS_OF).status == DayRun.Status.FAILED


def test_a_clean_day_is_still_plainly_completed(book):
    summary = day_run(engine="compiled", as_of=AS_OF)
    assert summary.errors == [] and "completed with errors" not in summary.line()
    assert DayRun.objects.get(as_of=AS_OF).status == DayRun.Status.COMPLETED


def test_the_snapshot_runners_chunk_isolates_a_loan_that_fails_it(book):
    """``engine.chunk.isolating`` (what ``run-day --snapshot`` computes with): a chunk that
    fails for one loan is halved until that loan is an error row; the others are computed."""
    [snapshot] = list(iter_frames(models.Loan.objects.all(), 10))
    poisoned = book["POISON"].pk
    calls = []

    def compute(products, loans, *rest, **options):
        calls.append(len(loans))
        if poisoned in loans["loan_id"].to_list():
            raise OverflowError("date value out of range")
        return compute_chunk(products, loans, *rest, **options)

    results, errors = isolating(compute)(
        *snapshot.frames, AS_OF, validated=True, **snapshot.concessions
    )
    assert sorted(results["loan_id"].to_list()) == sorted([book["GOOD1"].pk, book["GOOD2"].pk])
    assert errors.select("ref", "code").rows() == [("POISON", "loan-not-computable")]
    assert calls[0] == 3 and len(calls) > 1


def test_an_unreadable_schedule_is_named_alike_by_both_engines(book, engine):
    """The compiled engine's frames and the reference engine's selectors read a garbled
    schedule apart (a vectorised explode, a per-loan decode) and report it the same way."""
    poison_schedule_text(book["POISON"])
    summary = day_run(engine=engine, as_of=AS_OF)
    assert [(e["loan"], e["code"], e["message"]) for e in summary.errors] == [
        ("POISON", "loan-schedule-unreadable", "instalment 2 of the stored schedule is unreadable")
    ]
