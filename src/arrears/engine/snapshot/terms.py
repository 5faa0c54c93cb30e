"""Snapshot rows as the kernel's values (:class:`ProductTerms`, :class:`LoanTerms`, payments):
the reference replay's input, equal to what the ledger's selectors give for an exported loan.
Rules the kernel owns are reported per loan, so one bad loan never stops a portfolio run."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from arrears.engine.snapshot.format import COLUMNS, INSTALMENTS, PAYMENTS, Snapshot
from arrears.kernel.errors import ArrearsError, InvalidTerms
from arrears.kernel.money import Rounding
from arrears.kernel.terms import (
    AccrualRounding,
    DayCount,
    Instalment,
    InterestRate,
    LoanTerms,
    Payment,
    ProductTerms,
    RateBasis,
    buckets_from_json,
    parse_allocation_order,
)


def product_terms(row: Mapping[str, Any]) -> ProductTerms:
    """A ``products`` row as the kernel's :class:`ProductTerms`, exactly as
    ``ledger.models.Product.terms()`` builds it; raises :class:`InvalidTerms` (never a bare
    ``ValueError``) for rules the kernel refuses."""
    try:
        rounding = Rounding(row["rounding"])
        accrual_rounding = AccrualRounding(row["accrual_rounding"])
    except ValueError as error:
        raise InvalidTerms(f"product {row['code']} v{row['version']}: {error}") from None
    order = parse_allocation_order(row["allocation_order"])
    try:
        bucket_json = json.loads(row["buckets"])
    except json.JSONDecodeError as error:
        raise InvalidTerms(
            f"product {row['code']} v{row['version']}: buckets: not valid JSON ({error})"
        ) from None
    cap = row["cost_cap_annual"]
    return ProductTerms(
        penalty_multiplier=Decimal(row["penalty_multiplier"]),
        compound=row["compound"],
        grace_days=row["grace_days"],
        grace_retroactive=row["grace_retroactive"],
        cost_cap_annual=None if cap is None else Decimal(cap),
        rounding=rounding,
        accrual_rounding=accrual_rounding,
        allocation_order=order,
        tolerance=row["tolerance_minor"],
        buckets=buckets_from_json(bucket_json),
    )


def _loan_terms(
    row: Mapping[str, Any], product: ProductTerms | ArrearsError | None, schedule: list[Instalment]
) -> LoanTerms:
    if product is None:
        raise InvalidTerms(f"loan {row['ref']}: product_id {row['product_id']} is not a product")
    if isinstance(product, ArrearsError):
        raise product
    try:
        basis = RateBasis(row["rate_basis"])
        day_count = DayCount(row["day_count"])
    except ValueError as error:
        raise InvalidTerms(f"loan {row['ref']}: {error}") from None
    return LoanTerms(
        ref=row["ref"],
        currency=row["currency"],
        principal=row["principal_minor"],
        start=row["start_date"],
        rate=InterestRate(Decimal(row["rate_value"]), basis),
        day_count=day_count,
        schedule=tuple(schedule),
        product=product,
    )


def loan_terms_from_snapshot(
    snapshot: Snapshot,
) -> Iterator[tuple[int, LoanTerms | ArrearsError, tuple[Payment, ...]]]:
    """``(loan_id, terms or the error that stopped building them, payments)`` for every loan in
    loan_id order — the reference kernel's input, equal to ``ledger.selectors.loan_terms`` and
    ``loan_payments`` for an exported loan. Payments include reversed ones (``reversed_on``)."""
    products: dict[int, ProductTerms | ArrearsError] = {}
    for row in snapshot.products.iter_rows(named=True):
        try:
            products[row["product_id"]] = product_terms(row)
        except ArrearsError as error:
            products[row["product_id"]] = error
    instalments = (
        snapshot.instalments.select([c.name for c in COLUMNS[INSTALMENTS]])
        .sort(["loan_id", "seq"])
        .iter_rows()
    )
    payments = (
        snapshot.payments.select([c.name for c in COLUMNS[PAYMENTS]])
        .sort(["loan_id", "value_date", "ref"])
        .iter_rows()
    )
    next_instalment = next(instalments, None)
    next_payment = next(payments, None)
    for row in snapshot.loans.sort("loan_id").iter_rows(named=True):
        loan_id = row["loan_id"]
        schedule: list[Instalment] = []
        while next_instalment is not None and next_instalment[0] <= loan_id:
            if next_instalment[0] == loan_id:
                schedule.append(Instalment(*next_instalment[1:]))
            next_instalment = next(instalments, None)
        history: list[Payment] = []
        problem: ArrearsError | None = None
        while next_payment is not None and next_payment[0] <= loan_id:
            if next_payment[0] == loan_id:
                try:
                    history.append(Payment(*next_payment[1:]))
                except ArrearsError as error:
                    problem = problem or error
            next_payment = next(payments, None)
        try:
            if problem is not None:
                raise problem
            terms: LoanTerms | ArrearsError = _loan_terms(
                row, products.get(row["product_id"]), schedule
            )
        except ArrearsError as error:
            terms = error
        yield loan_id, terms, tuple(history)
