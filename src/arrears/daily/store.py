"""Storing a day's state frame: an atomic replace, with the count of rows that changed.

PostgreSQL gets ``COPY`` (the fast path for millions of rows); SQLite gets batched
``executemany`` inserts. Either way the old rows for the date go and the new ones arrive in one
transaction, so readers never see a half-written day. A rerun of the day that recomputed only
some loans replaces just those loans' rows (``replace_day(..., only=ids)``) and leaves the rest.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from django.db import connection, transaction

from arrears.daily.models import BucketChange, LoanState
from arrears.engine.contract import STORED_SCHEMA
from arrears.kernel.contract import STORED

BATCH = 10_000


#: Loan ids per ``IN (…)`` list when only some loans' rows are replaced.
ID_BATCH = 500


def _batches(ids: list[int]) -> list[list[int]]:
    return [ids[offset : offset + ID_BATCH] for offset in range(0, len(ids), ID_BATCH)]


def _existing(as_of: date, only: list[int] | None = None) -> pl.DataFrame:
    """The stored rows of ``as_of`` (of the loans ``only``, when given)."""
    day = LoanState.objects.filter(as_of=as_of)
    if only is None:
        rows = list(day.values_list("loan_id", *STORED))
    else:
        rows = []
        for batch in _batches(only):
            rows += day.filter(loan_id__in=batch).values_list("loan_id", *STORED)
    return pl.DataFrame(rows, schema=STORED_SCHEMA, orient="row")


def _insert(table: str, columns: list[str], frame: pl.DataFrame) -> None:
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # the driver's own cursor: its errors (a lost connection) become Django's, as the
            # ORM's do, so callers catch one kind
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in frame.select(columns).iter_rows():
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        for offset in range(0, len(frame), BATCH):
            cursor.executemany(sql, frame.slice(offset, BATCH).select(columns).rows())


def replace_day(as_of: date, states: pl.DataFrame, only: list[int] | None = None) -> int:
    """Replace the stored state for ``as_of`` with ``states``; returns rows added or removed
    (0 when the day is re-run on unchanged data).

    With ``only`` (loan ids), just those loans' rows and bucket changes are replaced — by
    ``states``' rows for them, or by none (a loan gone or failing now) — and every other
    loan's rows stay as they are; the count is then over those loans. A ``revision`` column in
    ``states`` (the ledger revision each state was computed from) is stored with the rows."""
    extra = ["revision"] if "revision" in states.columns else []
    new = states.select("loan_id", *STORED)
    with transaction.atomic():
        old = _existing(as_of, only)
        # (an empty figure — no next due date — equals an empty one)
        key = ["loan_id", *STORED]
        changed = len(new.join(old, on=key, how="anti", nulls_equal=True)) + len(
            old.join(new, on=key, how="anti", nulls_equal=True)
        )
        if only is None:
            LoanState.objects.filter(as_of=as_of).delete()
            BucketChange.objects.filter(as_of=as_of).delete()
        else:
            for batch in _batches(only):
                LoanState.objects.filter(as_of=as_of, loan_id__in=batch).delete()
                BucketChange.objects.filter(as_of=as_of, loan_id__in=batch).delete()
        from arrears.daily.services import fault_point  # services imports this module

        fault_point("replacing")  # the day's old rows deleted, the new ones not yet written
        _insert(
            LoanState._meta.db_table,
            ["loan_id", "as_of", *STORED, *extra],
            states.select("loan_id", *STORED, *extra).with_columns(pl.lit(as_of).alias("as_of")),
        )
        moves = states.filter(pl.col("bucket") != pl.col("previous_bucket"))
        if len(moves):
            _insert(
                BucketChange._meta.db_table,
                ["loan_id", "as_of", "from_bucket", "to_bucket", "cause"],
                moves.select(
                    "loan_id",
                    pl.lit(as_of).alias("as_of"),
                    pl.col("previous_bucket").alias("from_bucket"),
                    pl.col("bucket").alias("to_bucket"),
                    pl.when(pl.col("dpd") > pl.col("previous_dpd"))
                    .then(pl.lit("ageing"))
                    .otherwise(pl.lit("payment"))
                    .alias("cause"),
                ),
            )
    return changed


def day_figures(as_of: date) -> tuple[int, int, dict[str, int]]:
    """(loans, delinquent, loans per bucket) of the rows stored for ``as_of`` — the whole
    day's figures after a rerun replaced only some loans (one grouped query)."""
    table = LoanState._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT bucket, COUNT(*), SUM(CASE WHEN dpd > 0 THEN 1 ELSE 0 END) FROM {table} "
            "WHERE as_of = %s GROUP BY bucket",
            [connection.ops.adapt_datefield_value(as_of)],
        )
        rows = cursor.fetchall()
    per_bucket = {str(bucket): int(count) for bucket, count, _ in rows}
    return sum(per_bucket.values()), sum(int(late) for _, _, late in rows), per_bucket


def replace_loans(as_of: date, states: pl.DataFrame) -> None:
    """Replace the stored state of just these loans for ``as_of`` (after a payment, promise or
    plan changed them mid-day), leaving every other loan's row and the bucket history alone.
    The rows get no ``revision`` (these states come from the kernel, outside the day's run), so
    the next rerun of the day recomputes these loans rather than trust them."""
    loan_ids = states["loan_id"].to_list()
    with transaction.atomic():
        LoanState.objects.filter(as_of=as_of, loan_id__in=loan_ids).delete()
        _insert(
            LoanState._meta.db_table,
            ["loan_id", "as_of", *STORED],
            states.select("loan_id", *STORED).with_columns(pl.lit(as_of).alias("as_of")),
        )
