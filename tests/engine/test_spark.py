"""The Spark runner's executors write, as partitioned Parquet, exactly the rows the local
runner writes for the whole snapshot; the driver never holds a loan row.

One local Spark session serves the process (the ``spark`` fixture, tests/engine/spark_jvm.py:
its start-up dominates the time); batches of two loans force several ``compute_chunk`` calls
per partition, so the test would notice a loan split from its instalments or payments, or a
decimal or date bent on the way. A run costs seconds of CPU in the JVM, so the runs at
:data:`AS_OF` that several tests read are made once for the module (:func:`runs`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import polars as pl
import pyarrow.dataset as ds
import pytest
from django.core.management import call_command
from polars.testing import assert_frame_equal

from arrears.engine.chunk import ERROR_SCHEMA, RESULT_SCHEMA, compute_chunk, kernel_chunk
from arrears.engine.runner import RunStats, run_snapshot
from arrears.engine.snapshot import SnapshotWriter
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
from tests.engine.conftest import AS_OF as V2_AS_OF
from tests.engine.test_frames import frames
from tests.kernel.factories import make_loan

pytest.importorskip("pyspark")

from arrears.engine import spark as spark_module
from arrears.engine.spark import (
    TABLES,
    colocated,
    flat_frames,
    is_local,
    local_path,
    location,
    main,
    read_output,
    run_snapshot_spark,
)

AS_OF = date(2026, 6, 20)


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
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[pl.DataFrame, ...]]:
    """The portfolio as a valid snapshot (sorted files and a manifest), which the local
    runner reads too."""
    snap = tmp_path_factory.mktemp("snapshot") / "snap"
    products, loans, instalments, payments = portfolio()
    tables = (
        products,
        loans.sort("loan_id"),
        instalments.sort("loan_id", "seq"),
        payments.sort("loan_id", "value_date", "ref"),
    )
    with SnapshotWriter(snap) as writer:
        for name, frame in zip(TABLES, tables, strict=True):
            writer.write(name, frame.to_arrow())
    return snap, tables


def local_run(snap: Path, out: Path, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame, RunStats]:
    """What the local (chunked Polars) runner writes for the snapshot, sorted by loan_id."""
    stats = run_snapshot(snap, out, as_of, chunk_loans=4)
    return (
        pl.read_parquet(out / "loan_state.parquet").sort("loan_id"),
        pl.read_parquet(out / "errors.parquet").sort("loan_id"),
        stats,
    )


def partition_dirs(dataset: Path) -> set[str]:
    """The Hive partition directories of a dataset, relative to it (``as_of=…/bucket=…``)."""
    return {str(f.parent.relative_to(dataset)) for f in dataset.rglob("*.parquet")}


#: What the driver fetched of a DataFrame: (method, the DataFrame's columns, rows fetched).
Fetch = tuple[str, list[str], int]
#: The DataFrame methods that bring rows to the driver.
FETCHES = ("collect", "toArrow", "toPandas", "toLocalIterator", "take", "head", "tail")


@dataclass
class Run:
    """A Spark run at :data:`AS_OF` on the snapshot: its output, summary, printed line and
    every DataFrame it brought to the driver, in order."""

    out: Path
    stats: RunStats
    printed: str = ""
    fetched: list[Fetch] = field(default_factory=list)


def spy_on_fetches(spark, monkeypatch: pytest.MonkeyPatch) -> list[Fetch]:
    """Record every DataFrame the driver fetches (collect, toArrow, toPandas, take…): the
    returned list fills as they happen; each is passed through unchanged."""
    classic = type(spark.range(1))
    fetched: list[Fetch] = []

    def spy(name: str):
        original = getattr(classic, name)

        def fetch(self, *args, **kwargs):
            value = original(self, *args, **kwargs)
            rows = value.num_rows if hasattr(value, "num_rows") else len(value)
            fetched.append((name, list(self.columns), rows))
            return value

        return fetch

    for name in FETCHES:
        monkeypatch.setattr(classic, name, spy(name))
    return fetched


@pytest.fixture(scope="module")
def runs(spark, snapshot, tmp_path_factory) -> Callable[[int | None], Run]:
    """The run at :data:`AS_OF` over ``partitions`` partitions, made once for the module;
    tests only read it (one that changes an output copies it first). Over 3 partitions it is
    ``run_snapshot_spark``'s; with the partitions left to the session's default it is the
    spark-submit entry point's (``main``, which calls ``run_snapshot_spark``; its summary is
    taken on the way). Every DataFrame either brings to the driver is recorded."""
    made: dict[int | None, Run] = {}
    snap, _ = snapshot

    def run(partitions: int | None) -> Run:
        if partitions in made:
            return made[partitions]
        out = tmp_path_factory.mktemp("run") / "out"
        with pytest.MonkeyPatch.context() as patch:
            fetched = spy_on_fetches(spark, patch)
            if partitions is not None:
                made[partitions] = Run(
                    out, run_snapshot_spark(snap, out, AS_OF, partitions=partitions)
                )
            else:
                made[None] = _submitted(snap, out, patch)
            made[partitions].fetched = fetched
        return made[partitions]

    return run


def _submitted(snap: Path, out: Path, patch: pytest.MonkeyPatch) -> Run:
    """``main``'s run (no ``--partitions``), what it printed and the summary it printed from."""
    summaries: list[RunStats] = []

    def summarised(*args, **kwargs) -> RunStats:
        summaries.append(run_snapshot_spark(*args, **kwargs))
        return summaries[-1]

    patch.setattr(spark_module, "run_snapshot_spark", summarised)
    printed = StringIO()
    with redirect_stdout(printed):
        code = main(["--snapshot", str(snap), "--out", str(out), "--as-of", AS_OF.isoformat()])
    assert code == 0 and len(summaries) == 1
    return Run(out, summaries[0], printed.getvalue())


