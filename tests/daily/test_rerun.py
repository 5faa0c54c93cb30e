"""A rerun of a day recomputes only the loans whose ledger rows changed since its last run
(``Loan.revision``, bumped by database triggers), and its rows and figures equal a full run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from django.core.management import call_command
from django.db import connection

from arrears.daily import engines, services
from arrears.daily.models import BucketChange, DayRun, LoanState
from arrears.daily.services import RunSummary, day_run
from arrears.daily.store import replace_loans
from arrears.kernel.contract import STORED
from arrears.ledger import models, schedules
from arrears.ledger import services as ledger
from tests import factories, sharing
from tests.ledger import books

AS_OF = date(2026, 6, 10)


@pytest.fixture(autouse=True)
def _any_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small book: let a rerun recompute any share of it incrementally."""
    monkeypatch.setattr(services, "RERUN_MAX_SHARE", 1.0)


def _build() -> list[models.Loan]:
    loans = books.concession_book(loans=16)
    day_run(as_of=AS_OF)  # the day's first run (a full one), which most tests rerun
    return loans


@pytest.fixture(scope="module")
def _shared_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[int]]:
    """Sixteen loans with waivers and plans, and :data:`AS_OF` run once with the compiled
    engine, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, _build, lambda loans: [x.pk for x in loans])


@pytest.fixture
def book(_shared_book: list[int], db: None) -> list[models.Loan]:
    """The shared book, its day already run: what a rerun starts from."""
    loans = models.Loan.objects.in_bulk(_shared_book)
    return [loans[pk] for pk in _shared_book]


@pytest.fixture
def unrun_book(book: list[models.Loan]) -> list[models.Loan]:
    """The shared book as it was before its day's first run (the run's record, stored states
    and bucket changes taken away, in the test's savepoint): for a test of the first run."""
    DayRun.objects.filter(as_of=AS_OF).delete()
    LoanState.objects.filter(as_of=AS_OF).delete()
    BucketChange.objects.filter(as_of=AS_OF).delete()
    return book


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """The loan ids each call of the compiled engine was asked to compute."""
    calls: list[set[int]] = []
    compiled = engines.ENGINES["compiled"]

    def spy(loans: Any, as_of: date, progress: Any = None) -> Any:
        calls.append(set(loans.values_list("id", flat=True)))
        return compiled(loans, as_of, progress)

    monkeypatch.setitem(engines.ENGINES, "compiled", spy)
    return calls


def stored(as_of: date = AS_OF) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The day's stored rows (figures) and bucket changes."""
    states = [
        tuple(row)
        for row in LoanState.objects.filter(as_of=as_of)
        .order_by("loan_id")
        .values_list("loan_id", *STORED)
    ]
    moves = list(
        BucketChange.objects.filter(as_of=as_of)
        .order_by("loan_id")
        .values_list("loan_id", "from_bucket", "to_bucket", "cause")
    )
    return states, moves


def figures(summary: RunSummary) -> tuple[Any, ...]:
    return (summary.loans, summary.delinquent, summary.per_bucket, summary.errors)


def revision(loan: models.Loan) -> int:
    return int(models.Loan.objects.values_list("revision", flat=True).get(pk=loan.pk))


def raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_rerun_with_nothing_changed_recomputes_nothing_and_keeps_the_full_runs_rows(
    unrun_book, computed
):
    first = day_run(as_of=AS_OF)
    rows = stored()
    assert first.recomputed is None and computed == [{loan.id for loan in unrun_book}]
    again = day_run(as_of=AS_OF)
    assert again.recomputed == 0 and computed[1:] == []
    assert again.changed == 0
    assert figures(again) == figures(first)
    assert stored() == rows
    assert "rerun: 0 recomputed" in again.line()
    assert DayRun.objects.filter(as_of=AS_OF).order_by("pk").last().recomputed == 0


