"""The Spark runner gives exactly the rows ``compute_chunk`` gives for the whole snapshot.

One local Spark session serves the module (its start-up dominates the time); batches of two
loans force several ``compute_chunk`` calls per partition, so the test would notice a loan
split from its instalments or payments, or a decimal or date bent on the way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command
from polars.testing import assert_frame_equal

from arrears.engine.chunk import compute_chunk
from arrears.kernel.money import Rounding
from arrears.kernel.terms import (
    AccrualRounding,
    Component,
    DayCount,
    InterestRate,
    Payment,
    ProductTerms,
    RateBasis,
)
from tests.engine.test_frames import frames
from tests.kernel.factories import make_loan

pytest.importorskip("pyspark")

from arrears.engine.spark import (
    TABLES,
    colocated,
    flat_frames,
    run_snapshot_spark,
    spark_session,
)

AS_OF = date(2026, 6, 20)
#: Test-only JVM flags: a short job starts faster without the optimising compiler.
FAST_JVM = {
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "2",
}


def _paid_in_full(ref: str) -> tuple:
    loan = make_loan(ref=ref, term=3)
    history = [
        Payment(f"{ref}-{i.seq}", i.due_date, i.principal + i.interest) for i in loan.schedule
    ]
    return loan, history


def portfolio() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Loans covering each path: late, paid to schedule, settled early, reversed payment,
    compound with grace and a cap, annual rate, int64 fallback to the kernel, a corrupt
    schedule, no schedule, not started."""
    first_due = date(2026, 2, 15)
    compound = ProductTerms(
        penalty_multiplier=Decimal("1.234567"),
        compound=True,
        grace_days=5,
        grace_retroactive=True,
        cost_cap_annual=Decimal("0.360000"),
        rounding=Rounding.HALF_EVEN,
        accrual_rounding=AccrualRounding.PERIOD,
        allocation_order=(
            Component.INTEREST,
            Component.PRINCIPAL,
            Component.PENALTY,
            Component.COMPOUND,
        ),
        tolerance=100,
    )
    annual = replace(
        make_loan(ref="ANNUAL"),
        rate=InterestRate(Decimal("0.1825"), RateBasis.ANNUAL),
        day_count=DayCount.ACTUAL_365,
    )
    book = [
        (make_loan(ref="LATE"), []),
        _paid_in_full("PAID"),
        (
            make_loan(ref="REVERSED"),
            [
                Payment("R1", first_due, 98_333, reversed_on=date(2026, 2, 20)),
                Payment("R2", date(2026, 3, 1), 50_000),
            ],
        ),
        (
            make_loan(ref="COMPOUND", product=compound, daily_rate=Decimal("0.000456789012")),
            [Payment("C1", date(2026, 3, 18), 60_000)],
        ),
        (annual, [Payment("A1", first_due, 98_333)]),
        (make_loan(ref="HUGE", principal=4 * 10**18 // 1000 * 1000, interest_each=0), []),
        (make_loan(ref="CORRUPT"), []),
        (make_loan(ref="NOSCHEDULE"), []),
        (make_loan(ref="FUTURE", start=date(2026, 9, 1)), []),
        (make_loan(ref="SETTLED"), [Payment("S1", date(2026, 3, 1), 1_100_000)]),
        *(_paid_in_full(f"PAID{n}") for n in range(3)),
        *((make_loan(ref=f"LATE{n}", principal=200_000 * (n + 1)), []) for n in range(3)),
    ]
    products, loans, instalments, payments = frames(book)
    ids = dict(zip(loans["ref"], loans["loan_id"], strict=True))
    instalments = instalments.filter(pl.col("loan_id") != ids["NOSCHEDULE"]).with_columns(
        pl.when((pl.col("loan_id") == ids["CORRUPT"]) & (pl.col("seq") == 1))
        .then(1)
        .otherwise(pl.col("principal_minor"))
        .alias("principal_minor")
    )
    return products, loans, instalments, payments


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    session = spark_session("local[2]", FAST_JVM)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[pl.DataFrame, ...]]:
    snap = tmp_path_factory.mktemp("snapshot") / "snap"
    snap.mkdir()
    tables = portfolio()
    for name, frame in zip(TABLES, tables, strict=True):
        frame.write_parquet(snap / f"{name}.parquet")
    return snap, tables


@pytest.mark.slow
@pytest.mark.parametrize("partitions", [3, None])
def test_spark_run_writes_the_chunk_results_and_errors_of_the_whole_snapshot(
    spark, snapshot, tmp_path, partitions
):
    snap, tables = snapshot
    stats = run_snapshot_spark(snap, tmp_path / "out", AS_OF, partitions=partitions)

    expected, expected_errors = compute_chunk(*tables, AS_OF)
    results = pl.read_parquet(tmp_path / "out" / "loan_state.parquet")
    errors = pl.read_parquet(tmp_path / "out" / "errors.parquet")
    assert_frame_equal(results, expected.sort("loan_id"))
    assert_frame_equal(errors, expected_errors.sort("loan_id"))
    buckets = dict(sorted(expected.group_by("bucket").len().iter_rows()))
    assert (stats.loans, stats.delinquent, stats.errors, stats.per_bucket) == (
        len(expected),
        int((expected["dpd"] > 0).sum()),
        len(expected_errors),
        buckets,
    )
    # the same run record the Polars runner writes
    assert json.loads((tmp_path / "out" / "run.json").read_text("utf-8")) == {
        "as_of": AS_OF.isoformat(),
        "engine": "spark",
        "loans": len(expected),
        "delinquent": stats.delinquent,
        "errors": len(expected_errors),
        "per_bucket": buckets,
    }
    # the portfolio exercises what it claims: arrears, a settled loan, a kernel fallback, errors
    assert results["dpd"].max() > 0 and results["settled_on"].is_not_null().any()
    assert "HUGE" in results["ref"] and "FUTURE" not in results["ref"]
    assert sorted(errors["ref"]) == ["CORRUPT", "NOSCHEDULE"]


@pytest.mark.slow
def test_run_day_on_spark_prints_the_summary_the_polars_engine_prints(spark, snapshot, tmp_path):
    snap, tables = snapshot
    out = StringIO()
    call_command(
        "run-day",
        "--as-of",
        AS_OF.isoformat(),
        "--snapshot",
        str(snap),
        "--out",
        str(tmp_path / "out"),
        "--engine",
        "spark",
        stdout=out,
    )
    expected, errors = compute_chunk(*tables, AS_OF)
    line = out.getvalue().strip()
    assert "{" not in line  # was the raw dict {'loans': 13, ...}
    assert line.startswith(
        f"{AS_OF}: {len(expected)} loans, {int((expected['dpd'] > 0).sum())} delinquent, "
        f"{len(errors)} errors ["
    )
    assert (tmp_path / "out" / "run.json").is_file()


@pytest.mark.slow
def test_colocated_rows_flatten_back_to_the_snapshot_exactly(spark, snapshot):
    """Decimals (scale 12 and 6), dates and nulls survive Spark and Arrow digit for digit."""
    snap, (products, loans, instalments, payments) = snapshot
    table = colocated(spark, snap, partitions=3).toArrow()
    back = flat_frames(pl.from_arrow(table))
    for got, want, keys in zip(
        back,
        (loans, instalments, payments),
        (["loan_id"], ["loan_id", "seq"], ["loan_id", "ref"]),
        strict=True,
    ):
        assert_frame_equal(got.sort(keys), want.sort(keys))
    assert_frame_equal(
        pl.from_arrow(spark.read.parquet(str(snap / "products.parquet")).toArrow()), products
    )
