"""The two engines of the daily run, behind one shape: a frame of states plus a list of errors.

``reference`` replays each loan with the kernel (the semantics, slow and obviously right);
``compiled`` reads the ledger as frames and replays them in Numba-compiled code
(``arrears.engine``; called ``polars`` until session 5, still accepted as an alias),
handing any loan it cannot do exactly back to the kernel. Both return the same columns, so
everything after them — storing, bucket history, reports — is shared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import polars as pl
from django.db.models import QuerySet

from arrears.engine import contract, names
from arrears.engine.batch import run
from arrears.engine.frames import batch_from_frames, results_frame
from arrears.kernel.contract import STORED
from arrears.kernel.errors import ArrearsError
from arrears.kernel.state import state
from arrears.ledger import models, selectors

#: Columns of a state frame: ``loan_id`` and the stored figures of the loan-state contract
#: (``daily.LoanState``), then yesterday's bucket and dpd (for the bucket history).
STATE_COLUMNS = {
    **contract.STORED_SCHEMA,
    "previous_bucket": pl.String,
    "previous_dpd": pl.Int64,
}
Errors = list[dict[str, str]]
Progress = Callable[[int, int], None]
CHUNK = 200_000


def _error(ref: str, error: ArrearsError) -> dict[str, str]:
    return {"loan": ref, "code": error.code, "message": str(error)}


def reference_states(
    loans: QuerySet[models.Loan], as_of: date, progress: Progress | None = None
) -> tuple[pl.DataFrame, Errors]:
    """Every loan replayed by the kernel, for today and yesterday (for bucket changes)."""
    rows: list[tuple[object, ...]] = []
    errors: Errors = []
    total = loans.count()
    for done, entry in enumerate(selectors.portfolio_entries(loans), start=1):
        if progress:
            progress(done, total)
        try:
            if entry.error is not None:
                raise entry.error
            assert entry.terms is not None
            extra = {"waivers": entry.waivers, "plans": entry.plans}
            s = state(entry.terms, entry.payments, as_of, **extra)
            yesterday = as_of - timedelta(days=1)
            before = (
                None
                if yesterday < entry.terms.start
                else state(entry.terms, entry.payments, yesterday, **extra)
            )
        except ArrearsError as error:
            errors.append(_error(entry.ref, error))
            continue
        rows.append(
            (
                entry.loan_id,
                *(getattr(s, name) for name in STORED),
                "M0" if before is None else before.bucket,
                0 if before is None else before.dpd,
            )
        )
    return pl.DataFrame(rows, schema=STATE_COLUMNS, orient="row"), errors


def ledger_frames(
    loans: QuerySet[models.Loan],
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The ledger rows of ``loans`` as the four snapshot-shaped frames."""
    loan_rows = list(
        loans.order_by("id").values_list(
            "id",
            "ref",
            "product_id",
            "currency",
            "principal_minor",
            "rate_value",
            "rate_basis",
            "day_count",
            "start_date",
        )
    )
    ids = [row[0] for row in loan_rows]
    frame_loans = pl.DataFrame(
        loan_rows,
        schema={
            "loan_id": pl.Int64,
            "ref": pl.String,
            "product_id": pl.Int64,
            "currency": pl.String,
            "principal_minor": pl.Int64,
            "rate_value": pl.Decimal(20, 12),
            "rate_basis": pl.String,
            "day_count": pl.String,
            "start_date": pl.Date,
        },
        orient="row",
    )
    product_ids = sorted(set(frame_loans["product_id"].to_list()))
    products = []
    for product in models.Product.objects.filter(id__in=product_ids):
        products.append(
            {
                "product_id": product.id,
                "code": product.code,
                "version": product.version,
                "penalty_multiplier": product.penalty_multiplier,
                "compound": product.compound,
                "grace_days": product.grace_days,
                "grace_retroactive": product.grace_retroactive,
                "cost_cap_annual": product.cost_cap_annual,
                "rounding": product.rounding,
                "accrual_rounding": product.accrual_rounding,
                "allocation_order": product.allocation_order,
                "tolerance_minor": product.tolerance_minor,
                "buckets": json.dumps(product.buckets),
            }
        )
    frame_products = pl.DataFrame(
        products,
        schema={
            "product_id": pl.Int64,
            "code": pl.String,
            "version": pl.Int32,
            "penalty_multiplier": pl.Decimal(12, 6),
            "compound": pl.Boolean,
            "grace_days": pl.Int32,
            "grace_retroactive": pl.Boolean,
            "cost_cap_annual": pl.Decimal(12, 6),
            "rounding": pl.String,
            "accrual_rounding": pl.String,
            "allocation_order": pl.String,
            "tolerance_minor": pl.Int64,
            "buckets": pl.String,
        },
    )
    instalments = pl.DataFrame(
        list(
            models.Instalment.objects.filter(loan_id__in=ids).values_list(
                "loan_id",
                "seq",
                "due_date",
                "principal_minor",
                "interest_minor",
                "period_start",
                "period_end",
            )
        ),
        schema={
            "loan_id": pl.Int64,
            "seq": pl.Int32,
            "due_date": pl.Date,
            "principal_minor": pl.Int64,
            "interest_minor": pl.Int64,
            "period_start": pl.Date,
            "period_end": pl.Date,
        },
        orient="row",
    )
    payments = pl.DataFrame(
        list(
            models.Payment.objects.filter(loan_id__in=ids).values_list(
                "loan_id", "ref", "value_date", "amount_minor", "reversed_on"
            )
        ),
        schema={
            "loan_id": pl.Int64,
            "ref": pl.String,
            "value_date": pl.Date,
            "amount_minor": pl.Int64,
            "reversed_on": pl.Date,
        },
        orient="row",
    )
    return frame_products, frame_loans, instalments, payments


