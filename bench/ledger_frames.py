"""Benchmark: reading the ledger as the snapshot's frames (``ledger.frames``) against the ORM
``values_list`` reader it replaced, and the daily run's compiled ledger stage on top of it.

Run: ``.venv/bin/python bench/ledger_frames.py --loans 100000`` (SQLite under
``bench/out/ledger-frames-N``), or with ``DATABASE_URL=postgres://…`` for PostgreSQL. The book
is the synthetic snapshot's (12 instalments a loan, ~10 % delinquent) loaded into the ledger
tables once by bulk inserts, plus a waiver on 1 % of the loans and a plan on 0.5 %; then it
prints, per table, rows and rows/s for the new reader, the ORM reader's total, and the
seconds of ``compiled_states`` (read + compute today and yesterday + kernel for concessions).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

AS_OF = date(2026, 11, 29)


def _seed(loans: int) -> None:
    """The synthetic book in the ledger tables, by bulk inserts (COPY on PostgreSQL)."""
    import polars as pl
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from arrears.engine.snapshot import read_snapshot
    from arrears.engine.synthetic import synthetic_products, write_synthetic_snapshot
    from arrears.ledger import models, schedules, services

    with tempfile.TemporaryDirectory() as directory:
        write_synthetic_snapshot(Path(directory), loans=loans, as_of=AS_OF, seed=1)
        snap = read_snapshot(Path(directory))
    now = datetime.now(UTC).isoformat()
    with transaction.atomic():
        ids = {}
        for number, (code, terms) in enumerate(synthetic_products(), start=1):
            product = services.create_product(
                code=code, version=1, name=code, effective_from=date(2025, 1, 1), terms=terms
            )
            ids[number] = product.id
        owner = services.create_borrower(
            ref="BENCH",
            name="Bench",
            id_type="other",
            national_id="E0000001",
            time_zone="Asia/Shanghai",
        )
        maker = User.objects.create_user("bench-maker")
        loan_rows = snap.loans.with_columns(
            pl.col("product_id").replace_strict(ids),
            pl.lit(owner.id).alias("borrower_id"),
            pl.col("rate_value").cast(pl.String),
        )
        terms = snap.instalments.group_by("loan_id").len("term")
        stored = schedules.encode_frame(
            snap.instalments.rename({"principal_minor": "principal", "interest_minor": "interest"}),
            "loan_id",
        )
        loan_rows = loan_rows.join(terms, on="loan_id")
        tables = {
            models.Loan: (
                [
                    "id",
                    "ref",
                    "borrower_id",
                    "product_id",
                    "currency",
                    "principal_minor",
                    "rate_value",
                    "rate_basis",
                    "term",
                    "method",
                    "day_count",
                    "start_date",
                    "created_at",
                ],
                loan_rows.select(
                    "loan_id",
                    "ref",
                    "borrower_id",
                    "product_id",
                    "currency",
                    "principal_minor",
                    "rate_value",
                    "rate_basis",
                    "term",
                    pl.lit("equal-principal").alias("method"),
                    "day_count",
                    "start_date",
                    pl.lit(now).alias("created_at"),
                ),
            ),
            models.Schedule: (["loan_id", "text"], stored),
            models.Payment: (
                [
                    "ref",
                    "loan_id",
                    "value_date",
                    "amount_minor",
                    "currency",
                    "reversed_on",
                    "reversal_reason",
                    "source",
                    "created_at",
                ],
                snap.payments.with_row_index().select(
                    pl.format("PAY{}-{}", "loan_id", "index").alias("ref"),
                    "loan_id",
                    "value_date",
                    "amount_minor",
                    pl.lit("CNY").alias("currency"),
                    "reversed_on",
                    pl.lit("").alias("reversal_reason"),
                    pl.lit("").alias("source"),
                    pl.lit(now).alias("created_at"),
                ),
            ),
        }
        for model, (columns, frame) in tables.items():
            _insert(connection, model._meta.db_table, columns, frame.rows())
        some = snap.loans.filter(pl.col("loan_id") % 100 == 7)
        models.Waiver.objects.bulk_create(
            models.Waiver(
                ref=f"W-{loan_id}",
                loan_id=loan_id,
                component="penalty",
                amount_minor=500,
                effective_on=start + timedelta(days=90),
                reason="hardship",
                status="approved",
                requested_by=maker,
            )
            for loan_id, start in some.select("loan_id", "start_date").rows()
        )
        planned = snap.loans.filter(pl.col("loan_id") % 200 == 3).select("loan_id", "start_date")
        plans = models.RepaymentPlan.objects.bulk_create(
            models.RepaymentPlan(
                ref=f"PL-{loan_id}",
                loan_id=loan_id,
                effective_on=start + timedelta(days=120),
                status="approved",
                proposed_by=maker,
            )
            for loan_id, start in planned.rows()
        )
        models.PlanInstalment.objects.bulk_create(
            models.PlanInstalment(
                plan=plan,
                seq=seq,
                due_date=plan.effective_on + timedelta(days=30 * seq),
                amount_minor=50_000,
            )
            for plan in plans
            for seq in (1, 2, 3)
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (models.Loan,):
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _insert(connection: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _orm_frames(loans: Any) -> dict[str, int]:
    """The reader ``ledger.frames`` replaced (``daily.engines.ledger_frames`` until now): ORM
    ``values_list`` per table into Polars, no concessions. Returns rows per table."""
    import polars as pl

    from arrears.ledger import models, schedules

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
    frames = {
        "loans": pl.DataFrame(loan_rows, orient="row"),
        "instalments": schedules.explode(
            pl.DataFrame(
                list(
                    models.Schedule.objects.filter(loan_id__in=ids).values_list("loan_id", "text")
                ),
                schema={"loan_id": pl.Int64, "schedule": pl.String},
                orient="row",
            )
        ),
        "payments": pl.DataFrame(
            list(
                models.Payment.objects.filter(loan_id__in=ids).values_list(
                    "loan_id", "ref", "value_date", "amount_minor", "reversed_on"
                )
            ),
            orient="row",
        ),
    }
    return {name: len(frame) for name, frame in frames.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--chunk-loans", type=int, default=200_000)
    parser.add_argument("--skip-orm", action="store_true", help="do not time the ORM reader")
    args = parser.parse_args()
    out = Path(__file__).parent / "out" / f"ledger-frames-{args.loans}"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ARREARS_DATA_DIR", str(out))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{out / 'arrears.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from arrears.daily.engines import compiled_states
    from arrears.ledger import models
    from arrears.ledger.frames import LedgerReader, consistent_read

    call_command("migrate", "--no-input", verbosity=0)
    if not models.Loan.objects.exists():
        started = time.perf_counter()
        _seed(args.loans)
        print(f"seeded {args.loans} loans in {time.perf_counter() - started:.1f}s")
    count = models.Loan.objects.count()
    loans = models.Loan.objects.filter(start_date__lte=AS_OF)

    started = time.perf_counter()
    with consistent_read():
        reader = LedgerReader(loans)
        products = reader.products()
        ids = reader.loan_ids()
        starts = ids[:: args.chunk_loans]
        for index, low in enumerate(starts):
            high = starts[index + 1] if index + 1 < len(starts) else None
            reader.chunk(products, low, high)
    frames_s = time.perf_counter() - started
    per_table = " ".join(
        f"{name}={reader.rows[name]}@{reader.rows[name] / max(s, 1e-9):,.0f}/s"
        for name, s in reader.seconds.items()
    )
    line = f"db={connection.vendor} loans={count} frames_s={frames_s:.2f} [{per_table}]"
    if not args.skip_orm:
        started = time.perf_counter()
        rows = _orm_frames(loans)
        orm_s = time.perf_counter() - started
        line += f" orm_values_list_s={orm_s:.2f} ({sum(rows.values())} rows, no concessions)"
    started = time.perf_counter()
    states, errors = compiled_states(loans, AS_OF)
    line += (
        f" compiled_states_s={time.perf_counter() - started:.2f} states={len(states)} "
        f"errors={len(errors)}"
    )
    print(line)


if __name__ == "__main__":
    main()