@pytest.mark.slow
@pytest.mark.parametrize("partitions", [3, None])
def test_executors_write_partitioned_results_equal_to_the_local_runner(
    runs, snapshot, tmp_path, partitions
):
    snap, tables = snapshot
    run = runs(partitions)
    out, stats = run.out, run.stats

    expected, expected_errors, local_stats = local_run(snap, tmp_path / "local", AS_OF)
    # read back as any Hive-aware reader would: Polars, with the partition types given
    hive = {"as_of": pl.Date, "bucket": pl.String}
    results = (
        pl.scan_parquet(
            out / "loan_state" / "**" / "*.parquet", hive_partitioning=True, hive_schema=hive
        )
        .select(expected.columns)
        .sort("loan_id")
        .collect()
    )
    assert_frame_equal(results, expected)  # row for row, column for column, types and all
    errors = ds.dataset(out / "errors", format="parquet", partitioning="hive").to_table()
    assert_frame_equal(
        pl.from_arrow(errors).select(expected_errors.columns).sort("loan_id"), expected_errors
    )
    got, got_errors = read_output(out)
    assert_frame_equal(got.sort("loan_id").collect(), expected)
    assert_frame_equal(got_errors.sort("loan_id").collect(), expected_errors)
    # the same as one big chunk, too
    whole, whole_errors = compute_chunk(*tables, AS_OF)
    assert_frame_equal(expected, whole.sort("loan_id"))
    assert_frame_equal(expected_errors, whole_errors.sort("loan_id"))

    # partitioned by as_of and bucket (results) and by code (errors); no driver-written file
    buckets = dict(sorted(expected.group_by("bucket").len().iter_rows()))
    assert partition_dirs(out / "loan_state") == {
        f"as_of={AS_OF}/bucket={bucket}" for bucket in buckets
    }
    assert partition_dirs(out / "errors") == {
        "code=loan-invalid-terms",  # CORRUPT: its schedule does not sum to its principal
        "code=loan-schedule-unreadable",  # NOSCHEDULE
    }
    assert not (out / "loan_state.parquet").exists()
    # the summary and the run record are the local runner's
    assert (stats.loans, stats.delinquent, stats.errors, stats.per_bucket) == (
        local_stats.loans,
        local_stats.delinquent,
        local_stats.errors,
        local_stats.per_bucket,
    )
    assert stats.per_bucket == buckets
    record = json.loads((out / "run.json").read_text("utf-8"))
    assert record == {
        **json.loads((tmp_path / "local" / "run.json").read_text("utf-8")),
        "engine": "spark",
    }
    # the portfolio exercises what it claims: arrears, a settled loan, a kernel fallback, errors
    assert results["dpd"].max() > 0 and results["settled_on"].is_not_null().any()
    assert "HUGE" in results["ref"] and "FUTURE" not in results["ref"]
    assert sorted(errors["ref"].to_pylist()) == ["CORRUPT", "NOSCHEDULE"]