def _payment(book: list[models.Loan]) -> set[int]:
    loan = book[13]
    ledger.record_payment(
        loan=loan, ref="NEW-P", value_date=date(2026, 5, 1), amount_minor=50_000, currency="CNY"
    )
    return {loan.id}


def _reversal(book: list[models.Loan]) -> set[int]:
    payment = models.Payment.objects.filter(reversed_on__isnull=True).order_by("pk").first()
    assert payment is not None
    ledger.reverse_payment(
        payment=payment, reversed_on=payment.value_date, reversal_ref="NEW-R", reason="NSF"
    )
    return {payment.loan_id}


def _waiver(book: list[models.Loan]) -> set[int]:
    books._waiver(book[14], "NEW-W", "penalty", 1_000, date(2026, 5, 20))
    return {book[14].id}


def _waiver_rejected(book: list[models.Loan]) -> set[int]:
    waiver = models.Waiver.objects.get(ref="W-PEN")
    waiver.status = models.Approval.REJECTED
    waiver.save()
    return {waiver.loan_id}


def _plan(book: list[models.Loan]) -> set[int]:
    books._plan(book[15], "NEW-PLAN", date(2026, 4, 1), [20_000, 20_000])
    return {book[15].id}


def _plan_instalment_raw(book: list[models.Loan]) -> set[int]:
    plan = models.RepaymentPlan.objects.get(ref="PL-ACTIVE")
    raw(
        "UPDATE ledger_planinstalment SET amount_minor = amount_minor + 1 WHERE plan_id = %s",
        [plan.pk],
    )
    return {plan.loan_id}


def _instalment_raw(book: list[models.Loan]) -> set[int]:
    loan = book[12]
    rows = list(loan.instalments)
    rows[0] = replace(rows[0], interest=rows[0].interest + 777)
    raw(
        "UPDATE ledger_schedule SET text = %s WHERE loan_id = %s", [schedules.encode(rows), loan.pk]
    )
    return {loan.id}


def _payment_deleted_raw(book: list[models.Loan]) -> set[int]:
    payment = models.Payment.objects.order_by("-pk").first()
    assert payment is not None
    raw("DELETE FROM ledger_payment WHERE id = %s", [payment.pk])
    return {payment.loan_id}


def _product_raw(book: list[models.Loan]) -> set[int]:
    product = book[1].product
    raw("UPDATE ledger_product SET grace_days = grace_days + 2 WHERE id = %s", [product.pk])
    return {loan.id for loan in book if loan.product_id == product.pk}


def _loan_saved(book: list[models.Loan]) -> set[int]:
    loan = models.Loan.objects.get(pk=book[3].pk)
    loan.ref = "G-003-RENAMED"  # no figure depends on it, but it is a write to the loan
    loan.save()
    return {loan.id}


def _new_loan(book: list[models.Loan]) -> set[int]:
    made = factories.loan("NEW-LOAN", book[0].borrower, book[0].product, start=date(2026, 3, 1))
    return {made.id}


def _replaced_mid_day(book: list[models.Loan]) -> set[int]:
    states, _ = engines.reference_states(models.Loan.objects.filter(pk=book[2].pk), AS_OF)
    replace_loans(AS_OF, states)  # as the workflow's reevaluate does: no revision stored
    return {book[2].id}


def _loan_moved_out_of_the_day(book: list[models.Loan]) -> set[int]:
    raw("UPDATE ledger_loan SET start_date = %s WHERE id = %s", [date(2026, 7, 1), book[4].pk])
    return set()  # gone from the day: its row goes, nothing to compute


