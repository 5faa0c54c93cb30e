"""Snapshot rows as the kernel's values (:class:`ProductTerms`, :class:`LoanTerms`, payments,
waivers, plans): the kernel replay's input, equal to what the ledger's selectors give for an
exported loan (both build terms with ``kernel.terms.product_terms_from`` / ``loan_terms_from``).
:func:`kernel_terms` is the one builder from frames — every runner's kernel replay
(``engine.chunk``) and :func:`loan_terms_from_snapshot` use it. Rules the kernel owns are
reported per loan, so one bad loan never stops a portfolio run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from arrears.engine.snapshot.format import (
    PLAN_INSTALMENTS,
    PLANS,
    WAIVERS,
    Snapshot,
    empty_frame,
)
from arrears.kernel.errors import NO_SCHEDULE, ArrearsError, InvalidTerms, ScheduleUnreadable
from arrears.kernel.terms import (
    Component,
    Instalment,
    LoanTerms,
    Payment,
    PlanInstalment,
    ProductTerms,
    RepaymentPlan,
    Waiver,
    loan_terms_from,
    product_terms_from,
)


@dataclass(frozen=True, slots=True)
class KernelEntry:
    """One loan as the kernel's input: its terms (or the error that stopped building them),
    every payment (reversed ones included) and the concessions the kernel replays."""

    ref: str
    terms: LoanTerms | ArrearsError
    payments: tuple[Payment, ...]
    waivers: tuple[Waiver, ...] = ()
    plans: tuple[RepaymentPlan, ...] = ()


def product_terms(products: pl.DataFrame) -> dict[int, ProductTerms | ArrearsError]:
    """Every product's kernel terms, or the error that stopped building them: a bad product
    is an error on each of its loans, never the end of the chunk."""
    result: dict[int, ProductTerms | ArrearsError] = {}
    for row in products.iter_rows(named=True):
        try:
            result[row["product_id"]] = product_terms_from(row)
        except ArrearsError as error:
            result[row["product_id"]] = error
    return result


def _waiver(row: Mapping[str, Any]) -> Waiver:
    try:
        component = Component(row["component"])
    except ValueError:
        raise InvalidTerms(
            f"waiver {row['ref']}: component {row['component']!r} is not a component"
        ) from None
    return Waiver(
        row["ref"], row["effective_on"], component, row["amount_minor"], row["reversed_on"]
    )


def _concessions(
    waivers: pl.DataFrame, plans: pl.DataFrame, plan_instalments: pl.DataFrame
) -> tuple[dict[int, list[Waiver]], dict[int, list[RepaymentPlan]], dict[int, ArrearsError]]:
    """Waivers and plans (with their instalments) by loan_id, in (effective_on, ref) order as
    ``ledger.selectors`` gives them; a row the kernel refuses is that loan's error."""
    problems: dict[int, ArrearsError] = {}
    by_loan: dict[int, list[Waiver]] = {}
    for row in waivers.sort(["loan_id", "effective_on", "ref"]).iter_rows(named=True):
        try:
            by_loan.setdefault(row["loan_id"], []).append(_waiver(row))
        except ArrearsError as error:
            problems.setdefault(row["loan_id"], error)
    parts: dict[tuple[int, int], list[PlanInstalment]] = {}
    for row in plan_instalments.sort(["loan_id", "plan_id", "seq"]).iter_rows(named=True):
        key = (row["loan_id"], row["plan_id"])
        try:
            parts.setdefault(key, []).append(PlanInstalment(row["due_date"], row["amount_minor"]))
        except ArrearsError as error:
            problems.setdefault(row["loan_id"], error)
    planned: dict[int, list[RepaymentPlan]] = {}
    for row in plans.sort(["loan_id", "effective_on", "ref"]).iter_rows(named=True):
        loan_id = row["loan_id"]
        try:
            planned.setdefault(loan_id, []).append(
                RepaymentPlan(
                    row["ref"],
                    row["effective_on"],
                    tuple(parts.get((loan_id, row["plan_id"]), ())),
                    grace_days=row["grace_days"],
                    tolerance=row["tolerance_minor"],
                    waive_rest=row["waive_rest"],
                )
            )
        except ArrearsError as error:
            problems.setdefault(loan_id, error)
    return by_loan, planned, problems