@pytest.mark.slow
def test_a_second_run_into_the_same_output_replaces_it_whole(runs, snapshot, tmp_path):
    """Static overwrite: a later day's run leaves nothing of the earlier one — not its as_of
    directory, not a bucket the later day no longer has, not a stale record. The earlier
    output is a copy of the module's run at AS_OF, every file of it."""
    snap, _ = snapshot
    out = tmp_path / "spark"
    shutil.copytree(runs(3).out, out)
    assert (out / "run.json").is_file() and partition_dirs(out / "errors")
    later = AS_OF + timedelta(days=75)
    before = partition_dirs(out / "loan_state")
    stats = run_snapshot_spark(snap, out, later, partitions=2)

    expected, expected_errors, _ = local_run(snap, tmp_path / "local", later)
    after = partition_dirs(out / "loan_state")
    assert after == {f"as_of={later}/bucket={b}" for b in expected["bucket"].unique()}
    assert before.isdisjoint(after)
    got, got_errors = read_output(out)
    assert_frame_equal(got.sort("loan_id").collect(), expected)
    assert_frame_equal(got_errors.sort("loan_id").collect(), expected_errors)
    assert json.loads((out / "run.json").read_text("utf-8"))["as_of"] == later.isoformat()
    assert stats.loans == len(expected)
    assert not list(out.glob(".*.partial"))


@pytest.mark.slow
def test_the_driver_never_receives_a_loan_row(runs, snapshot):
    """Every DataFrame the run brings to the driver (collect, toArrow, toPandas, take…) is
    spied on: only the products table and a summary of a row per bucket (and errors) come."""
    run = runs(3)
    fetched, stats = run.fetched, run.stats

    assert fetched, "the spy saw nothing: is the DataFrame class right?"
    for name, columns, _ in fetched:
        assert "loan_id" not in columns and "ref" not in columns, (name, columns)
    # the products table (shipped to the executors) and a summary row per bucket and errors
    (products, product_columns, _), (summary, summary_columns, summary_rows) = fetched
    assert summary_columns == ["failed", "bucket", "n", "late"]
    assert (products, summary) == ("toArrow", "collect")
    assert product_columns == snapshot[1][0].columns
    assert summary_rows <= len(stats.per_bucket) + 1


