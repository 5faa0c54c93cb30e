"""One chunk of a portfolio, from snapshot frames to result rows: the unit every runner maps.

The Polars runner maps it over chunks of a snapshot on one machine; the Spark runner maps the
very same function over partitions of loans on a cluster. Loans the compiled replay hands back
(int64 limits, rows the kernel would refuse) are replayed by the kernel here, so a chunk's
result is always complete: a row per loan, or an error naming the loan.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from arrears.engine import contract
from arrears.engine.batch import run
from arrears.engine.frames import batch_from_frames, results_frame
from arrears.kernel.contract import LOAN_STATE
from arrears.kernel.errors import ArrearsError
from arrears.kernel.state import state
from arrears.kernel.terms import (
    Instalment,
    LoanTerms,
    Payment,
    ProductTerms,
    loan_terms_from,
    product_terms_from,
)

#: The result file's columns (``loan_state.parquet``), in order: the loan-state contract.
RESULT_SCHEMA: dict[str, pl.DataType] = contract.RESULT_SCHEMA
ERROR_SCHEMA: dict[str, pl.DataType] = {
    "loan_id": pl.Int64(),
    "ref": pl.String(),
    "code": pl.String(),
    "message": pl.String(),
}


def kernel_terms(
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    payments: pl.DataFrame,
    terms: dict[int, ProductTerms],
) -> dict[int, tuple[str, LoanTerms | ArrearsError, tuple[Payment, ...]]]:
    """Kernel values for (few) loans given as snapshot frames, keyed by loan_id."""
    schedules: dict[int, list[Instalment]] = {}
    for row in instalments.sort(["loan_id", "seq"]).iter_rows(named=True):
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
        histories.setdefault(row["loan_id"], []).append(
            Payment(row["ref"], row["value_date"], row["amount_minor"], row["reversed_on"])
        )
    result: dict[int, tuple[str, LoanTerms | ArrearsError, tuple[Payment, ...]]] = {}
    for row in loans.iter_rows(named=True):
        loan_id, ref = row["loan_id"], row["ref"]
        history = tuple(histories.get(loan_id, ()))
        try:
            value: LoanTerms | ArrearsError = loan_terms_from(
                row, terms[row["product_id"]], schedules.get(loan_id, ())
            )
        except ArrearsError as error:
            value = error
        result[loan_id] = (ref, value, history)
    return result


def _kernel_rows(
    entries: dict[int, tuple[str, LoanTerms | ArrearsError, tuple[Payment, ...]]],
    as_of: date,
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rows, errors = [], []
    for loan_id, (ref, terms, history) in entries.items():
        try:
            if isinstance(terms, ArrearsError):
                raise terms
            s = state(terms, history, as_of)
        except ArrearsError as error:
            errors.append(
                {"loan_id": loan_id, "ref": ref, "code": error.code, "message": str(error)}
            )
            continue
        rows.append(
            {"loan_id": loan_id, "ref": ref, "as_of": as_of}
            | {f.name: getattr(s, f.name) for f in LOAN_STATE}
        )
    return rows, errors


def compute_chunk(
    products: pl.DataFrame,
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    payments: pl.DataFrame,
    as_of: date,
    *,
    validated: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(results, errors) for the loans of one chunk that had started by ``as_of``
    (``validated``: the frames come from the snapshot reader; see ``batch_from_frames``)."""
    if len(loans) == 0:
        return pl.DataFrame(schema=RESULT_SCHEMA), pl.DataFrame(schema=ERROR_SCHEMA)
    batch, order, terms = batch_from_frames(
        products, loans, instalments, payments, as_of, validated=validated
    )
    results = results_frame(order, run(batch, as_of), as_of, terms, batch.suspect)
    results = results.filter(pl.col("started"))
    fast = results.filter(~pl.col("fallback")).select(list(RESULT_SCHEMA))
    redo_ids = results.filter(pl.col("fallback"))["loan_id"]
    loans = loans.filter(pl.col("start_date") <= as_of)
    if len(redo_ids) == 0:
        return fast, pl.DataFrame(schema=ERROR_SCHEMA)
    ids = redo_ids.implode()
    entries = kernel_terms(
        loans.filter(pl.col("loan_id").is_in(ids)),
        instalments.filter(pl.col("loan_id").is_in(ids)),
        payments.filter(pl.col("loan_id").is_in(ids)),
        terms,
    )
    rows, errors = _kernel_rows(entries, as_of)
    slow = pl.DataFrame(rows, schema=RESULT_SCHEMA)
    return (
        pl.concat([fast, slow]).sort("loan_id"),
        pl.DataFrame(errors, schema=ERROR_SCHEMA),
    )


def kernel_chunk(
    products: pl.DataFrame,
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    payments: pl.DataFrame,
    as_of: date,
    *,
    validated: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same as :func:`compute_chunk`, every loan replayed by the kernel (for checking)."""
    loans = loans.filter(pl.col("start_date") <= as_of)
    terms = {row["product_id"]: product_terms_from(row) for row in products.iter_rows(named=True)}
    rows, errors = _kernel_rows(kernel_terms(loans, instalments, payments, terms), as_of)
    return (
        pl.DataFrame(rows, schema=RESULT_SCHEMA).sort("loan_id"),
        pl.DataFrame(errors, schema=ERROR_SCHEMA),
    )
