"""The two engines of the daily run, behind one shape: a frame of states plus a list of errors.

``reference`` replays each loan with the kernel (the semantics, slow and obviously right);
``compiled`` reads the ledger as the snapshot format's frames (``ledger.frames``) and runs the
engine's chunk computation on them (``engine.chunk.compute_chunk``, the one the snapshot and
Spark runners map): Numba-compiled replay, with loans that have waivers or plans, or that the
compiled replay cannot do exactly, replayed by the kernel from the same frames (called
``polars`` until session 5, still accepted as an alias). Both return the same columns, so
everything after them — storing, bucket history, reports — is shared.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import polars as pl
from django.db.models import QuerySet

from arrears.engine import contract, names
from arrears.engine.chunk import compute_chunk
from arrears.engine.snapshot import Snapshot
from arrears.kernel.contract import STORED
from arrears.kernel.errors import ArrearsError
from arrears.kernel.state import state
from arrears.ledger import models, selectors
from arrears.ledger.frames import iter_frames

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


def _today_and_yesterday(
    snapshot: Snapshot, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Today's results and errors of one chunk, and yesterday's (for bucket changes): the
    engine's chunk computation, exact for every loan (concessions go to the kernel there)."""
    today, errors = compute_chunk(*snapshot.frames, as_of, validated=True, **snapshot.concessions)
    yesterday, errors_yesterday = compute_chunk(
        *snapshot.frames, as_of - timedelta(days=1), validated=True, **snapshot.concessions
    )
    previous = yesterday.select(
        "loan_id",
        pl.col("bucket").alias("previous_bucket"),
        pl.col("dpd").alias("previous_dpd"),
    )
    # a loan is an error if either day is (as the kernel engine has it); today's words first
    late = errors_yesterday.filter(~pl.col("loan_id").is_in(errors["loan_id"].implode()))
    return today.join(previous, on="loan_id", how="left"), errors, late


def chunk_states(snapshot: Snapshot, as_of: date) -> tuple[pl.DataFrame, Errors]:
    """The state frame and errors of one chunk of ledger frames; a loan that had not started
    yesterday was M0 with 0 days past due then."""
    joined, errors, late = _today_and_yesterday(snapshot, as_of)
    failed = pl.concat([errors, late]).sort("loan_id")
    states = (
        joined.filter(~pl.col("loan_id").is_in(failed["loan_id"].implode()))
        .with_columns(
            pl.col("previous_bucket").fill_null("M0"),
            pl.col("previous_dpd").fill_null(0),
        )
        .select(list(STATE_COLUMNS))
    )
    return states, [
        {"loan": row["ref"], "code": row["code"], "message": row["message"]}
        for row in failed.iter_rows(named=True)
    ]


def compiled_states(
    loans: QuerySet[models.Loan], as_of: date, progress: Progress | None = None
) -> tuple[pl.DataFrame, Errors]:
    """Every loan read in chunks as the snapshot's frames (``ledger.frames``, bulk reads in one
    consistent transaction) and computed by the engine's chunk computation — the one replay
    pipeline the snapshot and Spark runners map too."""
    parts: list[pl.DataFrame] = []
    errors: Errors = []
    total = loans.count()
    done = 0
    for snapshot in iter_frames(loans, CHUNK):
        states, chunk_errors = chunk_states(snapshot, as_of)
        parts.append(states)
        errors.extend(chunk_errors)
        done += len(snapshot.loans)
        if progress:
            progress(done, total)
    states = pl.concat(parts) if parts else pl.DataFrame(schema=STATE_COLUMNS)
    return states.sort("loan_id"), errors


ENGINES = {names.REFERENCE: reference_states, names.COMPILED: compiled_states}
