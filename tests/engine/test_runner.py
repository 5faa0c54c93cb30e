"""The Polars runner over a snapshot directory: chunked, complete, equal to one big chunk."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from arrears.engine.chunk import compute_chunk
from arrears.engine.runner import TABLES, run_snapshot
from arrears.engine.snapshot import SnapshotWriter
from arrears.kernel.terms import Payment
from tests.engine.test_frames import frames
from tests.kernel.factories import make_loan

AS_OF = date(2026, 6, 1)


def write_snapshot(directory: Path, book) -> tuple[pl.DataFrame, ...]:
    """A valid snapshot (sorted files and a manifest) of a book of kernel loans."""
    products, loans, instalments, payments = frames(book)
    tables = (
        products,
        loans.sort("loan_id"),
        instalments.sort("loan_id", "seq"),
        payments.sort("loan_id", "value_date", "ref"),
    )
    with SnapshotWriter(directory) as writer:
        for name, frame in zip(TABLES, tables, strict=True):
            writer.write(name, frame.to_arrow())
    return tables


def test_chunked_run_equals_a_single_chunk_and_writes_atomically(tmp_path):
    book = []
    for n in range(23):
        loan = make_loan(ref=f"L{n:02d}", principal=100_000 * (n + 1))
        history = [
            Payment(f"L{n}-P{k}", loan.schedule[k].due_date, loan.schedule[k].total)
            for k in range(n % 5)
        ]
        book.append((loan, history))
    tables = write_snapshot(tmp_path / "snap", book)
    stats = run_snapshot(tmp_path / "snap", tmp_path / "out", AS_OF, chunk_loans=5)
    written = pl.read_parquet(tmp_path / "out" / "loan_state.parquet")
    expected, errors = compute_chunk(*tables, AS_OF)
    assert_frame_equal(written.sort("loan_id"), expected)
    assert stats.loans == 23 == written["ref"].n_unique()
    assert stats.delinquent == int((expected["dpd"] > 0).sum()) > 0
    assert sum(stats.per_bucket.values()) == 23
    assert not (tmp_path / "out" / ".loan_state.parquet.partial").exists()
    assert len(pl.read_parquet(tmp_path / "out" / "errors.parquet")) == len(errors) == 0


def test_running_the_same_snapshot_twice_gives_identical_output(tmp_path):
    write_snapshot(tmp_path / "snap", [(make_loan(), [])])
    run_snapshot(tmp_path / "snap", tmp_path / "a", AS_OF + timedelta(days=3))
    run_snapshot(tmp_path / "snap", tmp_path / "b", AS_OF + timedelta(days=3))
    assert_frame_equal(
        pl.read_parquet(tmp_path / "a" / "loan_state.parquet"),
        pl.read_parquet(tmp_path / "b" / "loan_state.parquet"),
    )


def test_the_reference_engine_on_a_snapshot_writes_the_same_file(tmp_path):
    book = [(make_loan(ref=f"R{n}", principal=50_000 * (n + 2)), []) for n in range(6)]
    write_snapshot(tmp_path / "snap", book)
    run_snapshot(tmp_path / "snap", tmp_path / "fast", AS_OF, chunk_loans=4)
    run_snapshot(tmp_path / "snap", tmp_path / "slow", AS_OF, chunk_loans=4, engine="reference")
    assert_frame_equal(
        pl.read_parquet(tmp_path / "fast" / "loan_state.parquet"),
        pl.read_parquet(tmp_path / "slow" / "loan_state.parquet"),
    )


def test_a_malformed_snapshot_is_refused_with_the_file_and_row_named(tmp_path):
    import pytest

    from arrears.engine.snapshot import SnapshotError

    tables = write_snapshot(tmp_path / "snap", [(make_loan(), [])])
    bad = tables[1].with_columns(pl.lit(-5, dtype=pl.Int64).alias("principal_minor"))
    with SnapshotWriter(tmp_path / "bad") as writer:
        for name, frame in zip(TABLES, (tables[0], bad, *tables[2:]), strict=True):
            writer.write(name, frame.to_arrow())
    with pytest.raises(SnapshotError, match=r"loans\.parquet: column principal_minor: row 0"):
        run_snapshot(tmp_path / "bad", tmp_path / "out", AS_OF)
    assert not (tmp_path / "out" / "loan_state.parquet").exists()


def test_a_chunk_that_fails_validation_midway_leaves_no_result_file(tmp_path):
    """The reader thread's error surfaces in the run, at the chunk it concerns, and the
    partial output is never renamed into place."""
    import pytest

    from arrears.engine.snapshot import SnapshotError

    book = [(make_loan(ref=f"M{n:02d}", principal=100_000 * (n + 1)), []) for n in range(9)]
    tables = write_snapshot(tmp_path / "snap", book)
    bad = tables[1].with_columns(
        pl.when(pl.col("loan_id") == 8)
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise(pl.col("principal_minor"))
        .alias("principal_minor")
    )
    with SnapshotWriter(tmp_path / "bad") as writer:
        for name, frame in zip(TABLES, (tables[0], bad, *tables[2:]), strict=True):
            writer.write(name, frame.to_arrow())
    with pytest.raises(SnapshotError, match=r"principal_minor: row 7 \(loan_id 8\) is 0"):
        run_snapshot(tmp_path / "bad", tmp_path / "out", AS_OF, chunk_loans=3)
    assert not (tmp_path / "out" / "loan_state.parquet").exists()


def test_the_reader_runs_one_chunk_ahead_and_no_further():
    """Memory holds the chunk being computed and the next one, not the whole snapshot."""
    from arrears.engine.runner import _read_ahead

    produced: list[int] = []

    def chunks():
        for n in range(5):
            produced.append(n)
            yield n

    seconds = {"read": 0.0, "wait": 0.0}
    seen = []
    for chunk in _read_ahead(chunks(), seconds):  # type: ignore[arg-type]
        import time

        time.sleep(0.02)  # the reader has had time to run ahead, were it allowed to
        assert len(produced) <= chunk + 2
        seen.append(chunk)
    assert seen == [0, 1, 2, 3, 4] and produced == seen


def test_a_consumer_that_stops_early_stops_the_reader():
    from arrears.engine.runner import _read_ahead

    closed = []

    def chunks():
        try:
            yield from range(100)
        finally:
            closed.append(True)

    ahead = _read_ahead(chunks(), {"read": 0.0, "wait": 0.0})  # type: ignore[arg-type]
    assert next(ahead) == 0
    ahead.close()
    assert closed == [True]


def test_work_given_to_the_reader_runs_once_while_the_first_chunk_is_read():
    from threading import Event

    from arrears.engine.runner import _read_ahead

    started, calls = Event(), []

    def chunks():
        started.set()
        yield from range(3)

    def meanwhile():
        assert started.wait(5)  # the first read is under way in the reader's thread
        calls.append(True)

    seen = list(_read_ahead(chunks(), {"read": 0.0, "wait": 0.0}, meanwhile))  # type: ignore[arg-type]
    assert seen == [0, 1, 2] and calls == [True]


def test_after_the_warm_up_a_real_batch_needs_no_new_compilation():
    from arrears.engine import replay
    from arrears.engine.batch import run, warm_up
    from arrears.engine.frames import batch_from_frames

    warm_up()
    known = set(replay.replay_all.signatures)
    loan = make_loan(ref="W1", principal=120_000)
    batch, _, _ = batch_from_frames(*frames([(loan, [])]), AS_OF)
    run(batch, AS_OF)
    assert set(replay.replay_all.signatures) == known
