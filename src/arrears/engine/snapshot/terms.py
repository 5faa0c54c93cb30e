"""Snapshot rows as the kernel's values (:class:`ProductTerms`, :class:`LoanTerms`, payments):
the reference replay's input, equal to what the ledger's selectors give for an exported loan
(both build them with ``kernel.terms.product_terms_from`` / ``loan_terms_from``).
Rules the kernel owns are reported per loan, so one bad loan never stops a portfolio run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from arrears.engine.snapshot.format import COLUMNS, INSTALMENTS, PAYMENTS, Snapshot
from arrears.kernel.errors import ArrearsError, InvalidTerms
from arrears.kernel.terms import (
    Instalment,
    LoanTerms,
    Payment,
    ProductTerms,
    loan_terms_from,
    product_terms_from,
)


def _loan_terms(
    row: Mapping[str, Any], product: ProductTerms | ArrearsError | None, schedule: list[Instalment]
) -> LoanTerms:
    if product is None:
        raise InvalidTerms(f"loan {row['ref']}: product_id {row['product_id']} is not a product")
    if isinstance(product, ArrearsError):
        raise product
    return loan_terms_from(row, product, schedule)


def loan_terms_from_snapshot(
    snapshot: Snapshot,
) -> Iterator[tuple[int, LoanTerms | ArrearsError, tuple[Payment, ...]]]:
    """``(loan_id, terms or the error that stopped building them, payments)`` for every loan in
    loan_id order — the reference kernel's input, equal to ``ledger.selectors.loan_terms`` and
    ``loan_payments`` for an exported loan. Payments include reversed ones (``reversed_on``)."""
    products: dict[int, ProductTerms | ArrearsError] = {}
    for row in snapshot.products.iter_rows(named=True):
        try:
            products[row["product_id"]] = product_terms_from(row)
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
