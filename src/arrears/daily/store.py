"""Storing a day's state frame: an atomic replace, with the count of rows that changed.

PostgreSQL gets ``COPY`` (the fast path for millions of rows); SQLite gets batched
``executemany`` inserts. Either way the old rows for the date go and the new ones arrive in one
transaction, so readers never see a half-written day.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from django.db import connection, transaction

from arrears.daily.models import BucketChange, LoanState
from arrears.engine.contract import STORED_SCHEMA
from arrears.kernel.contract import STORED

BATCH = 10_000


def _existing(as_of: date) -> pl.DataFrame:
    rows = list(LoanState.objects.filter(as_of=as_of).values_list("loan_id", *STORED))
    return pl.DataFrame(rows, schema=STORED_SCHEMA, orient="row")


def _insert(table: str, columns: list[str], frame: pl.DataFrame) -> None:
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in frame.select(columns).iter_rows():
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        for offset in range(0, len(frame), BATCH):
            cursor.executemany(sql, frame.slice(offset, BATCH).select(columns).rows())


def replace_day(as_of: date, states: pl.DataFrame) -> int:
    """Replace the stored state for ``as_of`` with ``states``; returns rows added or removed
    (0 when the day is re-run on unchanged data)."""
    new = states.select("loan_id", *STORED)
    with transaction.atomic():
        old = _existing(as_of)
        changed = len(new.join(old, on=["loan_id", *STORED], how="anti")) + len(
            old.join(new, on=["loan_id", *STORED], how="anti")
        )
        LoanState.objects.filter(as_of=as_of).delete()
        _insert(
            LoanState._meta.db_table,
            ["loan_id", "as_of", *STORED],
            new.with_columns(pl.lit(as_of).alias("as_of")),
        )
        moves = states.filter(pl.col("bucket") != pl.col("previous_bucket"))
        BucketChange.objects.filter(as_of=as_of).delete()
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


def replace_loans(as_of: date, states: pl.DataFrame) -> None:
    """Replace the stored state of just these loans for ``as_of`` (after a payment, promise or
    plan changed them mid-day), leaving every other loan's row and the bucket history alone."""
    loan_ids = states["loan_id"].to_list()
    with transaction.atomic():
        LoanState.objects.filter(as_of=as_of, loan_id__in=loan_ids).delete()
        _insert(
            LoanState._meta.db_table,
            ["loan_id", "as_of", *STORED],
            states.select("loan_id", *STORED).with_columns(pl.lit(as_of).alias("as_of")),
        )
