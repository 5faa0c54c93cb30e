"""One chunk of a portfolio, from snapshot frames to result rows: the unit every runner maps.

The Polars runner maps it over chunks of a snapshot on one machine; the Spark runner maps the
very same function over partitions of loans on a cluster; the daily run on the database maps it
over chunks of ``ledger.frames``. Loans the compiled replay hands back (int64 limits, rows the
kernel would refuse), loans with waivers or repayment plans (the compiled replay does not model
them) and loans of a product the kernel refuses are replayed by the kernel here, from the same
frames, so a chunk's result is always complete and exact: a row per loan, or an error naming
the loan.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl

from arrears.engine import contract
from arrears.engine.batch import run
from arrears.engine.frames import batch_from_frames, results_frame
from arrears.engine.snapshot.format import PLAN_INSTALMENTS, PLANS, WAIVERS, empty_frame
from arrears.engine.snapshot.terms import KernelEntry, kernel_terms, product_terms
from arrears.kernel.contract import LOAN_STATE
from arrears.kernel.errors import ArrearsError
from arrears.kernel.limits import COMPUTE_FAILURES, not_computable
from arrears.kernel.state import state

__all__ = [
    "ERROR_SCHEMA",
    "RESULT_SCHEMA",
    "KernelEntry",
    "compute_chunk",
    "isolating",
    "kernel_chunk",
    "kernel_terms",
    "product_terms",
]

#: The result file's columns (``loan_state.parquet``), in order: the loan-state contract.
RESULT_SCHEMA: dict[str, pl.DataType] = contract.RESULT_SCHEMA
ERROR_SCHEMA: dict[str, pl.DataType] = {
    "loan_id": pl.Int64(),
    "ref": pl.String(),
    "code": pl.String(),
    "message": pl.String(),
}


#: A chunk's computation: frames and a date → (results, errors).
ChunkCompute = Callable[..., tuple[pl.DataFrame, pl.DataFrame]]


def _kernel_rows(
    entries: dict[int, KernelEntry], as_of: date
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rows, errors = [], []
    for loan_id, entry in entries.items():
        ref = entry.ref
        try:
            if isinstance(entry.terms, ArrearsError):
                raise entry.terms
            s = state(entry.terms, entry.payments, as_of, waivers=entry.waivers, plans=entry.plans)
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


def _of(frame: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    return frame.filter(pl.col("loan_id").is_in(ids.implode()))


def compute_chunk(
    products: pl.DataFrame,
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    payments: pl.DataFrame,
    as_of: date,
    *,
    validated: bool = False,
    waivers: pl.DataFrame | None = None,
    plans: pl.DataFrame | None = None,
    plan_instalments: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(results, errors) for the loans of one chunk that had started by ``as_of``
    (``validated``: the frames come from the snapshot reader; see ``batch_from_frames``).

    ``waivers``, ``plans`` and ``plan_instalments`` (snapshot format version 2; none by
    default) are the chunk's concessions: a loan with any of them is replayed by the kernel
    with them, as is a loan whose product the kernel refuses."""
    if len(loans) == 0:
        return pl.DataFrame(schema=RESULT_SCHEMA), pl.DataFrame(schema=ERROR_SCHEMA)
    waivers = empty_frame(WAIVERS) if waivers is None else waivers
    plans = empty_frame(PLANS) if plans is None else plans
    plan_instalments = (
        empty_frame(PLAN_INSTALMENTS) if plan_instalments is None else plan_instalments
    )
    terms = product_terms(products)
    bad = [product_id for product_id, value in terms.items() if isinstance(value, ArrearsError)]
    compiled_loans, compiled_instalments, compiled_payments = loans, instalments, payments
    if bad:  # the compiled replay needs every product's terms: leave those loans out
        compiled_loans = loans.filter(~pl.col("product_id").is_in(bad))
        kept = compiled_loans["loan_id"]
        compiled_instalments, compiled_payments = _of(instalments, kept), _of(payments, kept)
    adjusted = pl.concat([waivers["loan_id"], plans["loan_id"]]).unique()
    fast = pl.DataFrame(schema=RESULT_SCHEMA)
    redo_ids = pl.Series("loan_id", [], dtype=pl.Int64)
    started = loans.filter(pl.col("start_date") <= as_of)
    if len(compiled_loans):
        try:
            batch, order, good = batch_from_frames(
                products.filter(~pl.col("product_id").is_in(bad)),
                compiled_loans,
                compiled_instalments,
                compiled_payments,
                as_of,
                validated=validated,
            )
        except ArrearsError:  # a row the compiled path refuses (a negative rate): the kernel
            redo_ids = compiled_loans.filter(pl.col("start_date") <= as_of)["loan_id"]
        else:  # says which loan, and computes the others
            results = results_frame(order, run(batch, as_of), as_of, good, batch.suspect)
            results = results.filter(pl.col("started")).with_columns(
                pl.col("fallback") | pl.col("loan_id").is_in(adjusted.implode())
            )
            fast = results.filter(~pl.col("fallback")).select(list(RESULT_SCHEMA))
            redo_ids = results.filter(pl.col("fallback"))["loan_id"]
    if bad:
        redo_ids = pl.concat([redo_ids, started.filter(pl.col("product_id").is_in(bad))["loan_id"]])
    if len(redo_ids) == 0:
        return fast, pl.DataFrame(schema=ERROR_SCHEMA)
    entries = kernel_terms(
        _of(started, redo_ids).sort("loan_id"),
        _of(instalments, redo_ids),
        _of(payments, redo_ids),
        terms,
        waivers=_of(waivers, redo_ids),
        plans=_of(plans, redo_ids),
        plan_instalments=_of(plan_instalments, redo_ids),
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
    waivers: pl.DataFrame | None = None,
    plans: pl.DataFrame | None = None,
    plan_instalments: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same as :func:`compute_chunk`, every loan replayed by the kernel (for checking)."""
    loans = loans.filter(pl.col("start_date") <= as_of).sort("loan_id")
    entries = kernel_terms(
        loans,
        instalments,
        payments,
        product_terms(products),
        waivers=waivers,
        plans=plans,
        plan_instalments=plan_instalments,
    )
    rows, errors = _kernel_rows(entries, as_of)
    return (
        pl.DataFrame(rows, schema=RESULT_SCHEMA).sort("loan_id"),
        pl.DataFrame(errors, schema=ERROR_SCHEMA),
    )


#: What one loan's absurd stored values may raise in a chunk's computation besides a domain
#: error (which the chunk already reports per loan): see :mod:`arrears.kernel.limits`.
CHUNK_FAILURES: tuple[type[BaseException], ...] = (
    *COMPUTE_FAILURES,
    pl.exceptions.PolarsError,
    pl.exceptions.PanicException,
)


def isolating(compute: ChunkCompute) -> ChunkCompute:
    """``compute`` (:func:`compute_chunk` or :func:`kernel_chunk`) that never fails a whole
    chunk for one loan: when the chunk fails with one of :data:`CHUNK_FAILURES` it is halved,
    and halved again, until the loan that fails is alone and becomes an error row (code
    ``loan-not-computable``); every other loan is computed. Nothing extra happens without a
    failure; one bad loan costs about ``2·log2(chunk)`` smaller computations."""

    def wrapped(
        products: pl.DataFrame,
        loans: pl.DataFrame,
        instalments: pl.DataFrame,
        payments: pl.DataFrame,
        as_of: date,
        **options: Any,
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        try:
            return compute(products, loans, instalments, payments, as_of, **options)
        except CHUNK_FAILURES as error:
            if len(loans) == 0:
                raise
            if len(loans) == 1:
                known = not_computable(error)
                row = {
                    "loan_id": loans["loan_id"][0],
                    "ref": loans["ref"][0],
                    "code": known.code,
                    "message": str(known),
                }
                return pl.DataFrame(schema=RESULT_SCHEMA), pl.DataFrame([row], schema=ERROR_SCHEMA)
        half = len(loans) // 2
        results, errors = [], []
        for part in (loans[:half], loans[half:]):
            ids = part["loan_id"].implode()
            mine = {
                name: frame.filter(pl.col("loan_id").is_in(ids))
                for name, frame in options.items()
                if isinstance(frame, pl.DataFrame)
            }
            done, failed = wrapped(
                products,
                part,
                instalments.filter(pl.col("loan_id").is_in(ids)),
                payments.filter(pl.col("loan_id").is_in(ids)),
                as_of,
                **{**options, **mine},
            )
            results.append(done)
            errors.append(failed)
        return pl.concat(results), pl.concat(errors)

    return wrapped
