"""The Polars runner: a snapshot directory in, ``loan_state.parquet`` out, in bounded memory.

Loans are taken in loan_id ranges of ``chunk_loans``; each chunk's instalments and payments are
read with a range filter that Parquet row-group statistics make cheap (the snapshot files are
sorted by loan_id), computed by :func:`arrears.engine.chunk.compute_chunk` and appended to the
output file, so peak memory is a few chunks, not the portfolio. A version 2 snapshot's waivers
and plans go with their chunk, so those loans are replayed by the kernel with them: every
loan's figures are the database path's.

The three stages overlap: a reader thread reads and validates chunk N+1 while the calling
thread computes chunk N, and a writer thread appends chunk N-1's results to the file. Each
hand-over is one chunk deep, so at most one chunk waits at each; Polars, Arrow, Parquet and the
compiled replay do their heavy work without holding the GIL, so the threads use both cores.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from arrears.engine.batch import warm_up
from arrears.engine.chunk import (
    ERROR_SCHEMA,
    RESULT_SCHEMA,
    compute_chunk,
    isolating,
    kernel_chunk,
)
from arrears.engine.names import COMPILED, REFERENCE, canonical
from arrears.engine.snapshot.format import Snapshot
from arrears.engine.snapshot.read import iter_chunks

#: The files every snapshot has (version 1 and 2); the reader checks the rest by version.
TABLES = ("products", "loans", "instalments", "payments")
#: Loans per chunk by default: with the reader one chunk ahead and the writer one behind,
#: about three chunks are in memory (some 0.6 GiB each at this size); smaller chunks cost a
#: little more Parquet decoding at their edges, larger ones more memory for no speed.
CHUNK_LOANS = 500_000
#: The result columns whose row-group statistics (min, max) are written: the ones a reader of
#: ``loan_state.parquet`` filters on.
STATISTICS = ("loan_id", "as_of", "dpd", "bucket")


@dataclass
class RunStats:
    """What a snapshot run did and how long each stage took (seconds).

    The stages overlap (see the module docstring), so they add up to more than the run's wall
    time: ``read`` is the reader thread's time reading and validating, ``compute`` the calling
    thread's, ``write`` the writer thread's, and ``wait`` the time the calling thread waited
    for the reader or the writer (near zero when compute is the slowest stage)."""

    loans: int = 0
    delinquent: int = 0
    errors: int = 0
    per_bucket: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(
        default_factory=lambda: {"read": 0.0, "compute": 0.0, "write": 0.0, "wait": 0.0}
    )

    def line(self, as_of: date) -> str:
        buckets = " ".join(f"{k}={v}" for k, v in sorted(self.per_bucket.items()))
        stages = " ".join(f"{k}={v:.2f}s" for k, v in self.seconds.items())
        return (
            f"{as_of}: {self.loans} loans, {self.delinquent} delinquent, {self.errors} errors "
            f"[{buckets}] {stages}"
        )


def run_snapshot(
    snapshot: Path,
    out: Path,
    as_of: date,
    *,
    chunk_loans: int = CHUNK_LOANS,
    engine: str = COMPILED,
    verify_checksums: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> RunStats:
    """Compute every loan of ``snapshot`` as of ``as_of`` into ``out/loan_state.parquet``
    (and ``out/errors.parquet``); the output is written to a temporary name and renamed, so a
    reader never sees half a file."""
    engine = canonical(engine)
    # a loan that fails the whole chunk (values past validation) becomes an error row
    compute = isolating({COMPILED: compute_chunk, REFERENCE: kernel_chunk}[engine])
    for table in TABLES:
        if not (snapshot / f"{table}.parquet").exists():
            raise FileNotFoundError(f"snapshot {snapshot} has no {table}.parquet")
    out.mkdir(parents=True, exist_ok=True)
    stats = RunStats()
    chunks = iter_chunks(snapshot, chunk_loans, verify_checksums=verify_checksums)
    total = -(
        -pl.scan_parquet(snapshot / "loans.parquet").select(pl.len()).collect().item()
        // chunk_loans
    )
    target, partial = out / "loan_state.parquet", out / ".loan_state.parquet.partial"
    # Dictionary encoding only where it pays (one date, a few bucket names): tried on the
    # figures, it would be attempted and given up per column — a third of the write's CPU.
    # Row-group statistics only for the columns a reader filters on (loan_id ranges, the day,
    # delinquency): the min and max of every figure cost a sixth of the write for no reader.
    writer = pq.ParquetWriter(
        partial,
        pl.DataFrame(schema=RESULT_SCHEMA).to_arrow().schema,
        use_dictionary=["as_of", "bucket"],
        write_statistics=list(STATISTICS),
    )
    errors: list[pl.DataFrame] = []
    buckets: list[pl.DataFrame] = []

    def write(results: pl.DataFrame) -> None:
        tick = time.perf_counter()
        writer.write_table(results.to_arrow())
        stats.seconds["write"] += time.perf_counter() - tick

    with (
        ThreadPoolExecutor(1, thread_name_prefix="arrears-write") as background,
        # (the compiled replay loads while the first chunk is read)
        closing(
            _read_ahead(chunks, stats.seconds, warm_up if engine == COMPILED else None)
        ) as ahead,
    ):
        writing: Future[None] | None = None
        try:
            for done, chunk in enumerate(ahead, start=1):
                tock = time.perf_counter()
                results, chunk_errors = compute(
                    *chunk.frames, as_of, validated=True, **chunk.concessions
                )
                del chunk  # its frames go as soon as the results are made
                stats.loans += len(results)
                stats.delinquent += int((results["dpd"] > 0).sum())
                buckets.append(results.group_by("bucket").len())
                errors.append(chunk_errors)
                computed = time.perf_counter()
                stats.seconds["compute"] += computed - tock
                if writing is not None:
                    writing.result()  # one chunk waits to be written at most
                stats.seconds["wait"] += time.perf_counter() - computed
                writing = background.submit(write, results)
                del results
                if progress:
                    progress(done, total)
            if writing is not None:
                tick = time.perf_counter()
                writing.result()
                stats.seconds["wait"] += time.perf_counter() - tick
        finally:
            if writing is not None:
                writing.exception()  # wait for it (its error, if any, is already raised)
            writer.close()
    tick = time.perf_counter()
    partial.replace(target)
    all_errors = pl.concat(errors) if errors else pl.DataFrame(schema=ERROR_SCHEMA)
    all_errors.write_parquet(out / "errors.parquet")
    stats.errors = len(all_errors)
    if buckets:
        totals = pl.concat(buckets).group_by("bucket").agg(pl.col("len").sum())
        stats.per_bucket = dict(totals.iter_rows())
    write_run_record(out, as_of, stats, engine)
    stats.seconds["write"] += time.perf_counter() - tick
    return stats


def _read_ahead(
    chunks: Iterator[Snapshot],
    seconds: dict[str, float],
    meanwhile: Callable[[], None] | None = None,
) -> Generator[Snapshot, None, None]:
    """The chunks of ``chunks``, each read (and validated) by a background thread while the
    caller works on the one before: one chunk ahead, never more, so memory holds at most the
    chunk in hand and the next one. ``seconds["read"]`` adds the reader's time and
    ``seconds["wait"]`` the caller's time waiting for it. ``meanwhile`` runs in the caller's
    thread once the first read has started (work that need not wait for a chunk). A reader
    error (a broken snapshot) is raised here, in the caller's thread, at the chunk it
    concerns."""

    def read() -> Snapshot | None:
        tick = time.perf_counter()
        chunk = next(chunks, None)
        seconds["read"] += time.perf_counter() - tick
        return chunk

    with ThreadPoolExecutor(1, thread_name_prefix="arrears-read") as background:
        reading = background.submit(read)
        try:
            if meanwhile is not None:
                meanwhile()
            while True:
                tick = time.perf_counter()
                chunk = reading.result()
                seconds["wait"] += time.perf_counter() - tick
                if chunk is None:
                    return
                ready = [chunk]
                del chunk
                reading = background.submit(read)
                yield ready.pop()  # (this frame keeps no reference: the caller frees it)
        finally:
            if not reading.cancel():
                reading.exception()  # let a running read finish before the iterator goes
            if hasattr(chunks, "close"):
                chunks.close()


def write_run_record(out: Path, as_of: date, stats: RunStats, engine: str) -> None:
    """``out/run.json``: what the run computed, for whoever picks up ``loan_state.parquet``
    (every engine writes the same record, so a reader need not know which one ran)."""
    (out / "run.json").write_text(
        json.dumps(
            {
                "as_of": as_of.isoformat(),
                "engine": engine,
                "loans": stats.loans,
                "delinquent": stats.delinquent,
                "errors": stats.errors,
                "per_bucket": dict(sorted(stats.per_bucket.items())),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