@pytest.mark.slow
def test_run_day_on_spark_takes_a_master_and_an_output_uri(spark, snapshot, tmp_path):
    snap, tables = snapshot
    out = StringIO()
    call_command(
        "run-day",
        "--as-of",
        AS_OF.isoformat(),
        "--snapshot",
        str(snap),
        "--out",
        (tmp_path / "out").as_uri(),  # file:///…, as s3a://bucket/run would be given
        "--engine",
        "spark",
        "--master",
        "local[2]",
        "--partitions",
        "2",
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
    got, _ = read_output(tmp_path / "out")
    assert_frame_equal(got.sort("loan_id").collect(), expected.sort("loan_id"))


@pytest.mark.slow
def test_run_day_on_spark_over_a_range_writes_a_dated_output_per_day(spark, snapshot, tmp_path):
    snap, _ = snapshot
    out = StringIO()
    call_command(
        "run-day",
        "--from",
        AS_OF.isoformat(),
        "--to",
        (AS_OF + timedelta(days=1)).isoformat(),
        "--snapshot",
        snap.as_uri(),
        "--out",
        (tmp_path / "runs").as_uri() + "/",
        "--engine",
        "spark",
        "--spark-master",  # the old spelling of --master
        "local[2]",
        stdout=out,
    )
    days = [AS_OF, AS_OF + timedelta(days=1)]
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == [
        d.isoformat() for d in days
    ]
    for day in days:
        record = json.loads((tmp_path / "runs" / day.isoformat() / "run.json").read_text("utf-8"))
        assert record["as_of"] == day.isoformat()
        assert partition_dirs(tmp_path / "runs" / day.isoformat() / "loan_state") >= {
            f"as_of={day}/bucket=M0"
        }


@pytest.mark.slow
def test_the_submit_entry_point_runs_without_django(runs, snapshot, tmp_path):
    """``spark-submit …/engine/spark.py`` calls ``main``: the same run, the same line."""
    snap, _ = snapshot
    run = runs(None)  # main(["--snapshot", snap, "--out", out, "--as-of", "2026-06-20"]) == 0
    expected, _, local_stats = local_run(snap, tmp_path / "local", AS_OF)
    assert run.printed.startswith(local_stats.line(AS_OF).split(" [")[0])
    got, _ = read_output(run.out)
    assert_frame_equal(got.sort("loan_id").collect(), expected)


@pytest.mark.slow
def test_the_run_record_goes_through_hadoop_for_a_remote_uri(spark, tmp_path, monkeypatch):
    """For ``s3a://`` or ``hdfs://`` the record is written, checked and deleted through Hadoop's
    file system API; here Hadoop's local file system stands in for the remote one."""
    monkeypatch.setattr(spark_module, "is_local", lambda where: False)
    record = f"{(tmp_path / 'out').as_uri()}/run.json"
    assert not spark_module._exists(spark, record)
    spark_module._put_text(spark, record, '{"as_of": "2026-06-20"}')
    spark_module._put_text(spark, record, '{"as_of": "2026-06-21"}')  # replaces
    assert spark_module._exists(spark, record)
    assert json.loads((tmp_path / "out" / "run.json").read_text("utf-8")) == {"as_of": "2026-06-21"}
    assert not (tmp_path / "out" / ".run.json.partial").exists()
    spark_module._delete(spark, record)
    assert not (tmp_path / "out" / "run.json").exists()


def test_locations_keep_uris_and_make_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert location("s3a://bucket/runs/day/") == "s3a://bucket/runs/day"
    assert location("hdfs://nn:8020/runs") == "hdfs://nn:8020/runs"
    assert location("out") == str(tmp_path / "out")
    assert location(Path("out")) == str(tmp_path / "out")
    assert is_local(location("out")) and is_local("file:///tmp/x")
    assert not is_local("s3a://bucket/x") and not is_local("hdfs://nn/x")
    assert local_path("file:///tmp/x") == local_path("/tmp/x") == Path("/tmp/x")


def test_reading_an_output_without_rows_gives_the_schemas(tmp_path):
    """Spark writes no Parquet file for an empty dataset (only ``_SUCCESS``)."""
    for name in ("loan_state", "errors"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "_SUCCESS").touch()
    results, errors = read_output(tmp_path)
    assert results.collect().schema == pl.Schema(RESULT_SCHEMA)
    assert errors.collect().schema == pl.Schema(ERROR_SCHEMA)


@pytest.mark.slow
def test_colocated_rows_flatten_back_to_the_snapshot_exactly(spark, snapshot):
    """Decimals (scale 12 and 6), dates and nulls survive Spark and Arrow digit for digit:
    the nested rows flatten back to the snapshot's files, values and types."""
    snap, _ = snapshot
    products, loans, instalments, payments = (
        pl.read_parquet(snap / f"{name}.parquet") for name in TABLES
    )
    table = colocated(spark, snap, partitions=3).toArrow()
    flat_loans, children = flat_frames(pl.from_arrow(table))
    assert set(children) == {"instalments", "payments"}
    for got, want, keys in zip(
        (flat_loans, children["instalments"], children["payments"]),
        (loans, instalments, payments),
        (["loan_id"], ["loan_id", "seq"], ["loan_id", "ref"]),
        strict=True,
    ):
        assert_frame_equal(got.sort(keys), want.sort(keys))
    assert_frame_equal(
        pl.from_arrow(spark.read.parquet(str(snap / "products.parquet")).toArrow()), products
    )


@pytest.mark.slow
def test_a_v2_snapshot_with_concessions_gives_the_local_runners_figures(
    spark,
    base,
    tmp_path,
):
    """Waivers, plans and plan instalments travel with their loans to the executors, which
    replay those loans through the kernel: every figure equals the local runner's and the
    kernel's, and the concessions change what the loans owe."""
    snap = tmp_path / "v2"
    with SnapshotWriter(snap, row_group_rows=4) as writer:
        for name, frame in base.tables.items():
            writer.write(name, frame.to_arrow())
    out = tmp_path / "spark"
    run_snapshot_spark(snap, out, V2_AS_OF, partitions=3)
    got, got_errors = read_output(out)
    expected, expected_errors, _ = local_run(snap, tmp_path / "local", V2_AS_OF)
    assert_frame_equal(got.sort("loan_id").collect(), expected)
    assert_frame_equal(got_errors.sort("loan_id").collect(), expected_errors)
    kernel, _ = kernel_chunk(*base.frames, V2_AS_OF, **base.concessions)
    assert_frame_equal(expected, kernel)
    bare, _ = compute_chunk(*base.frames, V2_AS_OF)
    assert not expected.equals(bare.sort("loan_id")), "the concessions were applied"
