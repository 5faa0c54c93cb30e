"""One replay pipeline, three ways in, the same figures: on a generated book with waivers,
plans (active, broken, completed, settlement), reversals and back-dated payments,

* the database path (``compiled``: ``ledger.frames`` → ``engine.chunk.compute_chunk``),
* ``snapshot export`` + ``run_snapshot`` (the no-database path; format version 2),
* the same snapshot on Spark (``local[2]``, the tests' session; executors write partitioned
  Parquet), and
* the kernel (``reference``: every loan replayed from the ORM's kernel values)

agree on every loan and every figure, for several as-of dates. CI runs it on SQLite and on
PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.daily.engines import compiled_states, reference_states
from arrears.engine.chunk import RESULT_SCHEMA, compute_chunk, kernel_chunk
from arrears.engine.runner import run_snapshot
from arrears.engine.snapshot import read_snapshot
from arrears.engine.spark import read_output, run_snapshot_spark
from arrears.kernel.contract import STORED
from arrears.ledger import models
from arrears.ledger.frames import read_frames
from arrears.ledger.snapshot_export import export_snapshot
from tests.ledger.books import AS_OF_DATES, concession_book

pytestmark = pytest.mark.slow


def _started(as_of: date):  # the daily run's selection
    return models.Loan.objects.filter(start_date__lte=as_of)


@pytest.mark.django_db
def test_database_path_equals_snapshot_path_equals_kernel(spark: object, tmp_path: Path) -> None:
    book = concession_book()
    snapshot_dir = tmp_path / "snap"
    counts = export_snapshot(snapshot_dir, batch_size=7)  # several chunks, several row groups
    assert counts["loans"] == len(book)
    assert counts["waivers"] == 7 and counts["plans"] == 6  # what is in force, nothing refused
    exported = read_snapshot(snapshot_dir)
    frames = read_frames()
    for name, frame in frames.tables.items():
        assert_frame_equal(exported.tables[name], frame, check_column_order=True)

    adjusted_states = 0
    for as_of in AS_OF_DATES:
        compiled, compiled_errors = compiled_states(_started(as_of), as_of)
        reference, reference_errors = reference_states(_started(as_of), as_of)
        assert compiled_errors == reference_errors, as_of
        assert_frame_equal(compiled, reference)
        assert len(compiled) == _started(as_of).count() - len(compiled_errors)

        out = tmp_path / f"out-{as_of}"
        stats = run_snapshot(snapshot_dir, out, as_of, chunk_loans=5)
        ran = pl.read_parquet(out / "loan_state.parquet")
        assert stats.errors == len(compiled_errors)
        kernel_out = tmp_path / f"kernel-{as_of}"
        run_snapshot(snapshot_dir, kernel_out, as_of, chunk_loans=5, engine="reference")
        assert_frame_equal(ran, pl.read_parquet(kernel_out / "loan_state.parquet"))
        # the snapshot's figures are the database path's, figure for figure
        assert_frame_equal(
            ran.select("loan_id", *STORED),
            compiled.select(pl.exclude("previous_bucket", "previous_dpd")),
        )
        # and every figure of the result file, not only the stored ones
        fast, fast_errors = compute_chunk(*frames.frames, as_of, **frames.concessions)
        slow, slow_errors = kernel_chunk(*frames.frames, as_of, **frames.concessions)
        assert_frame_equal(fast, slow)
        assert_frame_equal(fast_errors, slow_errors)
        assert fast.columns == list(RESULT_SCHEMA)
        adjusted = {loan.id for loan in book[:12]}
        adjusted_states += fast.filter(pl.col("loan_id").is_in(adjusted)).height
    assert adjusted_states > 30  # the concession loans were computed, not dropped as errors

    # and Spark's executors, on the same exported snapshot, for the last date: the partitioned
    # output read back is the local runner's (so the database path's and the kernel's); the
    # process's one session (the ``spark`` fixture)
    run_snapshot_spark(snapshot_dir, tmp_path / "spark", as_of, partitions=2)
    results, errors = read_output(tmp_path / "spark")
    assert_frame_equal(results.sort("loan_id").collect(), ran)
    assert errors.collect().height == len(compiled_errors)


@pytest.mark.django_db
def test_concessions_change_the_figures_the_pipeline_gives(tmp_path: Path) -> None:
    """Guards the test above against agreeing by ignoring concessions everywhere: without
    its waiver a loan's penalty is higher, and a broken plan loan is past due."""
    book = concession_book()
    as_of = AS_OF_DATES[-1]
    with_concessions, _ = compiled_states(models.Loan.objects.all(), as_of)
    frames = read_frames()
    bare, _ = compute_chunk(*frames.frames, as_of)  # no concession frames: contractual only
    penalty = {row[0]: row[1] for row in bare.select("loan_id", "penalty_outstanding").rows()}
    waived = with_concessions.filter(pl.col("loan_id") == book[0].id).row(0, named=True)
    assert waived["penalty_outstanding"] < penalty[book[0].id] or penalty[book[0].id] == 0
    settled = with_concessions.filter(pl.col("loan_id") == book[8].id).row(0, named=True)
    bare_settled = bare.filter(pl.col("loan_id") == book[8].id).row(0, named=True)
    assert (settled["payoff"], bare_settled["payoff"] > 0) == (0, True)
