"""Selectors hand the kernel exactly what the ledger stores, without a query per loan."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arrears.kernel.schedule import build_schedule
from arrears.kernel.state import state
from arrears.kernel.terms import (
    DayCount,
    InterestRate,
    Payment,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)
from arrears.ledger import models, selectors, services
from tests.factories import valid_ric

START = date(2026, 1, 15)


@pytest.fixture
def product(db: None) -> models.Product:
    return services.create_product(
        code="PL", version=1, name="Personal loan", effective_from=date(2026, 1, 1)
    )


def make_loans(product: models.Product, count: int, first: int = 1) -> list[models.Loan]:
    loans = []
    for n in range(first, first + count):
        body = f"110101199001{n % 28 + 1:02d}{n % 1000:03d}"
        borrower = services.create_borrower(
            ref=f"B{n}",
            name=f"Borrower {n}",
            id_type="cn_ric",
            national_id=valid_ric(body),
        )
        loan = services.create_loan(
            ref=f"L{n}",
            borrower=borrower,
            product=product,
            currency="CNY",
            principal_minor=100_000 * n,
            rate_value=Decimal("0.0005"),
            rate_basis="daily",
            term=3 + n % 4,
            method="equal-principal",
            start_date=START,
        )
        services.record_payment(
            loan=loan,
            ref=f"P{n}-2",
            value_date=START + timedelta(days=40),
            amount_minor=500,
            currency="CNY",
        )
        services.record_payment(
            loan=loan,
            ref=f"P{n}-1",
            value_date=START + timedelta(days=20),
            amount_minor=700,
            currency="CNY",
        )
        loans.append(loan)
    return loans


def test_loan_terms_carry_the_kernel_schedule_rate_and_product(product: models.Product) -> None:
    (loan,) = make_loans(product, 1)
    terms = selectors.loan_terms(loan)
    assert terms.ref == "L1" and terms.currency == "CNY" and terms.principal == 100_000
    assert terms.rate == InterestRate(Decimal("0.0005"), RateBasis.DAILY)
    assert terms.day_count is DayCount.THIRTY_360
    assert terms.product == product.terms()
    assert terms.schedule == build_schedule(
        ScheduleTerms(
            principal=100_000,
            currency="CNY",
            rate=InterestRate(Decimal("0.0005"), RateBasis.DAILY),
            term=loan.term,
            method=ScheduleMethod.EQUAL_PRINCIPAL,
            start=START,
        )
    )


def test_loan_payments_are_in_value_date_order_with_their_reversal(
    product: models.Product,
) -> None:
    (loan,) = make_loans(product, 1)
    services.reverse_payment(
        payment=loan.payments.get(ref="P1-2"),
        reversed_on=START + timedelta(days=45),
        reversal_ref="R1",
        reason="bounced",
    )
    assert selectors.loan_payments(loan) == (
        Payment("P1-1", START + timedelta(days=20), 700),
        Payment("P1-2", START + timedelta(days=40), 500, START + timedelta(days=45)),
    )


def _portfolio_queries() -> tuple[int, list[tuple[object, object]]]:
    with CaptureQueriesContext(connection) as captured:
        rows = list(selectors.portfolio(models.Loan.objects.all()))
    return len(captured.captured_queries), rows


def test_the_portfolio_costs_the_same_queries_for_two_loans_or_twelve(
    product: models.Product,
) -> None:
    make_loans(product, 2)
    few, _ = _portfolio_queries()
    make_loans(product, 10, first=3)
    many, rows = _portfolio_queries()
    assert many == few
    assert len(rows) == 12


def test_the_portfolio_yields_what_the_single_loan_selectors_yield(
    product: models.Product,
) -> None:
    loans = make_loans(product, 4)
    by_ref = {
        terms.ref: (terms, payments)
        for terms, payments in selectors.portfolio(models.Loan.objects.all(), chunk_size=3)
    }
    assert set(by_ref) == {loan.ref for loan in loans}
    for loan in loans:
        assert by_ref[loan.ref] == (selectors.loan_terms(loan), selectors.loan_payments(loan))


def test_a_reversal_read_back_from_the_ledger_makes_the_loan_overdue_again(
    product: models.Product, db: None
) -> None:
    borrower = services.create_borrower(ref="B", name="B", id_type="other", national_id="E1")
    loan = services.create_loan(
        ref="L",
        borrower=borrower,
        product=product,
        currency="CNY",
        principal_minor=300_000,
        rate_value=Decimal("0.0005"),
        rate_basis="daily",
        term=3,
        method="equal-principal",
        start_date=START,
    )
    first = loan.instalments[0]
    payment = services.record_payment(
        loan=loan,
        ref="P",
        value_date=first.due_date,
        amount_minor=first.total,
        currency="CNY",
    )
    as_of = first.due_date + timedelta(days=5)
    paid = state(selectors.loan_terms(loan), selectors.loan_payments(loan), as_of)
    assert paid.dpd == 0
    services.reverse_payment(
        payment=payment,
        reversed_on=first.due_date + timedelta(days=1),
        reversal_ref="R",
        reason="bounced",
    )
    bounced = state(selectors.loan_terms(loan), selectors.loan_payments(loan), as_of)
    assert bounced.dpd == 5


# --- concessions in force ---------------------------------------------------------------------


def test_loans_with_concessions_are_those_the_kernel_replays_with_one(
    product: models.Product, django_user_model: type
) -> None:
    """Approved and reversed waivers count (the kernel replays the days before a reversal);
    requested or rejected ones do not; plans count once approved; ``started_by`` and
    ``plans_only`` narrow the set; a loan with several concessions appears once."""
    user = django_user_model.objects.create(username="approver")
    loans = make_loans(product, 7)
    waiver_status = {
        0: models.Approval.APPROVED,
        1: models.Approval.REVERSED,
        2: models.Approval.REQUESTED,
        3: models.Approval.REJECTED,
    }
    for index, status in waiver_status.items():
        models.Waiver.objects.create(
            ref=f"W{index}",
            loan=loans[index],
            component="penalty",
            amount_minor=100,
            effective_on=START + timedelta(days=30),
            reason=models.Waiver.Reason.choices[0][0],
            status=status,
            requested_by=user,
        )
    for index, status, effective in (
        (4, models.Approval.APPROVED, START + timedelta(days=60)),
        (5, models.Approval.REQUESTED, START + timedelta(days=60)),
        (0, models.Approval.APPROVED, START + timedelta(days=90)),
    ):
        models.RepaymentPlan.objects.create(
            ref=f"R{index}-{status}",
            loan=loans[index],
            effective_on=effective,
            status=status,
            proposed_by=user,
        )
    every = models.Loan.objects.all()

    def refs(queryset: object) -> list[str]:
        return sorted(loan.ref for loan in queryset)  # type: ignore[attr-defined]

    assert refs(selectors.loans_with_concessions(every)) == ["L1", "L2", "L5"]
    assert refs(selectors.loans_with_concessions(every, plans_only=True)) == ["L1", "L5"]
    assert refs(selectors.loans_with_concessions(every, started_by=START + timedelta(days=60))) == [
        "L1",
        "L2",
        "L5",
    ]
    assert refs(
        selectors.loans_with_concessions(
            every, plans_only=True, started_by=START + timedelta(days=60)
        )
    ) == ["L5"]
    assert refs(selectors.loans_with_concessions(every, started_by=START)) == []
    assert refs(selectors.loans_with_concessions(every.exclude(ref="L1"))) == ["L2", "L5"]
