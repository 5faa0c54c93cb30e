"""Month-end loan states from the snapshot runners' output, for books too large for the database.

``run-day --snapshot S --out O`` (the local runner: ``O/loan_state.parquet``, or
``O/<date>/loan_state.parquet`` over a range) and the Spark runner (``O/loan_state/as_of=D/
bucket=B/part-….parquet``, Hive-partitioned) write the same columns: the loan-state contract's
``engine.contract.RESULT_SCHEMA``. When ``ARREARS_REPORT_STATES`` names such an output root, the
roll-rate report reads the month ends it holds from there — one lazy Parquet scan, filtered to
the days asked for and to the columns a roll needs — instead of the database; a day the output
does not hold is read from the database as before.

A snapshot output is a day run's result stored outside the database, so it has the same as-of
meaning as a stored day (what the ledger knew when that day was run). Write-offs are a
collections decision, not in the ledger's output: they still come from the case history when
the database has it, and are otherwise absent (the loan shows in its bucket).

No Django here, so ``bench/reports.py --parquet`` times exactly this read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import polars as pl

#: What a roll reads of each state.
ROLL_COLUMNS = ("as_of", "loan_id", "bucket", "payoff")
#: The Spark runner's partition columns and their types (a bucket named ``M1`` stays text).
HIVE_SCHEMA = {"as_of": pl.Date(), "bucket": pl.String()}


def _files(root: Path) -> tuple[list[Path], list[Path]]:
    """The result files under ``root``: the Spark runner's (Hive-partitioned, under a
    ``loan_state`` folder) and the local runner's (``loan_state.parquet``). Error files and
    unfinished ``.partial`` files are never read."""
    hive = sorted(
        p for p in root.rglob("*.parquet") if "loan_state" in p.parts and "=" in p.parent.name
    )
    local = sorted(root.rglob("loan_state.parquet"))
    return hive, local


def month_end_states(
    root: str | Path, days: Iterable[date], columns: Sequence[str] = ROLL_COLUMNS
) -> pl.DataFrame:
    """``columns`` of every loan state under ``root`` whose ``as_of`` is one of ``days``, in
    no particular order (the roll's transitions sort by their own key; sorting 12M rows here
    cost more than the scan). An empty frame of the right shape when none is there."""
    wanted = sorted(set(days))
    hive, local = _files(Path(root))
    frames = []
    if hive:
        frames.append(
            pl.scan_parquet(hive, hive_partitioning=True, hive_schema=HIVE_SCHEMA)
            .filter(pl.col("as_of").is_in(wanted))
            .select(columns)
        )
    if local:
        frames.append(pl.scan_parquet(local).filter(pl.col("as_of").is_in(wanted)).select(columns))
    if not frames:
        return pl.DataFrame(schema=_schema(columns))
    schema = _schema(columns)
    # each scan collected on its own: a lazy concat of the two kept the partition filter from
    # reaching the Hive scan (5x slower on 12M rows)
    return pl.concat([frame.collect().cast(schema) for frame in frames])  # type: ignore[arg-type]


def _schema(columns: Sequence[str]) -> dict[str, pl.DataType]:
    from arrears.engine.contract import RESULT_SCHEMA

    return {name: RESULT_SCHEMA[name] for name in columns}