CHANGES: dict[str, Callable[[list[models.Loan]], set[int]]] = {
    "payment": _payment,
    "reversal": _reversal,
    "waiver": _waiver,
    "waiver-rejected": _waiver_rejected,
    "plan": _plan,
    "plan-instalment-raw-sql": _plan_instalment_raw,
    "instalment-raw-sql": _instalment_raw,
    "payment-deleted-raw-sql": _payment_deleted_raw,
    "product-raw-sql": _product_raw,
    "loan-saved": _loan_saved,
    "new-loan": _new_loan,
    "replaced-mid-day": _replaced_mid_day,
    "loan-moved-out": _loan_moved_out_of_the_day,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_after_a_change_exactly_the_affected_loans_are_recomputed_and_match_a_full_run(
    book, computed, change
):
    affected = CHANGES[change](book)
    rerun = day_run(as_of=AS_OF)
    assert set().union(*computed) == affected
    assert rerun.recomputed == len(affected)
    rows = stored()
    full = day_run(as_of=AS_OF, full=True)
    assert full.recomputed is None
    assert stored() == rows
    assert figures(rerun) == figures(full)
    # and the stored revisions are the ledger's now: the next rerun recomputes nothing
    assert day_run(as_of=AS_OF).recomputed == 0


def test_many_changes_at_once_recompute_their_loans_and_match_a_full_run(book, computed):
    affected: set[int] = set()
    for change in CHANGES.values():
        affected |= change(book)
    rerun = day_run(as_of=AS_OF)
    assert set().union(*computed) == affected
    rows = stored()
    full = day_run(as_of=AS_OF, full=True)
    assert stored() == rows
    assert figures(rerun) == figures(full)


def test_a_rerun_counts_the_changed_rows_as_a_full_run_would(book):
    _payment(book)
    rerun = day_run(as_of=AS_OF)
    day_run(as_of=AS_OF)  # the rows are back to the rerun's (nothing changed since)
    raw("UPDATE daily_loanstate SET revision = NULL WHERE as_of = %s", [AS_OF])
    payment = models.Payment.objects.get(ref="NEW-P")
    raw("DELETE FROM ledger_payment WHERE id = %s", [payment.pk])
    undone = day_run(as_of=AS_OF)  # every loan recomputed: one loan's row changes back
    assert rerun.changed == undone.changed == 2


def test_the_reference_engine_a_new_configuration_or_full_always_run_every_loan(
    book, computed, monkeypatch
):
    assert day_run(as_of=AS_OF, engine="reference").recomputed is None
    assert day_run(as_of=AS_OF).recomputed is None  # the last completed run was reference
    assert day_run(as_of=AS_OF).recomputed == 0
    assert day_run(as_of=AS_OF, full=True).recomputed is None
    monkeypatch.setenv(services.FULL_ENV, "1")
    assert day_run(as_of=AS_OF).recomputed is None
    monkeypatch.delenv(services.FULL_ENV)
    monkeypatch.setattr(services, "code_digest", lambda: "other code")
    assert day_run(as_of=AS_OF).recomputed is None
    assert day_run(as_of=AS_OF).recomputed == 0


def test_another_day_is_a_full_run(book):
    assert day_run(as_of=AS_OF + timedelta(days=1)).recomputed is None


def test_without_the_revision_triggers_the_rerun_is_a_full_run(book):
    assert services.revision_triggers_present()
    if connection.vendor == "sqlite":
        raw("DROP TRIGGER ledger_payment_rev_ins", [])
    else:
        raw("DROP TRIGGER ledger_payment_rev_ins ON ledger_payment", [])
    assert not services.revision_triggers_present()
    assert day_run(as_of=AS_OF).recomputed is None


def test_above_the_share_a_rerun_is_a_full_run(book, monkeypatch):
    monkeypatch.setattr(services, "RERUN_MAX_SHARE", 0.1)
    _product_raw(book)  # half the book
    assert day_run(as_of=AS_OF).recomputed is None
    _payment(book)  # one loan of sixteen
    assert day_run(as_of=AS_OF).recomputed == 1


def test_a_loan_that_fails_is_recomputed_and_reported_on_every_rerun(unrun_book):
    raw("UPDATE ledger_loan SET currency = 'XXX' WHERE id = %s", [unrun_book[6].pk])
    first = day_run(as_of=AS_OF)
    again = day_run(as_of=AS_OF)
    assert again.recomputed == 1
    assert again.errors == first.errors and len(first.errors) == 1


def test_a_schedule_stored_again_after_its_loan_failed_is_computed_by_the_next_rerun(book):
    """A schedule's insert bumps no revision (migration 0009): its loan is new, or — as here,
    its schedule deleted and stored again by raw SQL — was failing meanwhile, and a failing
    loan has no stored state to trust, so the next rerun computes it as a full run would."""
    loan = book[3]
    text = models.Schedule.objects.get(loan=loan).text
    expected = stored()
    raw("DELETE FROM ledger_schedule WHERE loan_id = %s", [loan.pk])
    failed = day_run(as_of=AS_OF)
    assert [e["loan"] for e in failed.errors] == [loan.ref]
    assert (failed.errors[0]["code"], failed.errors[0]["message"]) == (
        "loan-schedule-unreadable",
        "the loan has no stored schedule",
    )
    raw("INSERT INTO ledger_schedule (loan_id, text) VALUES (%s, %s)", [loan.pk, text])
    again = day_run(as_of=AS_OF)
    assert again.recomputed == 1 and not again.errors
    assert stored() == expected


def test_the_revision_only_grows_whatever_writes_the_loan(book):
    loan = models.Loan.objects.get(pk=book[0].pk)
    before = revision(loan)
    ledger.record_payment(
        loan=loan, ref="GROW-P", value_date=date(2026, 5, 1), amount_minor=1_000, currency="CNY"
    )
    paid = revision(loan)
    assert paid > before
    loan.save()  # a stale copy: its revision is the one before the payment
    assert revision(loan) > paid
    models.Loan.objects.filter(pk=loan.pk).update(revision=0)
    assert revision(loan) > paid


def test_the_revision_is_stored_from_the_same_read_as_the_figures(book):
    now = pl.DataFrame(
        list(models.Loan.objects.order_by("id").values_list("id", "revision")),
        schema=["loan_id", "revision"],
        orient="row",
    )
    kept = pl.DataFrame(
        list(
            LoanState.objects.filter(as_of=AS_OF)
            .order_by("loan_id")
            .values_list("loan_id", "revision")
        ),
        schema=["loan_id", "revision"],
        orient="row",
    )
    assert (
        kept.join(now, on="loan_id")
        .filter(pl.col("revision") != pl.col("revision_right"))
        .is_empty()
    )


def test_run_day_full_recomputes_every_loan(unrun_book, capsys):
    call_command("run-day", "--as-of", AS_OF.isoformat(), "--no-workflow")
    call_command("run-day", "--as-of", AS_OF.isoformat(), "--no-workflow")
    assert "rerun: 0 recomputed" in capsys.readouterr().out
    call_command("run-day", "--as-of", AS_OF.isoformat(), "--no-workflow", "--full")
    assert "recomputed" not in capsys.readouterr().out


def test_one_statement_writing_rows_of_many_loans_bumps_each_of_them(book):
    paid = sorted(set(models.Payment.objects.values_list("loan_id", flat=True)))[:4]
    other = [loan.id for loan in book if loan.id not in paid]
    before = dict(models.Loan.objects.values_list("id", "revision"))
    marks = ", ".join(["%s"] * len(paid))
    raw(f"UPDATE ledger_payment SET source = 'bulk' WHERE loan_id IN ({marks})", paid)
    after = dict(models.Loan.objects.values_list("id", "revision"))
    assert all(after[loan] > before[loan] for loan in paid)
    assert all(after[loan] == before[loan] for loan in other)
    raw(f"UPDATE ledger_schedule SET text = text WHERE loan_id IN ({marks})", paid)
    gone = dict(models.Loan.objects.values_list("id", "revision"))
    assert all(gone[loan] > after[loan] for loan in paid)