def kernel_terms(
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    payments: pl.DataFrame,
    terms: Mapping[int, ProductTerms | ArrearsError],
    *,
    waivers: pl.DataFrame | None = None,
    plans: pl.DataFrame | None = None,
    plan_instalments: pl.DataFrame | None = None,
) -> dict[int, KernelEntry]:
    """The kernel's input for (few) loans given as snapshot frames, keyed by loan_id — the one
    builder every runner's kernel replay uses, so it is exact for every loan."""
    schedules: dict[int, list[Instalment]] = {}
    problems: dict[int, ArrearsError] = {}
    for row in instalments.sort(["loan_id", "seq"]).iter_rows(named=True):
        if None in row.values():  # a stored schedule the ledger could not read
            problems.setdefault(
                row["loan_id"],
                ScheduleUnreadable(f"instalment {row['seq']} of the stored schedule is unreadable"),
            )
            continue
        schedules.setdefault(row["loan_id"], []).append(
            Instalment(
                row["seq"],
                row["due_date"],
                row["principal_minor"],
                row["interest_minor"],
                row["period_start"],
                row["period_end"],
            )
        )
    histories: dict[int, list[Payment]] = {}
    for row in payments.iter_rows(named=True):
        try:
            histories.setdefault(row["loan_id"], []).append(
                Payment(row["ref"], row["value_date"], row["amount_minor"], row["reversed_on"])
            )
        except ArrearsError as error:
            problems.setdefault(row["loan_id"], error)
    waived, planned, refused = _concessions(
        empty_frame(WAIVERS) if waivers is None else waivers,
        empty_frame(PLANS) if plans is None else plans,
        empty_frame(PLAN_INSTALMENTS) if plan_instalments is None else plan_instalments,
    )
    result: dict[int, KernelEntry] = {}
    for row in loans.iter_rows(named=True):
        loan_id, ref = row["loan_id"], row["ref"]
        history = tuple(histories.get(loan_id, ()))
        try:
            if loan_id in problems or loan_id in refused:
                raise problems.get(loan_id) or refused[loan_id]
            product = terms.get(row["product_id"])
            if product is None:
                raise InvalidTerms(f"loan {ref}: product_id {row['product_id']} is not a product")
            if isinstance(product, ArrearsError):
                raise product
            if loan_id not in schedules:
                raise ScheduleUnreadable(NO_SCHEDULE)
            value: LoanTerms | ArrearsError = loan_terms_from(
                row, product, schedules.get(loan_id, ())
            )
        except ArrearsError as error:
            value = error
        result[loan_id] = KernelEntry(
            ref,
            value,
            history,
            tuple(waived.get(loan_id, ())),
            tuple(planned.get(loan_id, ())),
        )
    return result


def loan_terms_from_snapshot(
    snapshot: Snapshot,
) -> Iterator[tuple[int, LoanTerms | ArrearsError, tuple[Payment, ...]]]:
    """``(loan_id, terms or the error that stopped building them, payments)`` for every loan in
    loan_id order — the reference kernel's input, equal to ``ledger.selectors.loan_terms`` and
    ``loan_payments`` for an exported loan. Payments include reversed ones (``reversed_on``);
    the loan's waivers and plans are in :func:`kernel_terms`' entries."""
    entries = kernel_terms(
        snapshot.loans.sort("loan_id"),
        snapshot.instalments,
        snapshot.payments,
        product_terms(snapshot.products),
        **snapshot.concessions,
    )
    for loan_id, entry in entries.items():
        yield loan_id, entry.terms, entry.payments