def _chunks(loans: QuerySet[models.Loan], size: int) -> Iterator[QuerySet[models.Loan]]:
    ids = list(loans.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), size):
        yield loans.filter(id__in=ids[start : start + size])


def compiled_frame(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame], as_of: date
) -> pl.DataFrame:
    """The engine's state frame for one chunk of frames (with ``fallback`` marking the loans
    the kernel must redo)."""
    batch, order, terms = batch_from_frames(*frames, as_of)
    today = results_frame(order, run(batch, as_of), as_of, terms, batch.suspect)
    yesterday_date = as_of - timedelta(days=1)
    yesterday = results_frame(order, run(batch, yesterday_date), yesterday_date, terms)
    starts = frames[1].select("loan_id", "start_date")
    previous = yesterday.join(starts, on="loan_id").select(
        "loan_id",
        pl.when(pl.col("start_date") > yesterday_date)
        .then(pl.lit("M0"))
        .otherwise(pl.col("bucket"))
        .alias("previous_bucket"),
        pl.when(pl.col("start_date") > yesterday_date)
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise(pl.col("dpd"))
        .alias("previous_dpd"),
        pl.col("fallback").alias("fallback_yesterday"),
    )
    return (
        today.join(previous, on="loan_id")
        .with_columns((pl.col("fallback") | pl.col("fallback_yesterday")).alias("fallback"))
        .select(*STATE_COLUMNS, "fallback")
    )


def _adjusted(loans: QuerySet[models.Loan]) -> list[int]:
    """Loans with waivers or repayment plans in force: the compiled engine does not model them
    (yet), so the kernel replays these few exactly."""
    return sorted(selectors.loans_with_concessions(loans).values_list("id", flat=True))


def compiled_states(
    loans: QuerySet[models.Loan], as_of: date, progress: Progress | None = None
) -> tuple[pl.DataFrame, Errors]:
    """Every loan replayed by the compiled engine in chunks; fallbacks go to the kernel."""
    parts: list[pl.DataFrame] = []
    errors: Errors = []
    total = loans.count()
    done = 0
    for chunk in _chunks(loans, CHUNK):
        try:
            frame = compiled_frame(ledger_frames(chunk), as_of)
        except ArrearsError:
            frame = None  # a bad product or rate in this chunk: let the kernel sort it out
        if frame is None:
            redo, redo_errors = reference_states(chunk, as_of)
            parts.append(redo)
            errors.extend(redo_errors)
        else:
            adjusted = _adjusted(chunk)
            if adjusted:
                frame = frame.with_columns(
                    (pl.col("fallback") | pl.col("loan_id").is_in(adjusted)).alias("fallback")
                )
            fallback = frame.filter(pl.col("fallback"))
            parts.append(frame.filter(~pl.col("fallback")).drop("fallback"))
            if len(fallback):
                redo, redo_errors = reference_states(
                    chunk.filter(id__in=fallback["loan_id"].to_list()), as_of
                )
                parts.append(redo)
                errors.extend(redo_errors)
        done += chunk.count()
        if progress:
            progress(done, total)
    states = pl.concat(parts) if parts else pl.DataFrame(schema=STATE_COLUMNS)
    return states.sort("loan_id"), errors


ENGINES = {names.REFERENCE: reference_states, names.COMPILED: compiled_states}
