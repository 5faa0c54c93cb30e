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

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl
from django.db.models import Q, QuerySet

from arrears.engine import contract, names
from arrears.kernel import limits
from arrears.kernel.contract import STORED
from arrears.kernel.limits import COMPUTE_FAILURES, INT64_MAX, LoanNotComputable, not_computable
from arrears.kernel.state import state
from arrears.ledger import models, selectors
from arrears.ledger.frames import LedgerReader, consistent_read
from arrears.ledger.models import Loan

if TYPE_CHECKING:
    from arrears.engine.snapshot import Snapshot

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


#: What computing one loan (or one chunk of loans) may raise when a loan's stored values are
#: absurd: the kernel's :data:`~arrears.kernel.limits.COMPUTE_FAILURES` and Polars refusing a
#: value its integer columns cannot hold (``could not append value … of type: i128``). The run
#: isolates the loan that causes one; anything else (a lost database) still fails the run.
FAILURES: tuple[type[BaseException], ...] = (
    *COMPUTE_FAILURES,
    pl.exceptions.PolarsError,
    pl.exceptions.PanicException,
)


def _error(ref: str, error: BaseException) -> dict[str, str]:
    """One failing loan as the run stores it (``DayRun.errors``): reference, code, one line."""
    known = not_computable(error)
    return {"loan": ref, "code": known.code, "message": str(known)}


def _check_stored(values: Sequence[object]) -> None:
    """A state whose figures do not fit the stored 64-bit columns is the loan's failure."""
    for value in values:
        if isinstance(value, int) and not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise LoanNotComputable(
                f"a figure of the loan's state ({value}) does not fit a 64-bit column; "
                "correct the loan's data"
            )


def outside_limits(loans: QuerySet[models.Loan]) -> tuple[QuerySet[models.Loan], Errors]:
    """``loans`` without those whose stored values are outside the ledger's limits
    (:mod:`arrears.kernel.limits`: a start date before 1970, a principal of 10^13 minor units),
    and an error for each of them. Such values can only come from past validation (the admin,
    raw SQL); one engine would fail on them and the other compute nonsense silently, so both
    report them the same way, before computing anything."""
    low, high, most = limits.MIN_DATE, limits.MAX_DATE, limits.MAX_AMOUNT_MINOR
    # the loan's row and its payments (a payment is what the admin adds by hand); not the
    # instalments: one out of bounds makes the schedule disagree with the principal or the
    # figures leave the 64-bit range, which the engines hand to the kernel and the kernel
    # reports — and scanning every instalment cost a second per 100 000 loans on SQLite
    payments = models.Payment.objects.filter(
        Q(amount_minor__gt=most)
        | Q(amount_minor__lte=0)
        | Q(value_date__lt=low)
        | Q(value_date__gt=high)
    ).values_list("loan_id", flat=True)
    own = (
        Q(principal_minor__gt=most)
        | Q(principal_minor__lte=0)
        | Q(start_date__lt=low)
        | Q(start_date__gt=high)
    )
    suspects = sorted(set(payments))
    bad = loans.filter(own | Q(id__in=suspects)) if suspects else loans.filter(own)
    errors: Errors = []
    ids: list[int] = []
    for loan_id, ref in bad.order_by("id").values_list("id", "ref"):
        ids.append(loan_id)
        error = limits.LimitExceeded(
            f"the loan's stored amounts or dates are outside the ledger's limits (amounts "
            f"below 10^13 minor units, dates {low}..{high}); correct the loan's data"
        )
        errors.append(_error(ref, error))
    return (loans.exclude(id__in=ids) if ids else loans), errors


def reference_states(
    loans: QuerySet[models.Loan], as_of: date, progress: Progress | None = None
) -> tuple[pl.DataFrame, Errors]:
    """Every loan replayed by the kernel, for today and yesterday (for bucket changes)."""
    rows: list[tuple[object, ...]] = []
    loans, errors = outside_limits(loans)
    total = loans.count() if progress else 0  # a query only the progress report needs
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
            row = (
                entry.loan_id,
                *(getattr(s, name) for name in STORED),
                "M0" if before is None else before.bucket,
                0 if before is None else before.dpd,
            )
            _check_stored(row)
        except FAILURES as error:  # one loan's failure: reported, skipped, the day goes on
            errors.append(_error(entry.ref, error))
            continue
        rows.append(row)
    return pl.DataFrame(rows, schema=STATE_COLUMNS, orient="row"), errors


def _today_and_yesterday(
    snapshot: Snapshot, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Today's results and errors of one chunk, and yesterday's (for bucket changes): the
    engine's chunk computation, exact for every loan (concessions go to the kernel there)."""
    # imported here: the compiled replay brings Numba, which the reference engine never needs
    from arrears.engine.chunk import compute_chunk

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
    loans, errors = outside_limits(loans)
    total = loans.count()
    done = 0
    with consistent_read():
        reader = LedgerReader(loans)
        ids = reader.loan_ids()
        products = reader.products() if ids else None
        for first in range(0, len(ids), CHUNK):
            assert products is not None
            chunk = ids[first : first + CHUNK]
            _isolating(reader, products, chunk, ids, first, as_of, parts, errors)
            done += len(chunk)
            if progress:
                progress(done, total)
    states = pl.concat(parts) if parts else pl.DataFrame(schema=STATE_COLUMNS)
    return states.sort("loan_id"), errors


def _isolating(
    reader: LedgerReader,
    products: pl.DataFrame,
    chunk: list[int],
    ids: list[int],
    offset: int,
    as_of: date,
    parts: list[pl.DataFrame],
    errors: Errors,
) -> None:
    """The states of the loans ``chunk`` (``ids[offset : offset + len(chunk)]``), read as one
    range of loan ids; when reading or computing them fails for a reason other than a domain
    error, the chunk is halved until the loan that fails is alone, and only that loan becomes
    an error (a few extra reads of the chunk per bad loan; nothing extra when none is bad)."""
    high = ids[offset + len(chunk)] if offset + len(chunk) < len(ids) else None
    try:
        snapshot = reader.chunk(products, chunk[0], high)
        states, chunk_errors = chunk_states(snapshot, as_of)
    except FAILURES as error:
        if len(chunk) == 1:
            ref = Loan.objects.filter(pk=chunk[0]).values_list("ref", flat=True).first()
            errors.append(_error(ref or str(chunk[0]), error))
            return
        half = len(chunk) // 2
        _isolating(reader, products, chunk[:half], ids, offset, as_of, parts, errors)
        _isolating(reader, products, chunk[half:], ids, offset + half, as_of, parts, errors)
        return
    parts.append(states)
    errors.extend(chunk_errors)


ENGINES = {names.REFERENCE: reference_states, names.COMPILED: compiled_states}
