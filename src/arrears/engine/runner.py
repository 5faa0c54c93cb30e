"""The Polars runner: a snapshot directory in, ``loan_state.parquet`` out, in bounded memory.

Loans are taken in loan_id ranges of ``chunk_loans``; each chunk's instalments and payments are
read with a range filter that Parquet row-group statistics make cheap (the snapshot files are
sorted by loan_id), computed by :func:`arrears.engine.chunk.compute_chunk` and appended to the
output file, so peak memory is one chunk, not the portfolio. A version 2 snapshot's waivers and
plans go with their chunk, so those loans are replayed by the kernel with them: every loan's
figures are the database path's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from arrears.engine.chunk import ERROR_SCHEMA, RESULT_SCHEMA, compute_chunk, kernel_chunk
from arrears.engine.names import COMPILED, REFERENCE, canonical
from arrears.engine.snapshot.read import iter_chunks

#: The files every snapshot has (version 1 and 2); the reader checks the rest by version.
TABLES = ("products", "loans", "instalments", "payments")


@dataclass
class RunStats:
    """What a snapshot run did and how long each stage took (seconds)."""

    loans: int = 0
    delinquent: int = 0
    errors: int = 0
    per_bucket: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(
        default_factory=lambda: {"read": 0.0, "compute": 0.0, "write": 0.0}
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
    chunk_loans: int = 1_000_000,
    engine: str = COMPILED,
    verify_checksums: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> RunStats:
    """Compute every loan of ``snapshot`` as of ``as_of`` into ``out/loan_state.parquet``
    (and ``out/errors.parquet``); the output is written to a temporary name and renamed, so a
    reader never sees half a file."""
    engine = canonical(engine)
    compute = {COMPILED: compute_chunk, REFERENCE: kernel_chunk}[engine]
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
    writer = pq.ParquetWriter(partial, pl.DataFrame(schema=RESULT_SCHEMA).to_arrow().schema)
    errors: list[pl.DataFrame] = []
    buckets: list[pl.DataFrame] = []
    try:
        done = 0
        while True:
            tick = time.perf_counter()
            chunk = next(chunks, None)  # read and validated (SnapshotError names file and row)
            if chunk is None:
                break
            done += 1
            tock = time.perf_counter()
            results, chunk_errors = compute(
                *chunk.frames, as_of, validated=True, **chunk.concessions
            )
            computed = time.perf_counter()
            writer.write_table(results.to_arrow())
            stats.seconds["read"] += tock - tick
            stats.seconds["compute"] += computed - tock
            stats.seconds["write"] += time.perf_counter() - computed
            stats.loans += len(results)
            stats.delinquent += int((results["dpd"] > 0).sum())
            buckets.append(results.group_by("bucket").len())
            errors.append(chunk_errors)
            if progress:
                progress(done, total)
    finally:
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
